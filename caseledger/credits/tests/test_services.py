from __future__ import annotations

from datetime import date

import pytest

from caseledger.core.models import AuditEvent
from caseledger.credits import exceptions as E
from caseledger.credits.choices import (
    CreditNoteStatus,
    ReasonCode,
    RefundMethod,
    RefundSource,
    RefundStatus,
    WriteOffStatus,
)
from caseledger.credits.models import CreditNote, CreditRefund, WriteOff
from caseledger.credits.services import (
    LineInput,
    credit_note_approve,
    credit_note_reject,
    credit_note_request,
    write_off_approve,
    write_off_request,
    write_off_reverse,
)
from caseledger.credits.tests import factories as F
from caseledger.ledger import accounts as A
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.selectors import account_balance, ledger_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def inv(users):
    m = F.matter(partner=users["PARTNER"])
    return F.invoice(matter_obj=m, cents=100_000, issued=date(2026, 9, 1), due=date(2026, 10, 1))


def _settlement(invoice):
    from caseledger.payments.models import InvoiceSettlement

    return InvoiceSettlement.objects.get(invoice=invoice)


def test_small_partial_credit_is_issued_at_once_and_reduces_the_balance(users, now, inv):
    ar_before = account_balance(code=A.ACCOUNTS_RECEIVABLE)
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=25_000,
        actor=users["BILLING"],
        now=now,
    )
    assert note.status == CreditNoteStatus.ISSUED
    assert note.number == "CN-2026-000001"
    assert (note.balance_cents, note.client_credit_cents) == (25_000, 0)
    assert _settlement(inv).balance_due_cents == 75_000
    assert account_balance(code=A.ACCOUNTS_RECEIVABLE) == ar_before - 25_000
    assert note.entry_id is not None
    entry = JournalEntry.objects.get(pk=note.entry_id)
    assert entry.kind == EntryKind.CREDIT_NOTE
    assert AuditEvent.objects.filter(action="credits.credit_note_issued").count() == 1
    assert ledger_verify() == []


def test_per_line_credit_sums_the_lines(users, now, inv):
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.SCOPE_CHANGE,
        lines=[LineInput("Premium processing not used", 10_000), LineInput("RFE prep", 5_000)],
        actor=users["BILLING"],
        now=now,
    )
    assert note.amount_cents == 15_000
    assert list(note.lines.values_list("position", "amount_cents")) == [(1, 10_000), (2, 5_000)]


def test_credit_over_what_is_left_refused_and_nothing_changed(users, now, inv):
    credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=40_000,
        actor=users["BILLING"],
        now=now,
    )
    entries = JournalEntry.objects.count()
    with pytest.raises(E.CreditError) as info:
        credit_note_request(
            invoice=inv,
            reason_code=ReasonCode.BILLING_ERROR,
            amount_cents=60_001,
            actor=users["BILLING"],
            now=now,
        )
    assert info.value.message == (
        f"amount: $600.01 is over what is left to credit on invoice {inv} ($600.00: total "
        "$1,000.00, already credited or waiting for approval $400.00, written off $0.00)"
    )
    assert CreditNote.objects.count() == 1
    assert JournalEntry.objects.count() == entries


def test_other_reason_needs_text(users, now, inv):
    with pytest.raises(E.CreditError) as info:
        credit_note_request(
            invoice=inv,
            reason_code=ReasonCode.OTHER,
            amount_cents=100,
            actor=users["BILLING"],
            now=now,
        )
    assert info.value.message == E.REASON_TEXT_REQUIRED


def test_above_threshold_waits_for_a_partner_who_is_not_the_requester(users, now, inv):
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=60_000,  # firm threshold 500.00
        actor=users["PARTNER"],
        now=now,
    )
    assert note.status == CreditNoteStatus.PENDING_APPROVAL
    assert note.number is None
    assert _settlement(inv).balance_due_cents == 100_000
    with pytest.raises(E.CreditError) as info:
        credit_note_approve(credit_note=note, approver=users["PARTNER"], now=now)
    assert info.value.message == f"approver: the person who requested {note} cannot approve it"
    credit_note_approve(credit_note=note, approver=users["ADMIN"], now=now)
    assert note.status == CreditNoteStatus.ISSUED
    assert _settlement(inv).balance_due_cents == 40_000


