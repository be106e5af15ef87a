"""Credit per invoice line: never more than is left to credit on that line."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.credits import exceptions as E
from caseledger.credits.services import LineInput, credit_note_request
from caseledger.credits.tests import factories as F

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice_with_lines():
    return F.invoice(matter_obj=F.matter(), cents=100_000, issued=date(2026, 9, 1))


def test_line_credit_over_what_is_left_on_the_line_refused(users, now, invoice_with_lines):
    from caseledger.billing.models import InvoiceLine

    inv = invoice_with_lines
    lines = list(InvoiceLine.objects.filter(invoice=inv).order_by("id"))
    assert lines, "the factory's invoice has lines"
    line = lines[0]
    credit_note_request(
        invoice=inv,
        reason_code="SCOPE_CHANGE",
        lines=[LineInput(line.description, line.amount_cents - 100, line.pk)],
        actor=users["BILLING"],
        now=now,
    )
    with pytest.raises(E.CreditError) as info:
        credit_note_request(
            invoice=inv,
            reason_code="SCOPE_CHANGE",
            lines=[LineInput(line.description, 101, line.pk)],
            actor=users["BILLING"],
            now=now,
        )
    assert info.value.message == (
        "lines[0].amount: $1.01 is over what is left to credit on that invoice line ($1.00)"
    )


def test_line_of_another_invoice_refused(users, now, invoice_with_lines):
    with pytest.raises(E.CreditError) as info:
        credit_note_request(
            invoice=invoice_with_lines,
            reason_code="SCOPE_CHANGE",
            lines=[LineInput("x", 100, 987654)],
            actor=users["BILLING"],
            now=now,
        )
    assert info.value.message == f"lines[0]: that line is not on invoice {invoice_with_lines}"
