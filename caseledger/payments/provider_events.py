"""Services for what a payment provider reports after a card payment: refunds made in its
dashboard (``charge.refunded``) and disputes (``charge.dispute.created`` / ``.closed``).

Called by ``services.checkout_event_process`` inside its transaction (the event id row is
already inserted, so a replayed event never gets here). Operating money only: a payment that
went to trust, or one held or rejected (never posted), is never posted here; billing gets a task
to handle it through the trust workflow instead (a disputed trust amount stays in trust).

Locks in the global order: invoice settlements (id order), then the payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Sum

from caseledger.core import audit, clock
from caseledger.core.choices import Role
from caseledger.core.money import format_money as money_text
from caseledger.core.text import fit_to_field
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.matters.models import Task
from caseledger.matters.services import task_open_for_system
from caseledger.payments import locks
from caseledger.payments.choices import (
    CheckoutPurpose,
    DisputeStatus,
    PaymentStatus,
    RefundMethod,
    RefundStatus,
)
from caseledger.payments.exceptions import PaymentError, WebhookNotReady
from caseledger.payments.models import (
    CheckoutSession,
    CreditRefund,
    InvoiceSettlement,
    Payment,
    PaymentAllocation,
    PaymentDispute,
    PaymentReopening,
    ProviderRefund,
)
from caseledger.payments.providers.base import PaymentEvent

PAYMENT_NOT_RECORDED_YET = (
    "payment_intent: no payment recorded for {ref} yet; deliver this event again later"
)
REFUND_CURRENCY = "currency: the refund is in {got}; payment {payment} was in {expected}"
# Provider refund statuses that mean the money has left (or is leaving) the firm's balance.
REFUND_STATUSES_RECORDED = {"succeeded", "pending"}
# Dispute outcomes (Stripe's words): the money comes back, or it is gone.
DISPUTE_WON = {"won", "warning_closed", "prevented"}
DISPUTE_LOST = {"lost"}
# Days billing has to look at a dispute (Stripe asks for evidence within about a week or two).
DISPUTE_TASK_DAYS = 7


@dataclass(frozen=True)
class _Target:
    """What a provider payment id points at: the checkout and, for operating money, the
    payment (None when the money went to trust directly)."""

    session: CheckoutSession | None
    payment: Payment | None


def _find(*, provider: str, payment_ref: str) -> _Target | None:
    ref = fit_to_field(CheckoutSession, "payment_ref", payment_ref)
    session = (
        CheckoutSession.objects.filter(provider=provider, payment_ref=ref).order_by("id").first()
    )
    if session is not None:
        payment = Payment.objects.filter(checkout=session).order_by("id").first()
        return _Target(session=session, payment=payment)
    # Payments recorded before checkouts kept the provider's payment id.
    payment = (
        Payment.objects.filter(
            provider=provider, reference=fit_to_field(Payment, "reference", payment_ref)
        )
        .order_by("id")
        .first()
    )
    if payment is not None:
        return _Target(session=payment.checkout, payment=payment)
    return None


def _target_or_retry(*, event: PaymentEvent, provider: str) -> _Target | None:
    """The target of a refund or dispute event; None (ignored) when the event names no payment
    id (never one of CaseLedger's checkouts); WebhookNotReady when the payment is not recorded
    yet (the event came before ``checkout.session.completed``: the provider retries)."""
    if not event.charge_ref:
        return None
    target = _find(provider=provider, payment_ref=event.charge_ref)
    if target is None:
        raise WebhookNotReady(
            PAYMENT_NOT_RECORDED_YET.format(ref=event.charge_ref[:60]), field="payment_intent"
        )
    return target


def _not_operating(target: _Target) -> str:
    """Why this target's money is not posted here ("" when it is a received operating payment)."""
    payment = target.payment
    if payment is None:
        if target.session is not None and target.session.purpose == CheckoutPurpose.TRUST_REQUEST:
            return "the payment went to trust"
        return "no payment was recorded for this checkout"
    if payment.status == PaymentStatus.TO_TRUST:
        return "the payment went to trust"
    if payment.status != PaymentStatus.RECEIVED:
        status = payment.get_status_display().lower()
        return f"payment {payment.number} is {status}; nothing was posted"
    return ""


def _billing_task(*, key: str, target: _Target, title: str, description: str, now: datetime) -> int:
    matter = target.session.matter if target.session is not None else None
    if matter is None and target.payment is not None:
        matter = target.payment.matter
    task = task_open_for_system(
        key=fit_to_field(Task, "system_key", key),
        matter=matter,
        title=title,
        due_date=clock.firm_date(now) + timedelta(days=DISPUTE_TASK_DAYS),
        assignee_role=Role.BILLING,
        description=description,
        now=now,
    )
    return int(task.pk)


@dataclass
class _Giveback:
    """How an amount the payer got back is taken from what the payment did."""

    from_unapplied: int
    reopen: list[tuple[InvoiceSettlement, int]]
    unmatched: int  # nothing left to take it from (a credit note gave it back already)


def _lock_for_giveback(payment: Payment) -> tuple[Payment, dict[int, InvoiceSettlement]]:
    """Lock the settlements of every invoice the payment paid, then the payment (global
    order), and return both fresh."""
    invoices = [
        a.invoice
        for a in PaymentAllocation.objects.filter(payment=payment).select_related("invoice")
    ]
    settlements = locks.lock_invoice_settlements(invoices)
    return locks.lock_payment(payment.pk), settlements


def _giveback_plan(
    *, payment: Payment, settlements: dict[int, InvoiceSettlement], amount_cents: int
) -> _Giveback:
    """Unapplied credit first (an overpayment is what is most likely returned), then the
    invoices the payment paid, newest allocation first, each at most what the payment still
    covers there and what the invoice has received."""
    # Credit held for a card refund CaseLedger sent is not this refund's to take.
    from_unapplied = min(amount_cents, payment.unapplied_cents - payment.refund_pending_cents)
    rest = amount_cents - from_unapplied
    covered: dict[int, int] = {}
    for alloc in PaymentAllocation.objects.filter(payment=payment).order_by("id"):
        covered[alloc.invoice_id] = covered.get(alloc.invoice_id, 0) + alloc.amount_cents
    reopened = (
        PaymentReopening.objects.filter(payment=payment)
        .values("invoice_id")
        .annotate(total=Sum("amount_cents"))
    )
    for row in reopened:
        covered[row["invoice_id"]] = covered.get(row["invoice_id"], 0) - int(row["total"] or 0)
    newest_first = (
        PaymentAllocation.objects.filter(payment=payment)
        .order_by("-id")
        .values_list("invoice_id", flat=True)
    )
    plan: list[tuple[InvoiceSettlement, int]] = []
    seen: set[int] = set()
    for invoice_id in newest_first:
        if rest <= 0:
            break
        if invoice_id in seen:
            continue
        seen.add(invoice_id)
        settlement = settlements[invoice_id]
        take = min(rest, max(covered.get(invoice_id, 0), 0), settlement.paid_cents)
        if take > 0:
            plan.append((settlement, take))
            rest -= take
    return _Giveback(from_unapplied=from_unapplied, reopen=plan, unmatched=rest)


def _giveback_post(
    *,
    payment: Payment,
    plan: _Giveback,
    credit_account: str,
    amount_cents: int,
    memo: str,
    now: datetime,
) -> JournalEntry:
    """One entry: Cr ``credit_account`` (where the money left from), Dr unapplied credits /
    A/R per reopened invoice / REFUNDS for the unmatched rest; the settlements' paid amounts
    come down by what is reopened (their balances due return)."""
    lines = [PostingLine(credit_account, -amount_cents)]
    if plan.from_unapplied:
        lines.append(
            PostingLine(
                accounts.UNAPPLIED_CLIENT_CREDITS,
                plan.from_unapplied,
                client=payment.client,
                matter=payment.matter,
            )
        )
    for settlement, cents in plan.reopen:
        invoice = settlement.invoice
        lines.append(
            PostingLine(
                accounts.ACCOUNTS_RECEIVABLE,
                cents,
                client=payment.client,
                matter=invoice.matter,
                invoice=invoice,
            )
        )
    if plan.unmatched:
        lines.append(PostingLine(accounts.REFUNDS, plan.unmatched))
    entry = entry_post(
        kind=EntryKind.REFUND,
        entry_date=clock.firm_date(now),
        memo=fit_to_field(JournalEntry, "memo", memo),
        lines=lines,
        actor=None,
        now=now,
    )
    if plan.from_unapplied:
        Payment.objects.filter(pk=payment.pk).update(
            unapplied_cents=payment.unapplied_cents - plan.from_unapplied
        )
    for settlement, cents in plan.reopen:
        InvoiceSettlement.objects.filter(pk=settlement.pk).update(
            paid_cents=settlement.paid_cents - cents, updated_at=now
        )
    return entry


def _reopen_rows(
    *,
    payment: Payment,
    plan: _Giveback,
    entry: JournalEntry,
    now: datetime,
    refund: ProviderRefund | None = None,
    dispute: PaymentDispute | None = None,
) -> None:
    for settlement, cents in plan.reopen:
        PaymentReopening.objects.create(
            payment=payment,
            invoice_id=settlement.invoice_id,
            amount_cents=cents,
            refund=refund,
            dispute=dispute,
            entry=entry,
            created_at=now,
        )


def _refunded_so_far(payment: Payment) -> tuple[set[str], int]:
    """Refund ids already in the books for this payment and their total: provider refunds
    recorded from events, and card refunds CaseLedger itself asked for (their reference is the
    provider's refund id)."""
    ids: set[str] = set()
    total = 0
    for ref, cents in ProviderRefund.objects.filter(payment=payment).values_list(
        "provider_refund_id", "amount_cents"
    ):
        ids.add(ref)
        total += cents
    for ref, cents in CreditRefund.objects.filter(
        payment=payment, method=RefundMethod.CARD, status=RefundStatus.SUCCEEDED
    ).values_list("reference", "amount_cents"):
        ids.add(ref)
        total += cents
    return ids, total


# --- charge.refunded -------------------------------------------------------------------------


def provider_refund_event_apply(*, event: PaymentEvent, provider: str, now: datetime) -> str:
    """Record the refunds a ``charge.refunded`` event reports, once per refund id.

    The refunds listed on the charge are recorded oldest first while the total stays within
    the charge's cumulative ``amount_refunded``; when the charge lists none (Stripe's default
    since API 2022-11-15), the part of ``amount_refunded`` not yet in the books is recorded
    under the key ``<charge id>/<amount_refunded>``. Either way a replay, or an older event
    delivered after a newer one, records nothing more. Returns the outcome."""
    target = _target_or_retry(event=event, provider=provider)
    if target is None:
        return "ignored: the charge names no payment"
    why_not = _not_operating(target)
    if why_not:
        task_id = _billing_task(
            key=f"payments.refund:{provider}:{event.charge_id}",
            target=target,
            title=fit_to_field(Task, "title", f"Card refund reported by {provider}: {why_not}"),
            description=(
                f"{provider} reports {money_text(event.amount_refunded_cents, event.currency)} "
                f"refunded on charge {event.charge_id}. {why_not.capitalize()}: nothing was "
                "posted automatically. Record it through the trust workflow or review the "
                "held payment."
            ),
            now=now,
        )
        return f"not posted ({why_not}); task {task_id} for billing"
    assert target.payment is not None
    payment, settlements = _lock_for_giveback(target.payment)
    session = target.session
    if session is not None and event.currency.upper() != session.currency.upper():
        raise PaymentError(
            REFUND_CURRENCY.format(got=event.currency, payment=payment, expected=session.currency),
            field="currency",
        )
    from caseledger.payments.refunds import confirm_from_webhook, requested_refund_for_key

    # Card refunds CaseLedger asked for and has not recorded yet (its phase 2 has not run):
    # a listed refund carrying one's key confirms it, through the same books as phase 2.
    confirmed: list[str] = []
    for refund in reversed(event.refunds):
        if not refund.idempotency_key or refund.status not in REFUND_STATUSES_RECORDED:
            continue
        ours = requested_refund_for_key(payment=payment, key=refund.idempotency_key)
        if ours is not None and ours.amount_cents == refund.amount_cents:
            confirm_from_webhook(
                refund=ours, payment=payment, reference=refund.refund_id, now=now, provider=provider
            )
            payment.refresh_from_db()
            confirmed.append(refund.refund_id)
    known, total = _refunded_so_far(payment)
    # Still in flight (sent, not yet confirmed): not a dashboard refund to record again.
    in_flight = payment.refund_pending_cents
    ceiling = min(event.amount_refunded_cents, payment.amount_cents)
    wanted: list[tuple[str, int]] = []
    if event.refunds:
        for refund in reversed(event.refunds):  # Stripe lists the newest first
            key = fit_to_field(ProviderRefund, "provider_refund_id", refund.refund_id)
            if refund.status not in REFUND_STATUSES_RECORDED or key in known:
                continue
            if refund.idempotency_key and refund.idempotency_key.startswith("caseledger-refund-"):
                # Ours, but not REQUESTED at that key (an old attempt): recorded by its row.
                continue
            if total + sum(c for _, c in wanted) + refund.amount_cents > ceiling:
                continue
            wanted.append((key, refund.amount_cents))
    else:
        missing = ceiling - total - in_flight
        if missing > 0:
            key = f"{event.charge_id}/{event.amount_refunded_cents}"
            wanted.append((fit_to_field(ProviderRefund, "provider_refund_id", key), missing))
    recorded: list[str] = []
    for key, cents in wanted:
        plan = _giveback_plan(payment=payment, settlements=settlements, amount_cents=cents)
        entry = _giveback_post(
            payment=payment,
            plan=plan,
            credit_account=accounts.OPERATING_BANK,
            amount_cents=cents,
            memo=f"Card refund {key} of payment {payment.number} ({provider})",
            now=now,
        )
        refund_row = ProviderRefund.objects.create(
            payment=payment,
            provider=provider,
            provider_refund_id=key,
            amount_cents=cents,
            from_unapplied_cents=plan.from_unapplied,
            reopened_cents=sum(c for _, c in plan.reopen),
            refund_date=clock.firm_date(now),
            entry=entry,
            created_at=now,
        )
        _reopen_rows(payment=payment, plan=plan, entry=entry, now=now, refund=refund_row)
        audit.record(
            actor=None,
            action="payments.provider_refund_recorded",
            at=now,
            obj=payment,
            before={"unapplied_cents": payment.unapplied_cents},
            after={
                "refund": key,
                "amount_cents": cents,
                "from_unapplied_cents": plan.from_unapplied,
                "reopened": {str(s.invoice): c for s, c in plan.reopen},
                "unmatched_cents": plan.unmatched,
                "entry": entry.pk,
            },
            actor_label=f"webhook {provider}",
        )
        payment.refresh_from_db()
        for settlement in settlements.values():
            settlement.refresh_from_db()
        recorded.append(key)
    recorded = confirmed + recorded
    if not recorded:
        return f"refunds of {payment.number} already recorded"
    return f"refund recorded on {payment.number}: {', '.join(recorded)}"[:200]


# --- charge.dispute.created / closed ---------------------------------------------------------


def provider_dispute_event_apply(*, event: PaymentEvent, provider: str, now: datetime) -> str:
    """Open (hold) or close (post the outcome of) a dispute, once each per dispute id.

    ``charge.dispute.created``: the disputed amount (at most the payment) moves from operating
    to PROCESSOR_CLEARING and billing gets a task. ``charge.dispute.closed``: won (also an
    inquiry closed, or prevented) moves it back; lost takes it out of PROCESSOR_CLEARING against
    the payment's unapplied credit, then the invoices it paid (due again). A ``closed`` that
    arrives before its ``created`` opens the dispute first; a ``created`` after the close
    changes nothing. Returns the outcome."""
    target = _target_or_retry(event=event, provider=provider)
    if target is None:
        return "ignored: the dispute names no payment"
    why_not = _not_operating(target)
    key = fit_to_field(PaymentDispute, "provider_dispute_id", event.dispute_id)
    if why_not:
        task_id = _billing_task(
            key=f"payments.dispute:{provider}:{key}",
            target=target,
            title=fit_to_field(Task, "title", f"Card dispute reported by {provider}: {why_not}"),
            description=(
                f"{provider} reports dispute {key} ({event.dispute_status}) for "
                f"{money_text(event.amount_cents, event.currency)}. {why_not.capitalize()}: "
                "nothing was posted automatically. A disputed trust amount stays in trust "
                "until the dispute is resolved."
            ),
            now=now,
        )
        return f"not posted ({why_not}); task {task_id} for billing"
    assert target.payment is not None
    payment, settlements = _lock_for_giveback(target.payment)
    dispute = locks.lock_dispute(provider, key)
    outcome: list[str] = []
    if dispute is None:
        dispute = _dispute_open(payment=payment, event=event, key=key, provider=provider, now=now)
        held = money_text(dispute.amount_cents, event.currency)
        outcome.append(f"dispute {key} opened on {payment.number}: {held} held")
    if event.kind == "dispute_closed":
        if dispute.status != DisputeStatus.OPEN:
            outcome.append(f"dispute {key} already {dispute.get_status_display().lower()}")
        elif event.dispute_status in DISPUTE_WON | DISPUTE_LOST:
            outcome.append(
                _dispute_close(
                    dispute=dispute,
                    payment=payment,
                    settlements=settlements,
                    event=event,
                    provider=provider,
                    now=now,
                )
            )
        else:
            outcome.append(f"dispute {key} still open ({event.dispute_status[:40]})")
    elif not outcome:
        outcome.append(f"dispute {key} already recorded")
    return "; ".join(outcome)[:200]


def _dispute_open(
    *, payment: Payment, event: PaymentEvent, key: str, provider: str, now: datetime
) -> PaymentDispute:
    amount = min(event.amount_cents, payment.amount_cents)
    entry = entry_post(
        kind=EntryKind.PROCESSOR_SETTLEMENT,
        entry_date=clock.firm_date(now),
        memo=fit_to_field(
            JournalEntry, "memo", f"Dispute {key} on payment {payment.number}: held by {provider}"
        ),
        lines=[
            PostingLine(accounts.PROCESSOR_CLEARING, amount),
            PostingLine(accounts.OPERATING_BANK, -amount),
        ],
        actor=None,
        now=now,
    )
    dispute = PaymentDispute(
        payment=payment,
        provider=provider,
        provider_dispute_id=key,
        amount_cents=amount,
        provider_status=fit_to_field(PaymentDispute, "provider_status", event.dispute_status),
        reason=fit_to_field(PaymentDispute, "reason", event.dispute_reason),
        hold_entry=entry,
        opened_at=now,
    )
    dispute.task_id = _billing_task(
        key=f"payments.dispute:{provider}:{key}",
        target=_Target(session=payment.checkout, payment=payment),
        title=fit_to_field(
            Task,
            "title",
            f"Card dispute on payment {payment.number}: answer {provider} with evidence",
        ),
        description=(
            f"The payer disputed {money_text(amount, event.currency)} of payment {payment.number} "
            f"(reason: {event.dispute_reason[:120] or 'not given'}). {provider} holds the "
            "amount until the dispute is decided; it is posted to the processor clearing "
            "account. Submit evidence in the provider's dashboard."
        ),
        now=now,
    )
    dispute.save()
    audit.record(
        actor=None,
        action="payments.dispute_opened",
        at=now,
        obj=payment,
        after={"dispute": key, "amount_cents": amount, "entry": entry.pk},
        actor_label=f"webhook {provider}",
    )
    return dispute


def _dispute_close(
    *,
    dispute: PaymentDispute,
    payment: Payment,
    settlements: dict[int, InvoiceSettlement],
    event: PaymentEvent,
    provider: str,
    now: datetime,
) -> str:
    key = dispute.provider_dispute_id
    if event.dispute_status in DISPUTE_WON:
        entry = entry_post(
            kind=EntryKind.PROCESSOR_SETTLEMENT,
            entry_date=clock.firm_date(now),
            memo=fit_to_field(
                JournalEntry, "memo", f"Dispute {key} on payment {payment.number} won: released"
            ),
            lines=[
                PostingLine(accounts.OPERATING_BANK, dispute.amount_cents),
                PostingLine(accounts.PROCESSOR_CLEARING, -dispute.amount_cents),
            ],
            actor=None,
            now=now,
        )
        status = DisputeStatus.WON
        plan = None
        outcome = f"dispute {key} won: {money_text(dispute.amount_cents, event.currency)} released"
    else:
        plan = _giveback_plan(
            payment=payment, settlements=settlements, amount_cents=dispute.amount_cents
        )
        entry = _giveback_post(
            payment=payment,
            plan=plan,
            credit_account=accounts.PROCESSOR_CLEARING,
            amount_cents=dispute.amount_cents,
            memo=f"Dispute {key} on payment {payment.number} lost",
            now=now,
        )
        _reopen_rows(payment=payment, plan=plan, entry=entry, now=now, dispute=dispute)
        status = DisputeStatus.LOST
        outcome = f"dispute {key} lost: {money_text(dispute.amount_cents, event.currency)} gone"
    PaymentDispute.objects.filter(pk=dispute.pk).update(
        status=status,
        provider_status=fit_to_field(PaymentDispute, "provider_status", event.dispute_status),
        outcome_entry=entry,
        closed_at=now,
    )
    audit.record(
        actor=None,
        action="payments.dispute_closed",
        at=now,
        obj=payment,
        before={"dispute": key, "status": DisputeStatus.OPEN},
        after={
            "status": status,
            "entry": entry.pk,
            "from_unapplied_cents": plan.from_unapplied if plan else 0,
            "reopened": {str(s.invoice): c for s, c in plan.reopen} if plan else {},
            "unmatched_cents": plan.unmatched if plan else 0,
        },
        actor_label=f"webhook {provider}",
    )
    return outcome
