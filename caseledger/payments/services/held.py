"""Held online payments (amount or currency other than asked): released after review or
rejected."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from caseledger.core import audit
from caseledger.core.models import User
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.services import entry_post
from caseledger.payments import hooks, locks
from caseledger.payments.choices import (
    CheckoutPurpose,
    CheckoutStatus,
    PaymentStatus,
)
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    CheckoutSession,
    InvoiceSettlement,
    Payment,
)
from caseledger.payments.receipts import payment_receipt_queue
from caseledger.payments.services.checkout import (
    _HOLD_RELEASE_HANDLERS,
    _checkout_allocations,
)
from caseledger.payments.services.common import _allocations_record, _receipt_lines
from caseledger.payments.transitions import PAYMENT_TRANSITIONS

HOLD_NOT_HELD = "payment: {payment} is not held for review"


def held_payment_release(*, payment: Payment, actor: User, now: datetime) -> Payment:
    """Post a held online payment after review: an invoice payment is applied to its invoice up
    to the balance due (the rest unapplied credit); a trust-request payment goes to trust."""
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        session = payment.checkout
        # An invoice payment is received; a trust-request payment goes to trust.
        released = (
            PaymentStatus.TO_TRUST
            if session is not None and session.purpose != CheckoutPurpose.INVOICE
            else PaymentStatus.RECEIVED
        )
        if not PAYMENT_TRANSITIONS.can(payment.status, released):
            raise PaymentError(HOLD_NOT_HELD.format(payment=payment), field="payment")
        assert session is not None
        if session.purpose == CheckoutPurpose.INVOICE:
            allocations, invoices = _checkout_allocations(session, payment.amount_cents)
            settlements: dict[int, InvoiceSettlement] = locks.lock_invoice_settlements(invoices)
            total = sum(a.amount_cents for a in allocations)
            unapplied = payment.amount_cents - total
            entry = entry_post(
                kind=EntryKind.PAYMENT_RECEIVED,
                entry_date=payment.received_date,
                memo=f"Held payment {payment.number} released",
                lines=_receipt_lines(
                    client=payment.client,
                    matter=payment.matter,
                    amount_cents=payment.amount_cents,
                    fee_cents=payment.fee_cents,
                    allocations=allocations,
                    unapplied_cents=unapplied,
                ),
                actor=actor,
                now=now,
            )
            _allocations_record(
                payment=payment,
                allocations=allocations,
                settlements=settlements,
                applied_date=payment.received_date,
                entry=entry,
                actor=actor,
                now=now,
            )
            Payment.objects.filter(pk=payment.pk).update(
                status=PaymentStatus.RECEIVED, entry=entry, unapplied_cents=unapplied
            )
            payment.refresh_from_db()
            hooks.receipt_linked(payment=payment)
            payment_receipt_queue(payment=payment, invoices=invoices, now=now)
        else:
            _HOLD_RELEASE_HANDLERS[session.purpose](
                payment=payment, session=session, actor=actor, now=now
            )
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.TO_TRUST)
        CheckoutSession.objects.filter(pk=session.pk).update(status=CheckoutStatus.PAID)
        payment.refresh_from_db()
        audit.record(
            actor=actor,
            action="payments.held_released",
            at=now,
            obj=payment,
            before={"status": PaymentStatus.HELD},
            after={"status": payment.status},
        )
    return payment


def held_payment_reject(*, payment: Payment, actor: User, now: datetime, note: str) -> Payment:
    """Refuse a held payment (returned to the payer at the provider): nothing is posted."""
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        if not PAYMENT_TRANSITIONS.can(payment.status, PaymentStatus.REJECTED):
            raise PaymentError(HOLD_NOT_HELD.format(payment=payment), field="payment")
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.REJECTED, memo=note[:300])
        payment.refresh_from_db()
        audit.record(
            actor=actor,
            action="payments.held_rejected",
            at=now,
            obj=payment,
            before={"status": PaymentStatus.HELD},
            after={"status": payment.status, "note": note},
        )
    return payment
