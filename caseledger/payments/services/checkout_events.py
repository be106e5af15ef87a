"""Provider (card/Stripe) webhook events, each handled exactly once: a paid checkout is recorded
(or held when it does not match what was asked), refunds and disputes go to
``payments.provider_events``."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.text import fit_to_field
from caseledger.payments import locks
from caseledger.payments.choices import (
    CheckoutPurpose,
    CheckoutStatus,
    PaymentMethod,
    PaymentStatus,
)
from caseledger.payments.models import (
    CheckoutSession,
    Payment,
    ProcessedWebhookEvent,
)
from caseledger.payments.providers.base import PaymentEvent
from caseledger.payments.receipts import payment_receipt_queue
from caseledger.payments.services.checkout import (
    _CHECKOUT_HANDLERS,
    _checkout_allocations,
)
from caseledger.payments.services.common import (
    _next_number,
)
from caseledger.payments.services.recording import (
    payment_record,
)

AMOUNT_MISMATCH = "amount: the provider reported {paid}, the checkout asked for {asked}"
CURRENCY_MISMATCH = "currency: the provider reported {paid}, the checkout asked for {asked}"


def _record_invoice_checkout(
    *, session: CheckoutSession, event: PaymentEvent, now: datetime
) -> str:
    invoice = session.invoice
    assert invoice is not None
    allocations, invoices = _checkout_allocations(session, event.amount_cents)
    several = len(invoices) > 1
    payment = payment_record(
        client=session.client,
        matter=None if several else session.matter,
        method=PaymentMethod.CARD,
        payer=event.payer or session.client.name,
        reference=event.charge_ref,
        amount_cents=event.amount_cents,
        fee_cents=event.fee_cents,
        received_date=clock.firm_date(now),
        allocations=allocations,
        provider=session.provider,
        checkout=session,
        actor=None,
        now=now,
        memo=f"Online payment of {', '.join(str(inv) for inv in invoices)}",
    )
    payment_receipt_queue(payment=payment, invoices=invoices, now=now)
    return f"recorded {payment.number}"


def _hold(*, session: CheckoutSession, event: PaymentEvent, now: datetime, reason: str) -> Payment:
    payment = Payment.objects.create(
        number=_next_number("payment", "P"),
        client=session.client,
        matter=session.matter,
        method=PaymentMethod.CARD,
        status=PaymentStatus.HELD,
        payer=fit_to_field(Payment, "payer", event.payer or session.client.name),
        reference=fit_to_field(Payment, "reference", event.charge_ref),
        received_date=clock.firm_date(now),
        amount_cents=event.amount_cents,
        fee_cents=min(event.fee_cents, event.amount_cents),
        provider=session.provider,
        checkout=session,
        held_reason=fit_to_field(Payment, "held_reason", reason),
        created_at=now,
    )
    audit.record(
        actor=None,
        action="payments.payment_held",
        at=now,
        obj=payment,
        after={
            "reason": reason,
            "amount_cents": event.amount_cents,
            "expected_cents": session.amount_cents,
        },
        actor_label=f"webhook {session.provider}",
    )
    return payment


def checkout_event_process(*, event: PaymentEvent, provider: str, now: datetime) -> str:
    """Handle one verified provider event exactly once.

    The event id row is inserted first in the same transaction that records the money: a
    redelivered or concurrent duplicate fails on the unique constraint (after the first commits)
    and records nothing. Returns a short outcome for the webhook log.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                processed = ProcessedWebhookEvent.objects.create(
                    provider=provider,
                    event_id=event.event_id,
                    event_type=fit_to_field(ProcessedWebhookEvent, "event_type", event.event_type),
                    outcome="processing",
                    payload=event.payload,
                    processed_at=now,
                )
        except IntegrityError:
            return "duplicate event"
        outcome = _checkout_event_apply(event=event, provider=provider, now=now)
        ProcessedWebhookEvent.objects.filter(pk=processed.pk).update(
            outcome=fit_to_field(ProcessedWebhookEvent, "outcome", outcome)
        )
    return outcome


def _checkout_event_apply(*, event: PaymentEvent, provider: str, now: datetime) -> str:
    from caseledger.payments import provider_events

    if event.kind == "refunded":
        return provider_events.provider_refund_event_apply(event=event, provider=provider, now=now)
    if event.kind in {"dispute_created", "dispute_closed"}:
        return provider_events.provider_dispute_event_apply(event=event, provider=provider, now=now)
    if event.kind == "ignored" or not event.provider_session_id:
        return "ignored"
    session = locks.lock_checkout(
        fit_to_field(CheckoutSession, "provider_session_id", event.provider_session_id)
    )
    if session is None:
        return "unknown checkout session"
    if session.status in {CheckoutStatus.PAID, CheckoutStatus.HELD}:
        return f"checkout already {session.get_status_display().lower()}"
    before = session.status
    if event.kind == "processing":
        session.status = CheckoutStatus.PROCESSING
        outcome = "awaiting settlement"
    elif event.kind == "failed":
        session.status = CheckoutStatus.DECLINED
        outcome = "declined"
    elif event.kind == "expired":
        session.status = CheckoutStatus.EXPIRED
        outcome = "expired"
    elif event.kind == "paid":
        reason = ""
        if event.currency.upper() != session.currency.upper():
            reason = CURRENCY_MISMATCH.format(paid=event.currency.upper(), asked=session.currency)
        elif event.amount_cents != session.amount_cents:
            reason = AMOUNT_MISMATCH.format(
                paid=firm_money(event.amount_cents), asked=firm_money(session.amount_cents)
            )
        if reason:
            payment = _hold(session=session, event=event, now=now, reason=reason)
            session.status = CheckoutStatus.HELD
            outcome = f"held {payment.number}: {reason}"
        else:
            if session.purpose == CheckoutPurpose.INVOICE:
                outcome = _record_invoice_checkout(session=session, event=event, now=now)
            else:
                outcome = _CHECKOUT_HANDLERS[session.purpose](session=session, event=event, now=now)
            session.status = CheckoutStatus.PAID
        session.completed_at = now
        session.payment_ref = fit_to_field(CheckoutSession, "payment_ref", event.charge_ref)
    else:
        return "ignored"
    session.save(update_fields=["status", "completed_at", "payment_ref"])
    audit.record(
        actor=None,
        action="payments.checkout_event",
        at=now,
        obj=session,
        before={"status": before},
        after={"status": session.status, "event": event.event_id},
        actor_label=f"webhook {session.provider}",
    )
    return outcome
