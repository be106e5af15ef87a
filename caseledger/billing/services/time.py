"""Time entries, expenses and client cost advances."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum

from caseledger.billing.calc import (
    HOURS_OVER_DAY,
    MAX_MINUTES_PER_DAY,
    hours_label,
    minutes_from_hours,
    time_amount_cents,
)
from caseledger.billing.choices import ExpenseKind
from caseledger.billing.exceptions import BillingError
from caseledger.billing.locks import matter_lock
from caseledger.billing.models import Expense, TimeEntry
from caseledger.billing.selectors import billing_settings_get, rate_resolve
from caseledger.billing.services.common import firm_currency, firm_rounding, parse_amount
from caseledger.core import audit

ACTIVITY_CODE_INVALID = "activity_code: must be a UTBMS activity code such as A103 (got {value!r})"
TASK_CODE_INVALID = "task_code: must be a UTBMS task code such as L120 (got {value!r})"
EXPENSE_CODE_INVALID = "expense_code: must be a UTBMS expense code such as E101 (got {value!r})"
NARRATIVE_REQUIRED = "narrative: describe the work done"
DESCRIPTION_REQUIRED = "description: is required"
RATE_MISSING = "rate: {timekeeper} has no hourly rate; set one under Fee schedule › Rates"
ENTRY_BILLED = "time entry: already billed on invoice {invoice}; it can no longer change"
EXPENSE_KIND_INVALID = "kind: must be EXPENSE or COST_ADVANCE (got {value!r})"

_ACTIVITY = re.compile(r"^A\d{3}$")
_TASK = re.compile(r"^[A-Z]\d{3}$")
_EXPENSE = re.compile(r"^E\d{3}$")


def _assert_open_for_work(matter: Any, *, actor: Any, now: datetime) -> None:
    from caseledger.matters.services import matter_assert_open_for_work

    matter_assert_open_for_work(matter=matter, actor=actor, now=now)


def time_entry_create(
    *,
    timekeeper: Any,
    matter: Any,
    work_date: date,
    hours: Any,
    activity_code: str,
    narrative: str,
    billable: bool = True,
    task_code: str = "",
    actor: Any,
    now: datetime,
) -> TimeEntry:
    """Record time in the firm's increment at the resolved rate (matter > client > default).

    Refused when the matter is on hold or closed, when the hours are off the increment (rule
    REFUSE) or make the timekeeper's day longer than 24 hours, or a code is malformed."""
    activity_code = activity_code.strip().upper()
    task_code = task_code.strip().upper()
    if not _ACTIVITY.match(activity_code):
        raise BillingError(ACTIVITY_CODE_INVALID.format(value=activity_code), field="activity_code")
    if task_code and not _TASK.match(task_code):
        raise BillingError(TASK_CODE_INVALID.format(value=task_code), field="task_code")
    if not narrative.strip():
        raise BillingError(NARRATIVE_REQUIRED, field="narrative")
    settings = billing_settings_get()
    minutes = minutes_from_hours(
        value=hours, increment=settings.time_increment_minutes, rounding=settings.time_rounding
    )
    with transaction.atomic():
        locked = matter_lock(matter_id=matter.pk)
        _assert_open_for_work(locked, actor=actor, now=now)
        day_total = (
            TimeEntry.objects.filter(timekeeper=timekeeper, work_date=work_date).aggregate(
                total=Sum("minutes")
            )["total"]
            or 0
        )
        if day_total + minutes > MAX_MINUTES_PER_DAY:
            raise BillingError(
                HOURS_OVER_DAY.format(
                    who=timekeeper, total=hours_label(day_total + minutes), day=work_date
                ),
                field="hours",
            )
        rate = rate_resolve(timekeeper=timekeeper, matter=locked)
        if rate is None:
            raise BillingError(RATE_MISSING.format(timekeeper=timekeeper), field="rate")
        entry = TimeEntry.objects.create(
            timekeeper=timekeeper,
            matter=locked,
            work_date=work_date,
            minutes=minutes,
            activity_code=activity_code,
            task_code=task_code,
            narrative=narrative.strip(),
            billable=billable,
            rate_cents=rate,
            amount_cents=time_amount_cents(minutes=minutes, rate_cents=rate, rule=firm_rounding()),
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="billing.time_recorded",
            at=now,
            obj=entry,
            after={
                "matter": locked.pk,
                "timekeeper": timekeeper.pk,
                "work_date": work_date,
                "minutes": minutes,
                "rate_cents": rate,
                "amount_cents": entry.amount_cents,
                "billable": billable,
            },
        )
    return entry


def time_entry_delete(*, entry: TimeEntry, actor: Any, now: datetime) -> None:
    with transaction.atomic():
        entry = (
            TimeEntry.objects.select_for_update()
            .select_related("invoice_line__invoice")
            .get(pk=entry.pk)
        )
        if entry.invoice_line is not None:
            raise BillingError(
                ENTRY_BILLED.format(invoice=entry.invoice_line.invoice), field="time_entry"
            )
        audit.record(
            actor=actor,
            action="billing.time_deleted",
            at=now,
            obj=entry,
            before={"minutes": entry.minutes, "amount_cents": entry.amount_cents},
        )
        entry.delete()


def expense_create(
    *,
    matter: Any,
    kind: str,
    expense_date: date,
    description: str,
    amount: Any,
    expense_code: str = "E101",
    billable: bool = True,
    actor: Any,
    now: datetime,
) -> Expense:
    """An expense, or a client cost advance (a fee the firm paid for the client, re-billed
    against the cost-advance account)."""
    if kind not in ExpenseKind.values:
        raise BillingError(EXPENSE_KIND_INVALID.format(value=kind), field="kind")
    expense_code = expense_code.strip().upper()
    if not _EXPENSE.match(expense_code):
        raise BillingError(EXPENSE_CODE_INVALID.format(value=expense_code), field="expense_code")
    if not description.strip():
        raise BillingError(DESCRIPTION_REQUIRED, field="description")
    cents = parse_amount(amount, field="amount", currency=firm_currency(), allow_zero=False)
    with transaction.atomic():
        locked = matter_lock(matter_id=matter.pk)
        _assert_open_for_work(locked, actor=actor, now=now)
        expense = Expense.objects.create(
            matter=locked,
            kind=kind,
            expense_date=expense_date,
            description=description.strip(),
            amount_cents=cents,
            expense_code=expense_code,
            billable=billable,
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="billing.expense_recorded",
            at=now,
            obj=expense,
            after={"matter": locked.pk, "kind": kind, "amount_cents": cents},
        )
    return expense
