"""Corrections of posted payments: a reversal with a reason, approved by a partner above the
firm's threshold, refused when the payment's money has already left the firm. Nothing is
deleted: the payment's entry (and each later entry that applied its credit) is reversed by a
mirror entry that names it, the invoices it paid owe again, and every step is an audit event.

Lock order (the global one): invoice settlements in id order -> the payment -> (ledger).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from caseledger.core import audit
from caseledger.core.amounts import firm_money
from caseledger.core.choices import Role
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import User
from caseledger.ledger.services import entry_reverse
from caseledger.payments import locks
from caseledger.payments.choices import PaymentStatus, RefundStatus, ReversalStatus
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    CorrectionSettings,
    InvoiceSettlement,
    Payment,
    PaymentAllocation,
    PaymentReversal,
)
from caseledger.payments.transitions import PAYMENT_TRANSITIONS

REASON_REQUIRED = "reason: say why it is reversed"
THRESHOLD_NEGATIVE = "reversal_approval: must be zero or more (got {amount})"
PAYMENT_NOT_REVERSIBLE = "payment: {payment} is {status}; only a received payment can be reversed"
PAYMENT_REVERSAL_PENDING = "payment: {payment} already has a reversal waiting for approval"
PAYMENT_MONEY_USED = "payment: cannot be reversed, {uses}"
USE_REFUNDED = "{amount} of it was refunded on {day} ({method})"
USE_CREDITED_BACK = (
    "{amount} of its credit came back from a credit note; reverse that credit note's refund path "
    "first"
)
APPROVER_NOT_PARTNER = "approver: only a partner may approve a reversal (got {role})"
APPROVER_IS_REQUESTER = "approver: the requester cannot approve their own reversal"
REVERSAL_NOT_PENDING = "reversal: it is {status}; it can no longer be {action}"
REJECTER_NOT_ALLOWED = "actor: only a partner or the requester may reject a reversal"


def correction_settings_get() -> CorrectionSettings:
    """The firm's correction settings; the defaults (unsaved) until someone saves them."""
    return CorrectionSettings.objects.filter(id=1).first() or CorrectionSettings(id=1)


def correction_settings_update(
    *, reversal_approval_cents: int, actor: User, now: datetime
) -> CorrectionSettings:
    if reversal_approval_cents < 0:
        raise PaymentError(
            THRESHOLD_NEGATIVE.format(amount=firm_money(reversal_approval_cents)),
            field="reversal_approval",
        )
    with transaction.atomic():
        row = correction_settings_get()
        before = row.reversal_approval_cents
        row.reversal_approval_cents = reversal_approval_cents
        row.save()
        audit.record(
            actor=actor,
            action="payments.correction_settings_updated",
            at=now,
            obj=row,
            before={"reversal_approval_cents": before},
            after={"reversal_approval_cents": reversal_approval_cents},
        )
    return row


def needs_approval(amount_cents: int) -> bool:
    """Above the firm's threshold a reversal waits for a partner other than the requester."""
    return amount_cents > correction_settings_get().reversal_approval_cents


def approver_refusal(*, approver: User, requested_by_id: int) -> str | None:
    """The approval rule shared with trust's deposit reversals: a partner, not the requester.
    Returns the refusal message, or None when ``approver`` may approve."""
    if approver.role != Role.PARTNER:
        return APPROVER_NOT_PARTNER.format(role=Role(approver.role).label)
    if approver.pk == requested_by_id:
        return APPROVER_IS_REQUESTER
    return None


def _check_approver(approver: User, requested_by_id: int) -> None:
    refusal = approver_refusal(approver=approver, requested_by_id=requested_by_id)
    if refusal:
        raise PaymentError(refusal, field="approver")


