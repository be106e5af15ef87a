"""``manage.py verify_invoices``: state and balance of every invoice against the ledger."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection

from caseledger.credits.choices import ReasonCode
from caseledger.credits.services import credit_note_request, write_off_request
from caseledger.credits.tests import factories as F
from caseledger.ledger.tests.factories import make_invoice
from caseledger.payments.models import InvoiceSettlement
from caseledger.payments.selectors import invoices_verify

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 2)


@pytest.fixture
def invoices(users, now):
    m = F.matter(partner=users["PARTNER"])
    paid, partly, credited, written_off, unpaid = (
        F.invoice(matter_obj=m, cents=50_000, issued=date(2026, 9, 1), due=date(2026, 10, 1))
        for _ in range(5)
    )
    F.pay(invoice_obj=paid, cents=50_000, day=date(2026, 9, 5))
    F.pay(invoice_obj=partly, cents=10_000, day=date(2026, 9, 5))
    F.pay(invoice_obj=credited, cents=50_000, day=date(2026, 9, 5))
    credit_note_request(
        invoice=credited,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=50_000,
        actor=users["PARTNER"],
        now=now,
    )
    write_off_request(invoice=written_off, reason="Gone", actor=users["PARTNER"], now=now)
    make_invoice(matter=m, client=m.client, status="VOID", total_cents=5_000)
    return {"paid": paid, "partly": partly, "unpaid": unpaid}


def test_everything_agrees(invoices, capsys):
    assert invoices_verify(as_of=AS_OF) == []
    call_command("verify_invoices", "--as-of", "2026-11-02")
    assert "match the ledger" in capsys.readouterr().out


def test_a_tampered_settlement_row_is_reported(invoices, capsys):
    inv = invoices["unpaid"]
    settlement = InvoiceSettlement.objects.get(invoice=inv)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_invoicesettlement SET paid_cents = %s WHERE id = %s",
            [50_000, settlement.pk],
        )
    problems = invoices_verify(as_of=AS_OF)
    name = f"invoice {inv.number} (#{inv.pk})"
    assert problems == [
        f"{name}: paid 500.00 in the settlement, 0.00 in the ledger",
        f"{name}: balance due 0.00 shown, A/R balance 500.00 in the ledger",
        f"{name}: shown as paid, the ledger says overdue",
    ]
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_invoices", "--as-of", "2026-11-02")
    assert exit_info.value.code == 1
    out = capsys.readouterr()
    assert problems[0] in out.out
    assert "3 difference(s)" in out.err


def test_a_tampered_write_off_is_reported(invoices):
    inv = invoices["partly"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_invoicesettlement SET written_off_cents = %s WHERE invoice_id = %s",
            [1_000, inv.pk],
        )
    problems = invoices_verify(as_of=AS_OF)
    name = f"invoice {inv.number} (#{inv.pk})"
    assert f"{name}: written off 10.00 in the settlement, 0.00 in the ledger" in problems
    assert f"{name}: balance due 390.00 shown, A/R balance 400.00 in the ledger" in problems
