"""Reversing a posted payment: mirror entries naming the originals (the payment's and each
later application of its credit), the invoices it paid owe again, partner approval above the
firm's threshold, refused once any of it was refunded. Nothing is deleted."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as A
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.selectors import account_balance, ledger_verify
from caseledger.payments import corrections, services
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import CorrectionSettings, Payment
from caseledger.payments.selectors import invoice_balance_due
from caseledger.payments.services import Allocation
from caseledger.payments.tests.factories import MatterFactory, issued_invoice

pytestmark = pytest.mark.django_db


def record(matter, now, cents, **kw):
    return services.payment_record(
        client=matter.client,
        method="CHECK",
        payer="Acme",
        reference="1001",
        amount_cents=cents,
        received_date=date(2026, 11, 2),
        actor=None,
        now=now,
        **kw,
    )


def test_reversal_unpays_the_invoices_and_its_applied_credit(users, now):
    m = MatterFactory()
    a = issued_invoice(matter=m, cents=30_000, now=now, day=date(2026, 9, 1))
    b = issued_invoice(matter=m, cents=40_000, now=now, day=date(2026, 10, 1))
    payment = record(m, now, 50_000, allocations=[Allocation(a, 30_000)])
    services.payment_allocate(
        payment=payment, allocations=[Allocation(b, 5_000)], actor=users["BILLING"], now=now
    )
    assert invoice_balance_due(b) == 35_000
    reversal = corrections.payment_reversal_request(
        payment=payment, reason="check returned unpaid", actor=users["BILLING"], now=now
    )
    assert reversal.status == "POSTED"
    assert reversal.entry.reverses_id == payment.entry_id
    payment.refresh_from_db()
    assert (payment.status, payment.unapplied_cents) == ("REVERSED", 0)
    assert invoice_balance_due(a) == 30_000
    assert invoice_balance_due(b) == 40_000
    assert account_balance(code=A.UNAPPLIED_CLIENT_CREDITS) == 0
    assert account_balance(code=A.ACCOUNTS_RECEIVABLE) == 70_000
    assert JournalEntry.objects.filter(reverses__isnull=False).count() == 2
    assert AuditEvent.objects.filter(action="payments.payment_reversed").count() == 1
    with pytest.raises(PaymentError) as exc:
        corrections.payment_reversal_request(
            payment=payment, reason="again", actor=users["BILLING"], now=now
        )
    assert exc.value.message == (
        f"payment: {payment.number} is reversed; only a received payment can be reversed"
    )
    assert ledger_verify() == []


def test_refused_once_any_of_it_was_refunded(users, now):
    m = MatterFactory()
    payment = record(m, now, 20_000, allocations=[])
    services.unapplied_credit_refund(
        payment=payment, amount_cents=5_000, method="CHECK", actor=users["BILLING"], now=now
    )
    with pytest.raises(PaymentError) as exc:
        corrections.payment_reversal_request(
            payment=payment, reason="recorded twice", actor=users["BILLING"], now=now
        )
    assert exc.value.message == (
        "payment: cannot be reversed, $50.00 of it was refunded on 2026-11-02 (Check)"
    )
    assert Payment.objects.get(pk=payment.pk).status == "RECEIVED"


def test_above_threshold_a_partner_other_than_the_requester_approves(users, make_user, now):
    CorrectionSettings.objects.create(id=1, reversal_approval_cents=10_000)
    m = MatterFactory()
    inv = issued_invoice(matter=m, cents=30_000, now=now)
    payment = record(m, now, 30_000)
    reversal = corrections.payment_reversal_request(
        payment=payment, reason="check returned", actor=users["PARTNER"], now=now
    )
    assert reversal.status == "REQUESTED"
    assert invoice_balance_due(inv) == 0
    with pytest.raises(PaymentError) as exc:
        corrections.payment_reversal_approve(reversal=reversal, approver=users["PARTNER"], now=now)
    assert exc.value.message == corrections.APPROVER_IS_REQUESTER
    with pytest.raises(PaymentError) as exc:
        corrections.payment_reversal_approve(reversal=reversal, approver=users["BILLING"], now=now)
    assert (
        exc.value.message
        == "approver: only a partner may approve a reversal (got Billing (finance))"
    )
    corrections.payment_reversal_approve(
        reversal=reversal, approver=make_user(role="PARTNER"), now=now
    )
    assert invoice_balance_due(inv) == 30_000


def test_reason_required_and_one_waiting_reversal_at_a_time(users, now):
    CorrectionSettings.objects.create(id=1, reversal_approval_cents=0)
    payment = record(MatterFactory(), now, 10_000, allocations=[])
    with pytest.raises(PaymentError) as exc:
        corrections.payment_reversal_request(
            payment=payment, reason="", actor=users["BILLING"], now=now
        )
    assert (exc.value.message, exc.value.field) == (corrections.REASON_REQUIRED, "reason")
    first = corrections.payment_reversal_request(
        payment=payment, reason="x", actor=users["BILLING"], now=now
    )
    with pytest.raises(PaymentError) as exc:
        corrections.payment_reversal_request(
            payment=payment, reason="y", actor=users["BILLING"], now=now
        )
    assert exc.value.message == (
        f"payment: {payment.number} already has a reversal waiting for approval"
    )
    corrections.payment_reversal_reject(reversal=first, actor=users["BILLING"], now=now)
    assert AuditEvent.objects.filter(action="payments.reversal_rejected").count() == 1
    assert Payment.objects.get(pk=payment.pk).status == "RECEIVED"


def test_reverse_from_the_payment_page(login, users, now):
    m = MatterFactory()
    inv = issued_invoice(matter=m, cents=30_000, now=now)
    payment = record(m, now, 30_000)
    web = login(users["BILLING"])
    from django.urls import reverse

    page = web.post(reverse("payments:reverse", args=[payment.pk]), {"reason": ""})
    assert page.status_code == 200
    html = page.content.decode()
    assert "This field is required." in html
    response = web.post(
        reverse("payments:reverse", args=[payment.pk]), {"reason": "check returned unpaid"}
    )
    assert response.status_code == 302
    assert invoice_balance_due(inv) == 30_000
    page = web.get(reverse("payments:detail", args=[payment.pk])).content.decode()
    assert "check returned unpaid" in page
    assert "Reverse this payment" not in page