def _money_used(payment: Payment) -> list[str]:
    """What keeps the payment's money from being taken back, in words (empty: nothing)."""
    uses = [
        USE_REFUNDED.format(
            amount=firm_money(r.amount_cents), day=r.refund_date, method=r.get_method_display()
        )
        for r in payment.refunds.exclude(status=RefundStatus.FAILED).order_by("refund_date", "id")
    ]
    allocated = int(
        PaymentAllocation.objects.filter(payment=payment).aggregate(t=Sum("amount_cents"))["t"] or 0
    )
    refunded = int(
        payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(t=Sum("amount_cents"))["t"]
        or 0
    )
    extra = payment.unapplied_cents + allocated + refunded - payment.amount_cents
    if extra > 0:
        uses.append(USE_CREDITED_BACK.format(amount=firm_money(extra)))
    return uses


def _locked(payment: Payment) -> tuple[Payment, dict[int, InvoiceSettlement]]:
    invoices = [a.invoice for a in payment.allocations.select_related("invoice")]
    settlements = locks.lock_invoice_settlements(invoices)
    return locks.lock_payment(payment.pk), settlements


def _check_reversible(payment: Payment) -> None:
    if not PAYMENT_TRANSITIONS.can(payment.status, PaymentStatus.REVERSED):
        raise PaymentError(
            PAYMENT_NOT_REVERSIBLE.format(
                payment=payment, status=payment.get_status_display().lower()
            ),
            field="payment",
        )
    uses = _money_used(payment)
    if uses:
        raise PaymentError(PAYMENT_MONEY_USED.format(uses="; ".join(uses)), field="payment")


def payment_reversal_request(
    *, payment: Payment, reason: str, actor: User, now: datetime
) -> PaymentReversal:
    """Ask to reverse a received payment. At or below the firm's threshold it is reversed at
    once; above it, it waits for a partner (never the requester). Refused (PaymentError, nothing
    changed) without a reason, for a payment not received, one already reversed or waiting, or
    one whose money was refunded."""
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError(REASON_REQUIRED, field="reason")
    with transaction.atomic():
        payment, settlements = _locked(payment)
        if payment.reversals.filter(status=ReversalStatus.REQUESTED).exists():
            raise PaymentError(PAYMENT_REVERSAL_PENDING.format(payment=payment), field="payment")
        _check_reversible(payment)
        try:
            with transaction.atomic():
                reversal = PaymentReversal.objects.create(
                    payment=payment,
                    amount_cents=payment.amount_cents,
                    reason=reason[:300],
                    requested_by=actor,
                    requested_at=now,
                )
        except IntegrityError:
            raise PaymentError(
                PAYMENT_REVERSAL_PENDING.format(payment=payment), field="payment"
            ) from None
        audit.record(
            actor=actor,
            action="payments.reversal_requested",
            at=now,
            obj=payment,
            after={"amount_cents": payment.amount_cents, "reason": reversal.reason},
        )
        if not needs_approval(payment.amount_cents):
            _post(reversal=reversal, payment=payment, settlements=settlements, actor=actor, now=now)
    return reversal


def payment_reversal_approve(
    *, reversal: PaymentReversal, approver: User, now: datetime
) -> PaymentReversal:
    """A partner other than the requester approves: the payment is checked again under its
    locks and reversed."""
    _check_approver(approver, reversal.requested_by_id)
    with transaction.atomic():
        payment, settlements = _locked(reversal.payment)
        reversal = locks.lock_reversal(reversal.pk)
        reversal_pending_check(reversal, action="approved", error=PaymentError)
        _check_reversible(payment)
        _post(reversal=reversal, payment=payment, settlements=settlements, actor=approver, now=now)
    return reversal


def reversal_pending_check(reversal: Any, *, action: str, error: type[ApplicationError]) -> None:
    """Refuse to decide a reversal (a payment's or a trust deposit's) that is no longer waiting
    for approval; ``error`` is the calling app's own error class."""
    if reversal.status != ReversalStatus.REQUESTED:
        raise error(
            REVERSAL_NOT_PENDING.format(
                status=reversal.get_status_display().lower(), action=action
            ),
            field="reversal",
        )


