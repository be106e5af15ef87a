"""The reminder letter PDF read back as text: addressee whole, the invoice's dates and terms
from one rule, the balance, the stage's message and an absolute pay link from SITE_URL."""

from __future__ import annotations

import re
from datetime import date

import pytest

from caseledger.collections.models import Reminder
from caseledger.collections.pdf import render_reminder_letter
from caseledger.collections.services import collections_run
from caseledger.core.tests.pdf_text import long_name, pdf_text
from caseledger.credits.tests import factories as F
from caseledger.payments.links import invoice_from_token, invoice_pay_url

pytestmark = pytest.mark.django_db

LONG_CLIENT = long_name("Northwind")


def test_letter_prints_the_addressee_terms_balance_and_an_absolute_pay_link(now, settings):
    settings.SITE_URL = "http://127.0.0.1:8101"
    client = F.client(name=LONG_CLIENT)
    invoice = F.invoice(
        matter_obj=F.matter(client_obj=client),
        cents=123_456,
        issued=date(2026, 7, 1),
        due=date(2026, 7, 31),
    )
    collections_run(run_date=date(2026, 9, 1), now=now, deliver=False)
    letter = Reminder.objects.get(invoice=invoice, channel="LETTER")
    text = pdf_text(render_reminder_letter(letter))
    assert LONG_CLIENT in text
    assert "…" not in text
    assert (
        f"Invoice no. {invoice.number} Invoice date Jul 1, 2026 Due date Jul 31, 2026 "
        "Terms Net 30 Balance due $1,234.56"
    ) in text
    assert "Due on receipt" not in text
    assert f"Re: Formal notice: invoice {invoice.number} is 32 days past due" in text
    assert "The balance due is $1,234.56." in text
    # The link is signed with the time it was made: read it back from the letter and check it
    # opens this invoice (a link made here a second later would differ only in its stamp).
    assert invoice_pay_url(invoice.pk).startswith("http://127.0.0.1:8101/pay/i/")
    printed = re.search(r"http://127\.0\.0\.1:8101/pay/i/(\S+?)/", text)
    assert printed is not None, text
    assert invoice_from_token(printed.group(1)) == invoice.pk
