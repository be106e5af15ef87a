"""Recurring billing: monthly, quarterly and payment-plan schedules.

``billing_run`` drafts every schedule's invoice for the period containing ``run_date``, at most
once per (schedule, period): a ScheduleRun row with a unique (schedule, period_start) is written
with each invoice, runs are serialized by a lock, and a rerun finds the rows and creates
nothing. The run works in bulk (a fixed number of statements per batch of drafts, none per
matter; on PostgreSQL the rows go in by COPY) so month-end over tens of thousands of matters
takes seconds; it records one audit event for the run.
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
from caseledger.core import audit, bulk
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


@dataclass(frozen=True, slots=True)
class Due:
    """A schedule due on the run date, read as plain columns (no model instances): the period
    containing the run date (start, sequence) and what its draft needs of the matter."""

    schedule_id: int
    cadence: str
    installments: int
    total_cents: int
    template_id: int
    matter_id: int
    client_id: int
    case_type_id: int | None
    partner_id: int | None  # the matter's responsible partner, else the client's
    period: date
    sequence: int


# One invoice to draft: the schedule due, its lines.
Pending = tuple[Due, list[LineSpec]]


def billing_run(*, run_date: date, now: datetime, actor: Any = None) -> RunResult:
    """Draft the invoices of every active schedule due on ``run_date``. Idempotent."""
    rule = firm_rounding()
    currency = firm_currency()
    settings = billing_settings_get()
    with transaction.atomic():
        billing_run_lock()
        due = _due(run_date)
        periods = {d.period for d in due}
        billed = set(
            ScheduleRun.objects.filter(
                schedule_id__in=[d.schedule_id for d in due], period_start__in=periods
            ).values_list("schedule_id", "period_start")
        )
        templates = InvoiceTemplate.objects.select_related("service").in_bulk(
            {d.template_id for d in due}
        )
        pending, skipped = _pending(due=due, billed=billed, templates=templates)
        created = 0
        for start in range(0, len(pending), BATCH):
            created += _drafts_write(
                chunk=pending[start : start + BATCH],
                templates=templates,
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


def _due(run_date: date) -> list[Due]:
    """Every active schedule started by ``run_date``, with the period containing it (start,
    sequence): one query of plain columns."""
    rows = (
        RecurringSchedule.objects.filter(active=True, start_date__lte=run_date)
        .order_by("id")
        .values_list(
            "id",
            "cadence",
            "start_date",
            "installments",
            "total_cents",
            "template_id",
            "matter_id",
            "matter__client_id",
            "matter__case_type_id",
            "matter__responsible_partner_id",
            "matter__client__responsible_partner_id",
        )
    )
    due: list[Due] = []
    for pk, cadence, start, installments, total, template_id, matter_id, *rest in rows.iterator(
        chunk_size=BATCH
    ):
        client_id, case_type_id, matter_partner, client_partner = rest
        found = period_for(cadence=cadence, start=start, run_date=run_date)
        if found is not None:
            due.append(
                Due(
                    schedule_id=pk,
                    cadence=cadence,
                    installments=installments,
                    total_cents=total,
                    template_id=template_id,
                    matter_id=matter_id,
                    client_id=client_id,
                    case_type_id=case_type_id,
                    partner_id=matter_partner or client_partner,
                    period=found[0],
                    sequence=found[1],
                )
            )
    return due


def _pending(
    *,
    due: list[Due],
    billed: set[tuple[int, date]],
    templates: dict[int, InvoiceTemplate],
) -> tuple[list[Pending], dict[int, str]]:
    """The invoices to draft (periods not billed yet), and the schedules skipped with why (a
    payment plan's installments all billed, a payer rule forbidding the beneficiary)."""
    template_cache: dict[int, list[tuple[Any, int]]] = {}
    allowed_cache: dict[tuple[int | None, str], bool] = {}
    skipped: dict[int, str] = {}
    pending: list[Pending] = []
    for item in due:
        if (item.schedule_id, item.period) in billed:
            continue
        if item.cadence == Cadence.PAYMENT_PLAN and item.sequence > item.installments:
            skipped[item.schedule_id] = "plan finished"
            continue
        template = templates[item.template_id]
        specs, categories = _line_specs(item=item, template=template, template_cache=template_cache)
        if template.bill_to == Payer.BENEFICIARY and _beneficiary_refused(
            case_type_id=item.case_type_id, categories=categories, allowed_cache=allowed_cache
        ):
            skipped[item.schedule_id] = "payer rule forbids billing the beneficiary"
            continue
        pending.append((item, specs))
    return pending, skipped


def _line_specs(
    *,
    item: Due,
    template: InvoiceTemplate,
    template_cache: dict[int, list[tuple[Any, int]]],
) -> tuple[list[LineSpec], list[str]]:
    """A period's lines and their categories: a payment plan's one installment, else the
    template's lines labelled with the month or quarter."""
    if item.cadence == Cadence.PAYMENT_PLAN:
        part = split(item.total_cents, item.installments)[item.sequence - 1]
        specs: list[LineSpec] = [
            (
                None,
                part,
                f"{template.name}: installment {item.sequence} of {item.installments}",
                LineKind.INSTALLMENT,
            )
        ]
        return specs, ["ATTORNEY_FEE"]
    if template.pk not in template_cache:
        template_cache[template.pk] = _template_lines(template)
    period = item.period
    label = (
        period.strftime("%B %Y")
        if item.cadence == Cadence.MONTHLY
        else (f"Q{(period.month - 1) // 3 + 1} {period.year}")
    )
    specs = [
        (line, amount, f"{line.description} — {label}", line.kind)
        for line, amount in template_cache[template.pk]
    ]
    return specs, [line.category for line, _, _, _ in specs]


def _beneficiary_refused(
    *,
    case_type_id: int | None,
    categories: list[str],
    allowed_cache: dict[tuple[int | None, str], bool],
) -> bool:
    """Whether a payer rule of the matter's case type forbids billing the beneficiary for one
    of these categories (each rule read once per run)."""
    refused = False
    for category in categories:
        key = (case_type_id, category)
        if key not in allowed_cache:
            found_rule = payer_rule_get(case_type_id=key[0], category=category)
            allowed_cache[key] = found_rule is None or found_rule.beneficiary_may_pay
        refused = refused or not allowed_cache[key]
    return refused


# The columns each draft sets; every other column takes its field's default
# (``core.bulk.insert_rows``).
INVOICE_COLUMNS = (
    "client_id",
    "matter_id",
    "bill_to",
    "responsible_partner_id",
    "template_id",
    "subtotal_cents",
    "total_cents",
    "terms",
    "notes",
)
LINE_COLUMNS = (
    "invoice_id",
    "position",
    "kind",
    "category",
    "service_id",
    "description",
    "line_date",
    "unit_price_cents",
    "amount_cents",
    "utbms_task_code",
    "utbms_activity_code",
)
RUN_COLUMNS = ("schedule_id", "period_start", "sequence", "invoice_id")


def _drafts_write(
    *,
    chunk: list[Pending],
    templates: dict[int, InvoiceTemplate],
    now: datetime,
    rule: str,
    currency: str,
    default_terms: str,
) -> int:
    """One batch of drafts: the invoices (in review), their lines, and the ScheduleRun rows
    that make the run idempotent, each table in one statement (``core.bulk.insert_rows``).
    Returns how many were drafted."""
    invoice_rows = []
    for item, specs in chunk:
        template = templates[item.template_id]
        subtotal = sum(
            line_amount_cents(quantity=Decimal(1), unit_price_cents=a, rule=rule)
            for _, a, _, _ in specs
        )
        invoice_rows.append(
            (
                item.client_id,
                item.matter_id,
                template.bill_to,
                item.partner_id,
                item.template_id,
                subtotal,
                subtotal,
                template.terms or default_terms,
                template.notes,
            )
        )
    invoice_ids = bulk.insert_rows(
        Invoice,
        INVOICE_COLUMNS,
        invoice_rows,
        constants={
            "status": InvoiceStatus.IN_REVIEW,
            "currency": currency,
            "created_at": now,
            "tax_cents": 0,
            "triggered_at": now,
        },
        ids=True,
    )
    line_rows: list[tuple[Any, ...]] = []
    run_rows = []
    for invoice_id, (item, specs) in zip(invoice_ids, chunk, strict=True):
        line_rows.extend(
            _draft_lines(
                invoice_id=invoice_id,
                service=templates[item.template_id].service,
                period=item.period,
                specs=specs,
            )
        )
        run_rows.append((item.schedule_id, item.period, item.sequence, invoice_id))
    bulk.insert_rows(
        InvoiceLine,
        LINE_COLUMNS,
        line_rows,
        constants={"quantity": Decimal(1), "taxable": False},
    )
    bulk.insert_rows(ScheduleRun, RUN_COLUMNS, run_rows, constants={"run_at": now})
    return len(invoice_rows)


def _draft_lines(
    *, invoice_id: int, service: Any, period: date, specs: list[LineSpec]
) -> list[tuple[Any, ...]]:
    """The draft's line rows (``LINE_COLUMNS``)."""
    return [
        (
            invoice_id,
            position,
            kind,
            spec.category if spec is not None else "ATTORNEY_FEE",
            spec.service_id if spec is not None and spec.service_id else service.pk,
            description[:300],
            period,
            amount,
            amount,
            service.utbms_task_code,
            service.utbms_activity_code,
        )
        for position, (spec, amount, description, kind) in enumerate(specs, start=1)
    ]
