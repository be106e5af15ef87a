"""Card refunds of unapplied credit, exactly once, in two phases (ADR 009).

A card processor is outside CaseLedger's database: a refund it made cannot be rolled back with a
transaction, and a refund asked for twice is paid twice. So a card refund never calls the
processor while a transaction is open:

1. ``card_refund_request`` (phase 1, one transaction): the checks, the payment's lock, and a
   CreditRefund row REQUESTED; the amount is held on the payment (``refund_pending_cents``) so
   nothing else spends it. Committed before anything leaves.
2. ``card_refund_process`` (after the commit, no transaction open): the processor is called
   with the refund's idempotency key; then, in a second transaction,
   ``card_refund_succeed`` posts the ledger entry and the audit event (SUCCEEDED), or
   ``card_refund_fail`` releases the hold (FAILED) when the processor refused.

Whatever dies in between, the row stays REQUESTED and ``card_refunds_retry`` (a huey job, every
minute, for rows older than ``RETRY_AFTER``) sends it again with the same key: the processor
answers with the refund it already made, so the card is refunded once and the books record it
once. The provider's ``charge.refunded`` webhook confirms a REQUESTED refund it names by key
(``provider_events``) through the same ``card_refund_succeed``.

Status workflow (``REFUND_TRANSITIONS``): requested -> succeeded | failed; failed -> requested
when a user retries (``card_refund_retry``: a new attempt, hence a new key).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F

from caseledger.core import audit, clock
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.exceptions import InvalidTransition
from caseledger.core.models import User
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.payments import hooks, locks
from caseledger.payments.choices import PaymentStatus, Provider, RefundMethod, RefundStatus
from caseledger.payments.exceptions import PaymentError, ProviderError
from caseledger.payments.models import CreditRefund, Payment
from caseledger.payments.providers.base import PaymentProvider
from caseledger.payments.transitions import CREDIT_REFUND_TRANSITIONS

log = logging.getLogger(__name__)

# The whole workflow of a refund (``payments.transitions``).
REFUND_TRANSITIONS = CREDIT_REFUND_TRANSITIONS

# A REQUESTED refund younger than this is still in its first attempt's hands.
RETRY_AFTER = timedelta(minutes=1)

AMOUNT_NOT_POSITIVE = "amount: must be positive (got {amount})"
CARD_REFUND_NEEDS_PROVIDER = (
    "method: payment {payment} was not taken online; refund by check or transfer"
)
PAYMENT_NOT_RECEIVED = "payment: {payment} is {status}; only received payments can be refunded"
REFUND_OVER_AVAILABLE = (
    "amount: refund {amount} exceeds the unapplied credit of payment {payment} ({unapplied})"
)
TRANSITION_REFUSED = "status: a refund cannot go from {from_status} to {to_status}"


def _transition_check(refund: CreditRefund, to_status: str) -> None:
    if not REFUND_TRANSITIONS.can(refund.status, to_status):
        raise InvalidTransition(
            TRANSITION_REFUSED.format(
                from_status=refund.get_status_display().lower(),
                to_status=RefundStatus(to_status).label.lower(),
            ),
            field="status",
        )


def refund_transition(
    *,
    refund: CreditRefund,
    to_status: str,
    actor: User | None,
    now: datetime,
    extra: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> CreditRefund:
    """Move ``refund`` (locked by the caller, with its payment) to ``to_status`` if
    ``REFUND_TRANSITIONS`` allows it: one UPDATE of the status and ``extra``, one audit event,
    then the card refund listeners (``payments.hooks``), all in the caller's transaction.
    Raises InvalidTransition otherwise."""
    _transition_check(refund, to_status)
    from_status = refund.status
    values: dict[str, Any] = {"status": to_status, **(extra or {})}
    CreditRefund.objects.filter(pk=refund.pk).update(**values)
    for key, value in values.items():
        setattr(refund, key, value)
    after = {k: (v.pk if hasattr(v, "pk") else v) for k, v in values.items()}
    audit.record(
        actor=actor,
        action=f"payments.card_refund_{str(to_status).lower()}",
        at=now,
        obj=refund,
        before={"status": from_status},
        after={**after, "payment": refund.payment_id, "amount_cents": refund.amount_cents},
        actor_label=actor_label,
    )
    hooks.card_refund_changed(refund=refund, actor=actor, now=now)
    return refund


def _available(payment: Payment) -> int:
    return payment.unapplied_cents - payment.refund_pending_cents


def _hold(*, payment: Payment, amount_cents: int) -> None:
    """Check (payment locked) and hold ``amount_cents`` of the payment's unapplied credit."""
    if payment.status != PaymentStatus.RECEIVED:
        raise PaymentError(
            PAYMENT_NOT_RECEIVED.format(
                payment=payment, status=payment.get_status_display().lower()
            ),
            field="payment",
        )
    if amount_cents > _available(payment):
        raise PaymentError(
            REFUND_OVER_AVAILABLE.format(
                amount=firm_money(amount_cents),
                payment=payment,
                unapplied=firm_money(_available(payment)),
            ),
            field="amount",
        )
    Payment.objects.filter(pk=payment.pk).update(
        refund_pending_cents=F("refund_pending_cents") + amount_cents
    )