def test_billing_cannot_approve(users, now, inv):
    from caseledger.core.exceptions import NotPermitted

    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.FEE_WAIVER,
        amount_cents=1_000,
        actor=users["BILLING"],
        now=now,
    )
    assert note.status == CreditNoteStatus.PENDING_APPROVAL  # reason code needs approval
    with pytest.raises(NotPermitted):
        credit_note_approve(credit_note=note, approver=users["BILLING"], now=now)


def test_rejected_note_frees_the_amount_and_uses_no_number(users, now, inv):
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.COURTESY_DISCOUNT,
        amount_cents=100_000,
        actor=users["BILLING"],
        now=now,
    )
    with pytest.raises(E.CreditError):
        credit_note_reject(credit_note=note, approver=users["PARTNER"], now=now, note="  ")
    credit_note_reject(credit_note=note, approver=users["PARTNER"], now=now, note="not agreed")
    assert note.status == CreditNoteStatus.REJECTED
    again = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=100,
        actor=users["BILLING"],
        now=now,
    )
    assert again.number == "CN-2026-000001"


def test_credit_on_a_paid_invoice_becomes_payment_credit_and_part_is_refunded_by_check(
    users, now, inv
):
    from caseledger.payments.models import CreditRefund as PaymentRefund

    payment = F.pay(invoice_obj=inv, cents=100_000, day=date(2026, 10, 5))
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.SCOPE_CHANGE,
        amount_cents=30_000,
        refund_cents=20_000,
        refund_method=RefundMethod.CHECK,
        actor=users["BILLING"],
        now=now,
    )
    assert (note.balance_cents, note.client_credit_cents) == (0, 30_000)
    payment.refresh_from_db()
    assert payment.unapplied_cents == 10_000  # 30,000 back on the payment, 20,000 refunded
    refund = CreditRefund.objects.get(credit_note=note)
    assert (refund.source, refund.method, refund.status) == (
        RefundSource.OPERATING,
        RefundMethod.CHECK,
        RefundStatus.POSTED,
    )
    assert PaymentRefund.objects.get(payment=payment).amount_cents == 20_000
    assert account_balance(code=A.UNAPPLIED_CLIENT_CREDITS) == 10_000
    assert _settlement(inv).balance_due_cents == 0
    assert ledger_verify() == []


def test_split_on_partly_paid_invoice(users, now, inv):
    F.pay(invoice_obj=inv, cents=70_000, day=date(2026, 10, 5))
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.OVERPAYMENT,
        amount_cents=45_000,
        refund_cents=15_000,
        refund_method=RefundMethod.TRANSFER,
        actor=users["BILLING"],
        now=now,
    )
    assert (note.balance_cents, note.client_credit_cents) == (30_000, 15_000)
    assert _settlement(inv).balance_due_cents == 0


def test_card_refund_goes_back_through_the_provider(
    users, now, inv, django_capture_on_commit_callbacks
):
    """The card is refunded after the credit note's transaction commits; the note's refund
    follows the processor's answer (sent, then refunded with the processor's refund id)."""
    F.pay(invoice_obj=inv, cents=100_000, day=date(2026, 10, 5), method="CARD", provider="sandbox")
    with django_capture_on_commit_callbacks() as callbacks:
        note = credit_note_request(
            invoice=inv,
            reason_code=ReasonCode.DUPLICATE_PAYMENT,
            amount_cents=10_000,
            refund_cents=10_000,
            refund_method=RefundMethod.CARD,
            actor=users["BILLING"],
            now=now,
        )
    refund = CreditRefund.objects.get(credit_note=note)
    assert refund.method == RefundMethod.CARD
    assert (refund.status, refund.reference) == (RefundStatus.CARD_REQUESTED, "")
    for callback in callbacks:
        callback()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.POSTED
    assert refund.reference.startswith("sbx_re_")
    assert ledger_verify() == []