def reversal_reject(
    *,
    reversal: Any,
    actor: User,
    now: datetime,
    note: str,
    error: type[ApplicationError],
    audit_action: str,
    subject: str,
    lock: Callable[[int], Any],
) -> Any:
    """Reject a requested reversal (``PaymentReversal`` or trust's ``DepositReversal``): only a
    partner or the requester may; the row is locked and must still be waiting; the decision and
    its note are audited against the reversed object (``subject``: "payment" or "deposit").
    ``lock`` is the owning app's lock helper for the reversal row (its ``locks.lock_reversal``)."""
    if actor.role != Role.PARTNER and actor.pk != reversal.requested_by_id:
        raise error(REJECTER_NOT_ALLOWED, field="actor")
    with transaction.atomic():
        reversal = lock(reversal.pk)
        reversal_pending_check(reversal, action="rejected", error=error)
        reversal.status = ReversalStatus.REJECTED
        reversal.decided_by = actor
        reversal.decided_at = now
        reversal.decision_note = note.strip()[:300]
        reversal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record(
            actor=actor,
            action=audit_action,
            at=now,
            obj=getattr(reversal, subject),
            before={"status": ReversalStatus.REQUESTED},
            after={"status": reversal.status, "note": reversal.decision_note},
        )
    return reversal


def payment_reversal_reject(
    *, reversal: PaymentReversal, actor: User, now: datetime, note: str = ""
) -> PaymentReversal:
    return reversal_reject(
        reversal=reversal,
        actor=actor,
        now=now,
        note=note,
        error=PaymentError,
        audit_action="payments.reversal_rejected",
        subject="payment",
        lock=locks.lock_reversal,
    )


def _post(
    *,
    reversal: PaymentReversal,
    payment: Payment,
    settlements: dict[int, InvoiceSettlement],
    actor: User,
    now: datetime,
) -> None:
    """Mirror the payment's entry and each later entry that applied its credit (so the invoices
    it paid owe again and its unapplied credit is gone), all in this transaction."""
    memo = f"Reversal of payment {payment.number}: {reversal.reason}"[:500]
    assert payment.entry is not None  # a RECEIVED payment has its entry (a check constraint)
    entry = entry_reverse(entry=payment.entry, actor=actor, now=now, memo=memo)
    credit_entries = sorted(
        {a.entry_id for a in payment.allocations.all() if a.entry_id != payment.entry_id}
    )
    from caseledger.ledger.models import JournalEntry

    for entry_id in credit_entries:
        entry_reverse(entry=JournalEntry.objects.get(pk=entry_id), actor=actor, now=now, memo=memo)
    unpaid: dict[str, int] = {}
    for alloc in payment.allocations.select_related("invoice").order_by("id"):
        InvoiceSettlement.objects.filter(pk=settlements[alloc.invoice_id].pk).update(
            paid_cents=F("paid_cents") - alloc.amount_cents, updated_at=now
        )
        unpaid[str(alloc.invoice)] = unpaid.get(str(alloc.invoice), 0) + alloc.amount_cents
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.REVERSED, unapplied_cents=0)
    reversal.status = ReversalStatus.POSTED
    reversal.entry = entry
    reversal.decided_by = actor
    reversal.decided_at = now
    reversal.save(update_fields=["status", "entry", "decided_by", "decided_at"])
    audit.record(
        actor=actor,
        action="payments.payment_reversed",
        at=now,
        obj=payment,
        before={"status": PaymentStatus.RECEIVED, "unapplied_cents": payment.unapplied_cents},
        after={
            "status": PaymentStatus.REVERSED,
            "entry": entry.pk,
            "reverses": payment.entry_id,
            "invoices_owing_again": unpaid,
            "reason": reversal.reason,
        },
    )
    payment.status = PaymentStatus.REVERSED
