"""Recurring billing: monthly, quarterly and payment-plan schedules.

``billing_run`` drafts every schedule's invoice for the period containing ``run_date``, at most
once per (schedule, period): a ScheduleRun row with a unique (schedule, period_start) is written
with each invoice, runs are serialized by a lock, and a rerun finds the rows and creates
nothing. The run works in bulk (three INSERT statements per batch) so month-end over tens of
thousands of matters takes seconds; it records one audit event for the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from caseledger.billing.calc import line_amount_cents
from caseledger.billing.choices import Cadence, InvoiceStatus, LineKind, Payer
from caseledger.billing.exceptions import BillingError
from caseledger.billing.locks import billing_run_lock
from caseledger.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceTemplate,
    RecurringSchedule,
    ScheduleRun,
)
from caseledger.billing.selectors import billing_settings_get, payer_rule_get
from caseledger.billing.services.common import firm_currency, firm_rounding, parse_amount
from caseledger.core import audit
from caseledger.core.money import split

CADENCE_INVALID = "cadence: must be one of {choices} (got {value!r})"
PLAN_INSTALLMENTS = "installments: a payment plan needs 2 to 60 installments (got {value})"
PLAN_TOTAL = "total: a payment plan needs a total to split"
BATCH = 2000


def period_for(*, cadence: str, start: date, run_date: date) -> tuple[date, int] | None:
    """(period start, sequence) of the period containing ``run_date``; None before the start."""
    if run_date < start:
        return None
    months = (run_date.year - start.year) * 12 + run_date.month - start.month
    if cadence == Cadence.QUARTERLY:
        first_month = (run_date.month - 1) // 3 * 3 + 1
        period = date(run_date.year, first_month, 1)
        return period, months // 3 + 1
    period = date(run_date.year, run_date.month, 1)
    return period, months + 1


def schedule_create(
    *,
    matter: Any,
    template: InvoiceTemplate,
    cadence: str,
    start_date: date,
    actor: Any,
    now: datetime,
    installments: int = 0,
    total: Any = 0,
    trigger: Any = None,
) -> RecurringSchedule:
    if cadence not in Cadence.values:
        raise BillingError(
            CADENCE_INVALID.format(choices=", ".join(Cadence.values), value=cadence),
            field="cadence",
        )
    total_cents = parse_amount(total, field="total", currency=firm_currency())
    if cadence == Cadence.PAYMENT_PLAN:
        if not 2 <= installments <= 60:
            raise BillingError(PLAN_INSTALLMENTS.format(value=installments), field="installments")
        if total_cents == 0:
            total_cents = sum(
                (
                    line.amount_cents
                    if line.amount_cents is not None
                    else template.service.default_price_cents
                )
                for line in template.lines.all()
            )
        if total_cents == 0:
            raise BillingError(PLAN_TOTAL, field="total")
    with transaction.atomic():
        schedule = RecurringSchedule.objects.create(
            matter=matter,
            trigger=trigger,
            template=template,
            cadence=cadence,
            start_date=start_date,
            installments=installments if cadence == Cadence.PAYMENT_PLAN else 0,
            total_cents=total_cents,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="billing.schedule_created",
            at=now,
            obj=schedule,
            after={
                "matter": matter.number,
                "cadence": cadence,
                "start_date": start_date,
                "installments": schedule.installments,
                "total_cents": total_cents,
            },
        )
    return schedule


@dataclass(frozen=True)
class RunResult:
    run_date: date
    created: int
    already_billed: int
    skipped: dict[int, str]  # schedule id -> reason (payer rule, plan finished)


def _template_lines(template: InvoiceTemplate) -> list[tuple[Any, int]]:
    return [
        (
            line,
            line.amount_cents
            if line.amount_cents is not None
            else template.service.default_price_cents,
        )
        for line in template.lines.all().order_by("position", "id")
    ]


# One line to draft: (template line or None for an installment, amount, description, kind).
LineSpec = tuple[Any, int, str, str]
# One invoice to draft: the schedule, its period start and sequence, its lines.
Pending = tuple[RecurringSchedule, date, int, list[LineSpec]]


def billing_run(*, run_date: date, now: datetime, actor: Any = None) -> RunResult:
    """Draft the invoices of every active schedule due on ``run_date``. Idempotent."""
    rule = firm_rounding()
    currency = firm_currency()
    settings = billing_settings_get()
    with transaction.atomic():
        billing_run_lock()
        due = _due(run_date)
        periods = {p for _, p, _ in due}
        billed = set(
            ScheduleRun.objects.filter(
                schedule_id__in=[s.pk for s, _, _ in due], period_start__in=periods
            ).values_list("schedule_id", "period_start")
        )
        pending, skipped = _pending(due=due, billed=billed)
        created = 0
        for start in range(0, len(pending), BATCH):
            created += _drafts_write(
                chunk=pending[start : start + BATCH],
                now=now,
                rule=rule,
                currency=currency,
                default_terms=settings.default_terms,
            )
        audit.record(
            actor=actor,
            action="billing.recurring_run",
            at=now,
            after={
                "run_date": run_date,
                "created": created,
                "already_billed": len(billed),
                "skipped": len(skipped),
            },
            actor_label=None if actor else "billing scheduler",
        )
    return RunResult(
        run_date=run_date, created=created, already_billed=len(billed), skipped=skipped
    )


def _due(run_date: date) -> list[tuple[RecurringSchedule, date, int]]:
    """Every active schedule started by ``run_date``, with the period containing it (start,
    sequence)."""
    schedules = (
        RecurringSchedule.objects.filter(active=True, start_date__lte=run_date)
        .select_related("matter", "matter__client", "template", "template__service")
        .order_by("id")
    )
    due: list[tuple[RecurringSchedule, date, int]] = []
    for schedule in schedules.iterator(chunk_size=BATCH):
        found = period_for(cadence=schedule.cadence, start=schedule.start_date, run_date=run_date)
        if found is not None:
            due.append((schedule, found[0], found[1]))
    return due


def _pending(
    *, due: list[tuple[RecurringSchedule, date, int]], billed: set[tuple[int, date]]
) -> tuple[list[Pending], dict[int, str]]:
    """The invoices to draft (periods not billed yet), and the schedules skipped with why (a
    payment plan's installments all billed, a payer rule forbidding the beneficiary)."""
    template_cache: dict[int, list[tuple[Any, int]]] = {}
    allowed_cache: dict[tuple[int | None, str], bool] = {}
    skipped: dict[int, str] = {}
    pending: list[Pending] = []
    for schedule, period, sequence in due:
        if (schedule.pk, period) in billed:
            continue
        if schedule.cadence == Cadence.PAYMENT_PLAN and sequence > schedule.installments:
            skipped[schedule.pk] = "plan finished"
            continue
        specs, categories = _line_specs(
            schedule=schedule, period=period, sequence=sequence, template_cache=template_cache
        )
        if schedule.template.bill_to == Payer.BENEFICIARY and _beneficiary_refused(
            schedule=schedule, categories=categories, allowed_cache=allowed_cache
        ):
            skipped[schedule.pk] = "payer rule forbids billing the beneficiary"
            continue
        pending.append((schedule, period, sequence, specs))
    return pending, skipped


def _line_specs(
    *,
    schedule: RecurringSchedule,
    period: date,
    sequence: int,
    template_cache: dict[int, list[tuple[Any, int]]],
) -> tuple[list[LineSpec], list[str]]:
    """A period's lines and their categories: a payment plan's one installment, else the
    template's lines labelled with the month or quarter."""
    template = schedule.template
    if schedule.cadence == Cadence.PAYMENT_PLAN:
        part = split(schedule.total_cents, schedule.installments)[sequence - 1]
        specs: list[LineSpec] = [
            (
                None,
                part,
                f"{template.name}: installment {sequence} of {schedule.installments}",
                LineKind.INSTALLMENT,
            )
        ]
        return specs, ["ATTORNEY_FEE"]
    if template.pk not in template_cache:
        template_cache[template.pk] = _template_lines(template)
    label = (
        period.strftime("%B %Y")
        if schedule.cadence == Cadence.MONTHLY
        else (f"Q{(period.month - 1) // 3 + 1} {period.year}")
    )
    specs = [
        (line, amount, f"{line.description} — {label}", line.kind)
        for line, amount in template_cache[template.pk]
    ]
    return specs, [line.category for line, _, _, _ in specs]


def _beneficiary_refused(
    *,
    schedule: RecurringSchedule,
    categories: list[str],
    allowed_cache: dict[tuple[int | None, str], bool],
) -> bool:
    """Whether a payer rule of the matter's case type forbids billing the beneficiary for one
    of these categories (each rule read once per run)."""
    refused = False
    for category in categories:
        key = (schedule.matter.case_type_id, category)
        if key not in allowed_cache:
            found_rule = payer_rule_get(case_type_id=key[0], category=category)
            allowed_cache[key] = found_rule is None or found_rule.beneficiary_may_pay
        refused = refused or not allowed_cache[key]
    return refused


def _drafts_write(
    *, chunk: list[Pending], now: datetime, rule: str, currency: str, default_terms: str
) -> int:
    """One batch of drafts in three INSERT statements: the invoices (in review), their lines,
    and the ScheduleRun rows that make the run idempotent. Returns how many were drafted."""
    invoices = []
    for schedule, _period, _seq, specs in chunk:
        matter = schedule.matter
        amounts = [
            line_amount_cents(quantity=Decimal(1), unit_price_cents=a, rule=rule)
            for _, a, _, _ in specs
        ]
        subtotal = sum(amounts)
        invoices.append(
            Invoice(
                client_id=matter.client_id,
                matter_id=matter.pk,
                status=InvoiceStatus.IN_REVIEW,
                currency=currency,
                created_at=now,
                bill_to=schedule.template.bill_to,
                responsible_partner_id=matter.responsible_partner_id
                or matter.client.responsible_partner_id,
                template_id=schedule.template_id,
                subtotal_cents=subtotal,
                tax_cents=0,
                total_cents=subtotal,
                terms=schedule.template.terms or default_terms,
                notes=schedule.template.notes,
                triggered_at=now,
            )
        )
    Invoice.objects.bulk_create(invoices, batch_size=BATCH)
    lines = []
    runs = []
    for invoice, (schedule, period, sequence, specs) in zip(invoices, chunk, strict=True):
        lines.extend(_draft_lines(invoice=invoice, schedule=schedule, period=period, specs=specs))
        runs.append(
            ScheduleRun(
                schedule_id=schedule.pk,
                period_start=period,
                sequence=sequence,
                invoice_id=invoice.pk,
                run_at=now,
            )
        )
    InvoiceLine.objects.bulk_create(lines, batch_size=BATCH)
    ScheduleRun.objects.bulk_create(runs, batch_size=BATCH)
    return len(invoices)


def _draft_lines(
    *, invoice: Invoice, schedule: RecurringSchedule, period: date, specs: list[LineSpec]
) -> list[InvoiceLine]:
    service = schedule.template.service
    return [
        InvoiceLine(
            invoice_id=invoice.pk,
            position=position,
            kind=kind,
            category=spec.category if spec is not None else "ATTORNEY_FEE",
            service_id=(spec.service_id if spec is not None and spec.service_id else service.pk),
            description=description[:300],
            line_date=period,
            quantity=Decimal(1),
            unit_price_cents=amount,
            amount_cents=amount,
            taxable=False,
            utbms_task_code=service.utbms_task_code,
            utbms_activity_code=service.utbms_activity_code,
        )
        for position, (spec, amount, description, kind) in enumerate(specs, start=1)
    ]
