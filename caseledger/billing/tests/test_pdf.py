"""The invoice PDF read back as text: long names whole, payment terms that agree with the due
date, totals, and the pay link absolute from SITE_URL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core import mail

from caseledger.billing import services
from caseledger.billing.calc import payment_terms_label
from caseledger.billing.models import InvoicePdf
from caseledger.billing.tests.factories import approved_draft
from caseledger.clients.tests.factories import make_beneficiary, make_company
from caseledger.core.tests.pdf_text import long_name, pdf_text
from caseledger.matters.tests.factories import make_matter

pytestmark = pytest.mark.django_db

LONG_CLIENT = long_name("Northwind")
LONG_BENEFICIARY = long_name("Anushka")
LONG_MATTER = long_name("Petition")
SITE = "https://billing.example-law.com:8443"


@pytest.mark.parametrize(
    ("issued", "due", "label"),
    [
        (date(2026, 11, 2), date(2026, 11, 2), "Due on receipt"),
        (date(2026, 11, 2), date(2026, 12, 2), "Net 30"),
        (date(2026, 11, 2), date(2026, 11, 16), "Net 14"),
        (None, None, ""),
    ],
)
def test_payment_terms_come_from_the_dates(issued, due, label):
    assert payment_terms_label(issue_date=issued, due_date=due) == label


def issue(world: Any, *, terms_days: int, settings: Any) -> Any:
    settings.SITE_URL = SITE
    client = make_company(
        name=LONG_CLIENT,
        email="ap@northwind.example",
        address_line1="500 Howard Street, Suite 1200",
        city="San Francisco",
        region="CA",
        postal_code="94105",
        payment_terms_days=terms_days,
    )
    matter = make_matter(
        client=client,
        beneficiary=make_beneficiary(client=client, name=LONG_BENEFICIARY),
        title=LONG_MATTER,
    )
    invoice = approved_draft(world, matter=matter)
    invoice = services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    invoice.refresh_from_db()
    return invoice


def test_issued_pdf_prints_names_whole_net_terms_totals_and_an_absolute_pay_link(
    world, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issue(world, terms_days=30, settings=settings)
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 11, 2), date(2026, 12, 2))
    text = pdf_text(bytes(InvoicePdf.objects.get(invoice=invoice).content))
    for whole in (LONG_CLIENT, LONG_BENEFICIARY, LONG_MATTER):
        assert whole in text
    assert "…" not in text
    assert "Issue date Nov 2, 2026 Due date Dec 2, 2026 Terms Net 30" in text
    assert "Net 30: payment is due by December 2, 2026." in text
    assert "Due on receipt" not in text
    assert "Government fees are paid to USCIS at filing." in text
    assert "H-1B petition: preparation and filing" in text
    assert "Legal fees subtotal $3,500.00" in text
    assert "Government fees and costs subtotal $2,780.00" in text
    assert "Total due $6,280.00" in text
    link = services.payment_link_for(invoice=invoice)
    assert link.startswith(f"{SITE}/billing/")
    assert link in text
    # the email carries the same absolute link
    (message,) = mail.outbox
    assert link in message.body


def test_due_on_receipt_only_when_due_on_the_issue_date(world, settings):
    invoice = issue(world, terms_days=0, settings=settings)
    assert invoice.due_date == invoice.issue_date
    text = pdf_text(bytes(InvoicePdf.objects.get(invoice=invoice).content))
    assert "Due date Nov 2, 2026 Terms Due on receipt" in text
    assert "Due on receipt (November 2, 2026)." in text
    assert "Net " not in text
