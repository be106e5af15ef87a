"""What people record on an invoice in collections: manual reminders, promises to pay, disputes,
payment plans; and a partner lifting a hold."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction

from caseledger.collections import exceptions as E
from caseledger.collections import integration, locks
from caseledger.collections.choices import ActivityKind, HoldStatus
from caseledger.collections.models import (
    CollectionActivity,
    CollectionHold,
    InvoiceDispute,
    PaymentPlan,
)
from caseledger.core import audit, clock
from caseledger.core.amounts import amount_check, amount_check_optional, firm_money
from caseledger.core.models import User
from caseledger.core.permissions import require


def _require_open(invoice: Any) -> int:
    balance = integration.invoice_balance_due(invoice)
    if balance <= 0:
        raise E.CollectionsError(E.INVOICE_NOT_OPEN.format(invoice=invoice), field="invoice")
    return balance


def activity_record(
    *,
    invoice: Any,
    kind: str,
    actor: User,
    now: datetime,
    note: str = "",
    promised_date: date | None = None,
    promised_cents: int | None = None,
) -> CollectionActivity:
    """Record a manual reminder, a promise to pay or a note (the run takes the first two into
    account: see ``collections_run``)."""
    require(actor, "collections.work")
    today = clock.firm_date(now)
    if promised_date is not None:
        clock.date_check(promised_date, field="promised_date")
    if kind == ActivityKind.PROMISE_TO_PAY:
        if promised_date is None or promised_date < today:
            raise E.CollectionsError(
                E.PROMISE_DATE_PAST.format(today=today.isoformat(), value=promised_date),
                field="promised_date",
            )
        amount_check_optional(promised_cents, field="promised_amount")
        if promised_cents is not None and promised_cents <= 0:
            raise E.CollectionsError(
                E.PROMISE_AMOUNT_INVALID.format(value=firm_money(promised_cents)),
                field="promised_amount",
            )
    with transaction.atomic():
        if kind != ActivityKind.NOTE:
            _require_open(invoice)
        activity = CollectionActivity.objects.create(
            invoice=invoice,
            kind=kind,
            activity_date=today,
            at=now,
            actor=actor,
            promised_date=promised_date if kind == ActivityKind.PROMISE_TO_PAY else None,
            promised_cents=promised_cents if kind == ActivityKind.PROMISE_TO_PAY else None,
            note=note.strip(),
        )
        audit.record(
            actor=actor,
            action=f"collections.{kind.lower()}",
            at=now,
            obj=activity,
            after={
                "invoice": str(invoice),
                "promised_date": promised_date,
                "promised_cents": promised_cents,
                "note": note.strip(),
            },
        )
    return activity


def dispute_open(*, invoice: Any, reason: str, actor: User, now: datetime) -> InvoiceDispute:
    require(actor, "collections.work")
    if not reason.strip():
        raise E.CollectionsError(E.DISPUTE_REASON_REQUIRED, field="reason")
    with transaction.atomic():
        if InvoiceDispute.objects.filter(invoice=invoice, resolved_at__isnull=True).exists():
            raise E.CollectionsError(
                E.DISPUTE_ALREADY_OPEN.format(invoice=invoice), field="invoice"
            )
        dispute = InvoiceDispute.objects.create(
            invoice=invoice, reason=reason.strip(), opened_at=now, opened_by=actor
        )
        audit.record(
            actor=actor,
            action="collections.dispute_opened",
            at=now,
            obj=dispute,
            after={"invoice": str(invoice), "reason": reason.strip()},
        )
    return dispute


def dispute_resolve(
    *, dispute: InvoiceDispute, resolution: str, actor: User, now: datetime
) -> InvoiceDispute:
    require(actor, "collections.work")
    if not resolution.strip():
        raise E.CollectionsError(E.RESOLUTION_REQUIRED, field="resolution")
    with transaction.atomic():
        locked = locks.dispute_lock(dispute_id=dispute.pk)
        if locked.resolved_at is not None:
            raise E.CollectionsError(E.DISPUTE_NOT_OPEN, field="dispute")
        InvoiceDispute.objects.filter(pk=dispute.pk).update(
            resolved_at=now, resolved_by=actor, resolution=resolution.strip()
        )
        audit.record(
            actor=actor,
            action="collections.dispute_resolved",
            at=now,
            obj=locked,
            after={"resolution": resolution.strip()},
        )
    dispute.refresh_from_db()
    return dispute


def payment_plan_create(
    *,
    invoice: Any,
    installment_cents: int,
    first_due_date: date,
    interval_days: int,
    actor: User,
    now: datetime,
) -> PaymentPlan:
    require(actor, "collections.work")
    clock.date_check(first_due_date, field="first_due_date")
    amount_check(installment_cents, field="installment")
    if installment_cents <= 0:
        raise E.CollectionsError(
            E.PLAN_INSTALLMENT_INVALID.format(value=firm_money(installment_cents)),
            field="installment",
        )
    if not 1 <= interval_days <= 366:
        raise E.CollectionsError(
            E.PLAN_INTERVAL_INVALID.format(value=interval_days), field="interval_days"
        )
    with transaction.atomic():
        _require_open(invoice)
        if PaymentPlan.objects.filter(invoice=invoice, cancelled_at__isnull=True).exists():
            raise E.CollectionsError(E.PLAN_ALREADY_ACTIVE.format(invoice=invoice), field="invoice")
        settlement = integration.settlement_model().objects.get(invoice=invoice)
        plan = PaymentPlan.objects.create(
            invoice=invoice,
            installment_cents=installment_cents,
            first_due_date=first_due_date,
            interval_days=interval_days,
            paid_at_agreement_cents=settlement.paid_cents,
            agreed_at=now,
            agreed_by=actor,
        )
        audit.record(
            actor=actor,
            action="collections.payment_plan_created",
            at=now,
            obj=plan,
            after={
                "invoice": str(invoice),
                "installment_cents": installment_cents,
                "first_due_date": first_due_date,
                "interval_days": interval_days,
            },
        )
    return plan


def payment_plan_cancel(*, plan: PaymentPlan, actor: User, now: datetime) -> PaymentPlan:
    require(actor, "collections.work")
    with transaction.atomic():
        PaymentPlan.objects.filter(pk=plan.pk, cancelled_at__isnull=True).update(cancelled_at=now)
        audit.record(actor=actor, action="collections.payment_plan_cancelled", at=now, obj=plan)
    plan.refresh_from_db()
    return plan


def collection_hold_lift(
    *,
    hold: CollectionHold,
    actor: User | None,
    reason: str,
    now: datetime,
    require_reason: bool = True,
) -> CollectionHold:
    """Lift a collections hold: by a partner with a reason, or by the run when the balance is
    cleared (actor None). The matter's hold on new work is lifted with it."""
    if actor is not None:
        require(actor, "collections.hold_lift")
    if require_reason and not reason.strip():
        raise E.CollectionsError(E.HOLD_LIFT_REASON_REQUIRED, field="reason")
    with transaction.atomic():
        locked = locks.hold_lock(hold_id=hold.pk)
        if locked.status != HoldStatus.ACTIVE:
            raise E.CollectionsError(E.HOLD_NOT_ACTIVE.format(matter=locked.matter), field="matter")
        CollectionHold.objects.filter(pk=hold.pk).update(
            status=HoldStatus.LIFTED, lifted_at=now, lifted_by=actor, lift_reason=reason.strip()
        )
        integration.hold_lift(
            matter=locked.matter, actor=actor, reason=f"Collections: {reason.strip()}", now=now
        )
        audit.record(
            actor=actor,
            actor_label=None if actor is not None else "collections run",
            action="collections.hold_lifted",
            at=now,
            obj=locked,
            before={"status": HoldStatus.ACTIVE},
            after={"status": HoldStatus.LIFTED, "reason": reason.strip()},
        )
    hold.refresh_from_db()
    return hold


def matter_hold_lift_by_partner(
    *, matter: Any, actor: User, reason: str, now: datetime
) -> CollectionHold:
    hold = CollectionHold.objects.filter(matter=matter, status=HoldStatus.ACTIVE).first()
    if hold is None:
        raise E.CollectionsError(E.HOLD_NOT_ACTIVE.format(matter=matter), field="matter")
    return collection_hold_lift(hold=hold, actor=actor, reason=reason, now=now)