def _process_after_commit(refund_id: int) -> None:
    card_refund_process(refund_id=refund_id, now=clock.now())


def card_refund_request(
    *, payment: Payment, amount_cents: int, actor: User | None, now: datetime, memo: str = ""
) -> CreditRefund:
    """Phase 1: commit a REQUESTED card refund of ``amount_cents`` of the payment's unapplied
    credit, holding the amount. The processor is called once the outermost transaction commits
    (``card_refund_process``, on commit); if that never happens, ``card_refunds_retry`` does it.
    Raises PaymentError (nothing written) for a payment not taken online, not received, or
    without that much credit left."""
    if amount_cents <= 0:
        raise PaymentError(
            AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )
    if payment.provider not in {Provider.SANDBOX, Provider.STRIPE}:
        raise PaymentError(CARD_REFUND_NEEDS_PROVIDER.format(payment=payment), field="method")
    amount_check(amount_cents)
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        _hold(payment=payment, amount_cents=amount_cents)
        refund = CreditRefund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            method=RefundMethod.CARD,
            status=RefundStatus.REQUESTED,
            memo=memo[:200],
            refund_date=clock.firm_date(now),
            created_by=actor,
            created_at=now,
            requested_at=now,
        )
        audit.record(
            actor=actor,
            action="payments.card_refund_requested",
            at=now,
            obj=refund,
            after={
                "status": RefundStatus.REQUESTED,
                "payment": payment.pk,
                "amount_cents": amount_cents,
                "idempotency_key": refund.idempotency_key,
            },
        )
        hooks.card_refund_changed(refund=refund, actor=actor, now=now)
        # robust: a processor that is down must not undo (or 500) what was committed; the
        # retry job sends it again.
        transaction.on_commit(partial(_process_after_commit, refund.pk), robust=True)
    return refund


def card_refund_process(
    *, refund_id: int, now: datetime, provider: PaymentProvider | None = None
) -> CreditRefund:
    """Phase 2 of a REQUESTED refund: call the processor with the refund's idempotency key
    (no transaction must be open), then record the outcome in a second transaction. A refund
    that is no longer REQUESTED is returned as it is. A retryable ProviderError (outcome
    unknown) leaves it REQUESTED for ``card_refunds_retry``; any other exception propagates
    and leaves it REQUESTED as well."""
    from caseledger.payments.providers import provider_get

    refund = CreditRefund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return refund
    processor = provider or provider_get(refund.payment.provider)
    try:
        reference = processor.refund_create(
            refund.payment, refund.amount_cents, idempotency_key=refund.idempotency_key
        )
    except ProviderError as exc:
        if exc.retryable:
            log.warning("card refund %s: outcome unknown, will retry: %s", refund.pk, exc)
            return refund
        return card_refund_fail(
            refund_id=refund.pk, attempt=refund.attempt, reason=str(exc), now=now
        )
    return card_refund_succeed(
        refund_id=refund.pk, attempt=refund.attempt, reference=reference, now=now
    )


def _succeed_locked(
    *,
    refund: CreditRefund,
    payment: Payment,
    reference: str,
    now: datetime,
    actor_label: str | None = None,
) -> CreditRefund:
    """The books of a refund the processor made (refund and payment locked by the caller):
    Dr unapplied client credits, Cr operating bank; the hold and the credit go down."""
    refund_date = clock.firm_date(now)
    amount = refund.amount_cents
    entry = entry_post(
        kind=EntryKind.REFUND,
        entry_date=refund_date,
        memo=f"Card refund of unapplied credit from {payment.number}",
        lines=[
            PostingLine(
                accounts.UNAPPLIED_CLIENT_CREDITS,
                amount,
                client=payment.client,
                matter=payment.matter,
            ),
            PostingLine(accounts.OPERATING_BANK, -amount),
        ],
        actor=None,
        now=now,
        idempotency_key=f"card-refund:{refund.pk}",
    )
    Payment.objects.filter(pk=payment.pk).update(
        unapplied_cents=F("unapplied_cents") - amount,
        refund_pending_cents=F("refund_pending_cents") - amount,
    )
    return refund_transition(
        refund=refund,
        to_status=RefundStatus.SUCCEEDED,
        actor=None,
        now=now,
        extra={
            "entry": entry,
            "reference": reference[:120],
            "refund_date": refund_date,
            "completed_at": now,
        },
        actor_label=actor_label or f"card refund {refund.idempotency_key}",
    )