def test_refund_over_the_client_credit_refused(users, now, inv):
    F.pay(invoice_obj=inv, cents=50_000, day=date(2026, 10, 5))
    with pytest.raises(E.CreditError) as info:
        credit_note_request(
            invoice=inv,
            reason_code=ReasonCode.OVERPAYMENT,
            amount_cents=60_000,
            refund_cents=20_000,
            refund_method=RefundMethod.CHECK,
            actor=users["BILLING"],
            now=now,
        )
    assert info.value.message == (
        "refund: $200.00 is over the unapplied credit this credit note creates ($100.00); only the "
        "part of the invoice already paid can be refunded"
    )
    assert not CreditNote.objects.exists()


def test_trust_paid_invoice_refunds_only_through_a_disbursement(users, now, inv):
    from caseledger.trust.models import Disbursement

    F.trust_deposit(matter_obj=inv.matter, cents=100_000, day=date(2026, 9, 2))
    F.trust_pay(invoice_obj=inv, cents=100_000, day=date(2026, 9, 3), actor=users["BILLING"])
    with pytest.raises(E.CreditError) as info:
        credit_note_request(
            invoice=inv,
            reason_code=ReasonCode.SCOPE_CHANGE,
            amount_cents=20_000,
            refund_cents=20_000,
            refund_method=RefundMethod.CHECK,
            actor=users["BILLING"],
            now=now,
        )
    assert info.value.message == (
        f"refund_method: invoice {inv} was paid from trust; the refund must go back through a "
        "trust disbursement with its approvals, not by check"
    )
    trust_before = account_balance(code=A.CLIENT_TRUST_LIABILITY)
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.SCOPE_CHANGE,
        amount_cents=20_000,
        refund_cents=15_000,
        refund_method=RefundMethod.TRUST,
        actor=users["BILLING"],
        now=now,
    )
    # The whole 200.00 went back to the client's trust ledger; 150.00 waits for approvals.
    assert account_balance(code=A.CLIENT_TRUST_LIABILITY) == trust_before + 20_000
    refund = CreditRefund.objects.get(credit_note=note)
    assert refund.status == RefundStatus.AWAITING_DISBURSEMENT
    assert refund.external_id is not None
    disbursement = Disbursement.objects.get(pk=refund.external_id)
    assert (disbursement.purpose, disbursement.amount_cents) == ("REFUND", 15_000)
    assert ledger_verify() == []


def test_write_off_below_threshold_posts_and_can_be_reversed(users, now, inv):
    F.pay(invoice_obj=inv, cents=70_000, day=date(2026, 10, 5))
    wo = write_off_request(
        invoice=inv, reason="Client unreachable", actor=users["BILLING"], now=now
    )
    assert (wo.status, wo.amount_cents) == (WriteOffStatus.POSTED, 30_000)
    assert _settlement(inv).balance_due_cents == 0
    assert account_balance(code=A.WRITE_OFFS) == 30_000
    write_off_reverse(write_off=wo, reason="Client paid", actor=users["BILLING"], now=now)
    assert wo.status == WriteOffStatus.REVERSED
    assert _settlement(inv).balance_due_cents == 30_000
    assert account_balance(code=A.WRITE_OFFS) == 0
    assert JournalEntry.objects.filter(kind=EntryKind.WRITE_OFF_REVERSAL).count() == 1
    assert ledger_verify() == []


def test_write_off_above_threshold_waits_for_partner(users, now, inv):
    wo = write_off_request(invoice=inv, reason="Bankrupt", actor=users["BILLING"], now=now)
    assert wo.status == WriteOffStatus.PENDING_APPROVAL
    assert _settlement(inv).balance_due_cents == 100_000
    write_off_approve(write_off=wo, approver=users["PARTNER"], now=now)
    assert wo.status == WriteOffStatus.POSTED
    assert _settlement(inv).balance_due_cents == 0


def test_write_off_of_a_paid_invoice_refused(users, now, inv):
    F.pay(invoice_obj=inv, cents=100_000, day=date(2026, 10, 5))
    with pytest.raises(E.CreditError) as info:
        write_off_request(invoice=inv, reason="x", actor=users["BILLING"], now=now)
    assert info.value.message == f"invoice: {inv} has nothing left to write off (balance due 0.00)"
    assert not WriteOff.objects.exists()