def card_refund_succeed(
    *, refund_id: int, attempt: int, reference: str, now: datetime
) -> CreditRefund:
    """Phase 2, the processor refunded: in one transaction, post the entry and mark the refund
    SUCCEEDED with the processor's refund id. Nothing happens when the refund is no longer
    REQUESTED at ``attempt`` (the webhook or another run recorded it first)."""
    with transaction.atomic():
        payment = locks.lock_payment(
            CreditRefund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
        )
        refund = locks.lock_refund(refund_id)
        if refund.status != RefundStatus.REQUESTED or refund.attempt != attempt:
            return refund
        return _succeed_locked(refund=refund, payment=payment, reference=reference, now=now)


def card_refund_fail(*, refund_id: int, attempt: int, reason: str, now: datetime) -> CreditRefund:
    """Phase 2, the processor refused: mark the refund FAILED and release the hold; nothing is
    posted. Nothing happens when the refund is no longer REQUESTED at ``attempt``."""
    with transaction.atomic():
        payment = locks.lock_payment(
            CreditRefund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
        )
        refund = locks.lock_refund(refund_id)
        if refund.status != RefundStatus.REQUESTED or refund.attempt != attempt:
            return refund
        Payment.objects.filter(pk=payment.pk).update(
            refund_pending_cents=F("refund_pending_cents") - refund.amount_cents
        )
        return refund_transition(
            refund=refund,
            to_status=RefundStatus.FAILED,
            actor=None,
            now=now,
            extra={"failure_reason": reason[:300], "completed_at": now},
            actor_label=f"card refund {refund.idempotency_key}",
        )


def card_refund_retry(*, refund: CreditRefund, actor: User | None, now: datetime) -> CreditRefund:
    """A user sends a FAILED card refund again: REQUESTED, a new attempt (so a new idempotency
    key: the processor would replay its refusal of the old one), the amount held again; the
    processor is called after the commit. Raises InvalidTransition unless FAILED, PaymentError
    when the credit is no longer there."""
    with transaction.atomic():
        payment = locks.lock_payment(refund.payment_id)
        locked = locks.lock_refund(refund.pk)
        _transition_check(locked, RefundStatus.REQUESTED)
        _hold(payment=payment, amount_cents=locked.amount_cents)
        refund_transition(
            refund=locked,
            to_status=RefundStatus.REQUESTED,
            actor=actor,
            now=now,
            extra={
                "attempt": locked.attempt + 1,
                "requested_at": now,
                "failure_reason": "",
                "completed_at": None,
            },
        )
        transaction.on_commit(partial(_process_after_commit, locked.pk), robust=True)
    return locked


def card_refunds_retry(*, now: datetime, provider: PaymentProvider | None = None) -> int:
    """The huey job: send every card refund REQUESTED before ``now - RETRY_AFTER`` to the
    processor again with its key (the processor returns the refund it already made, if any)
    and record the outcome. One refund's crash does not stop the others. Returns how many
    were settled (succeeded or failed)."""
    due = list(
        CreditRefund.objects.filter(
            status=RefundStatus.REQUESTED, requested_at__lte=now - RETRY_AFTER
        )
        .order_by("requested_at", "id")
        .values_list("id", flat=True)
    )
    settled = 0
    for refund_id in due:
        try:
            refund = card_refund_process(refund_id=refund_id, now=now, provider=provider)
        except Exception:
            log.exception("card refund %s: retry failed; it stays requested", refund_id)
            continue
        if refund.status != RefundStatus.REQUESTED:
            settled += 1
    return settled


def requested_refund_for_key(*, payment: Payment, key: str) -> CreditRefund | None:
    """The REQUESTED card refund of ``payment`` whose current idempotency key is ``key``
    (locked; the caller holds the payment's lock)."""
    for refund in CreditRefund.objects.filter(
        payment=payment, method=RefundMethod.CARD, status=RefundStatus.REQUESTED
    ).order_by("id"):
        if refund.idempotency_key == key:
            return locks.lock_refund(refund.pk)
    return None


def confirm_from_webhook(
    *, refund: CreditRefund, payment: Payment, reference: str, now: datetime, provider: str
) -> CreditRefund:
    """The provider's webhook reports the refund ``refund`` asked for (by its key): record it
    as phase 2 would (caller holds the payment's and the refund's locks)."""
    return _succeed_locked(
        refund=refund,
        payment=payment,
        reference=reference,
        now=now,
        actor_label=f"webhook {provider}",
    )
