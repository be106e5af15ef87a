"""Time entries, expenses and client cost advances."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum

from caseledger.billing import utbms
from caseledger.billing.calc import (
    HOURS_OVER_DAY,
    MAX_MINUTES_PER_DAY,
    hours_label,
    minutes_from_hours,
    time_amount_cents,
)
from caseledger.billing.choices import ExpenseKind
from caseledger.billing.exceptions import BillingError
from caseledger.billing.locks import matter_lock, unbilled_lock
from caseledger.billing.models import Expense, TimeEntry
from caseledger.billing.selectors import billing_settings_get, rate_resolve
from caseledger.billing.services.common import firm_currency, firm_rounding, parse_amount
from caseledger.core import audit, clock

ACTIVITY_CODE_INVALID = "activity_code: must be a UTBMS activity code such as A103 (got {value!r})"
TASK_CODE_INVALID = "task_code: must be a UTBMS task code such as L120 (got {value!r})"
TASK_CODE_IS_PHASE = (
    "task_code: {value} is a UTBMS phase, not a task; choose one of its tasks, e.g. {example}"
)
TASK_CODE_REQUIRED = (
    "task_code: {client} is billed in LEDES; choose the UTBMS task code of this work"
)
EXPENSE_CODE_INVALID = "expense_code: must be a UTBMS expense code such as E101 (got {value!r})"
NARRATIVE_REQUIRED = "narrative: describe the work done"
DESCRIPTION_REQUIRED = "description: is required"
RATE_MISSING = "rate: {timekeeper} has no hourly rate; set one under Fee schedule › Rates"
ENTRY_BILLED = "time entry: already billed on invoice {invoice}; it can no longer change"
EXPENSE_BILLED = "expense: already billed on invoice {invoice}; it can no longer change"
EXPENSE_KIND_INVALID = "kind: must be EXPENSE or COST_ADVANCE (got {value!r})"


def activity_code_check(value: str) -> str:
    code = value.strip().upper()
    if not utbms.is_activity(code):
        raise BillingError(ACTIVITY_CODE_INVALID.format(value=code), field="activity_code")
    return code


def task_code_check(value: str) -> str:
    """A task of the shipped code set, or '' (a phase such as L100 is refused, not exported)."""
    code = value.strip().upper()
    if not code:
        return ""
    if utbms.is_phase(code):
        example = next(c for c in utbms.LITIGATION_TASKS if c[:2] == code[:2])
        raise BillingError(
            TASK_CODE_IS_PHASE.format(value=code, example=example), field="task_code"
        )
    if not utbms.is_task(code):
        raise BillingError(TASK_CODE_INVALID.format(value=code), field="task_code")
    return code


def expense_code_check(value: str) -> str:
    """``value`` upper-cased when it is a UTBMS expense code (E101-E124); raises otherwise."""
    code = value.strip().upper()
    if not utbms.is_expense(code):
        raise BillingError(EXPENSE_CODE_INVALID.format(value=code), field="expense_code")
    return code


def _require_task_for_ledes(matter: Any, task_code: str) -> None:
    client = matter.client
    if not task_code and getattr(client, "ledes_required", False):
        raise BillingError(TASK_CODE_REQUIRED.format(client=client.name), field="task_code")


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
    REFUSE) or make the timekeeper's day longer than 24 hours, when a code is not in the shipped
    UTBMS sets (a phase is not a task), or when the client is billed in LEDES and no task code
    is given."""
    activity_code = activity_code_check(activity_code)
    task_code = task_code_check(task_code)
    if not narrative.strip():
        raise BillingError(NARRATIVE_REQUIRED, field="narrative")
    clock.date_check(work_date, field="work_date")
    settings = billing_settings_get()
    minutes = minutes_from_hours(
        value=hours, increment=settings.time_increment_minutes, rounding=settings.time_rounding
    )
    with transaction.atomic():
        locked = matter_lock(matter_id=matter.pk)
        _assert_open_for_work(locked, actor=actor, now=now)
        _require_task_for_ledes(locked, task_code)
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


def _locked_unbilled(model: Any, pk: int, *, what: str) -> Any:
    """Lock the matter (drafting takes the same lock before it bills unbilled work), then the
    row; refuse a billed one with a message naming its invoice."""
    matter_id = model.objects.values_list("matter_id", flat=True).get(pk=pk)
    matter_lock(matter_id=matter_id)
    row = unbilled_lock(model=model, pk=pk)
    if row.invoice_line is not None:
        raise BillingError(
            (ENTRY_BILLED if what == "time entry" else EXPENSE_BILLED).format(
                invoice=row.invoice_line.invoice
            ),
            field=what.replace(" ", "_"),
        )
    return row


def time_entry_update(
    *,
    entry: TimeEntry,
    work_date: date,
    hours: Any,
    activity_code: str,
    narrative: str,
    billable: bool,
    task_code: str = "",
    actor: Any,
    now: datetime,
) -> TimeEntry:
    """Correct an unbilled time entry: date, hours (in the firm's increment), codes, narrative,
    billable. The rate stays the one resolved when it was recorded; the amount is rounded once
    again. Refused once billed (naming the invoice), beyond 24 h a day, or with a bad code.
    One ``billing.time_updated`` event with the changed fields."""
    activity_code = activity_code_check(activity_code)
    task_code = task_code_check(task_code)
    if not narrative.strip():
        raise BillingError(NARRATIVE_REQUIRED, field="narrative")
    clock.date_check(work_date, field="work_date")
    settings = billing_settings_get()
    minutes = minutes_from_hours(
        value=hours, increment=settings.time_increment_minutes, rounding=settings.time_rounding
    )
    with transaction.atomic():
        row = _locked_unbilled(TimeEntry, entry.pk, what="time entry")
        _require_task_for_ledes(row.matter, task_code)
        day_total = (
            TimeEntry.objects.filter(timekeeper_id=row.timekeeper_id, work_date=work_date)
            .exclude(pk=row.pk)
            .aggregate(total=Sum("minutes"))["total"]
            or 0
        )
        if day_total + minutes > MAX_MINUTES_PER_DAY:
            raise BillingError(
                HOURS_OVER_DAY.format(
                    who=row.timekeeper, total=hours_label(day_total + minutes), day=work_date
                ),
                field="hours",
            )
        fields = ("work_date", "minutes", "activity_code", "task_code", "narrative", "billable")
        before = {f: getattr(row, f) for f in (*fields, "amount_cents")}
        row.work_date = work_date
        row.minutes = minutes
        row.activity_code = activity_code
        row.task_code = task_code
        row.narrative = narrative.strip()
        row.billable = billable
        row.amount_cents = time_amount_cents(
            minutes=minutes, rate_cents=row.rate_cents, rule=firm_rounding()
        )
        row.save(update_fields=[*fields, "amount_cents"])
        b, a = audit.diff(before, {f: getattr(row, f) for f in before})
        audit.record(actor=actor, action="billing.time_updated", at=now, obj=row, before=b, after=a)
    return row


def time_entry_delete(*, entry: TimeEntry, actor: Any, now: datetime) -> None:
    """Delete an unbilled time entry (a mistake never billed); refused once billed, naming the
    invoice. The ``billing.time_deleted`` event keeps what it was."""
    with transaction.atomic():
        row = _locked_unbilled(TimeEntry, entry.pk, what="time entry")
        audit.record(
            actor=actor,
            action="billing.time_deleted",
            at=now,
            obj=row,
            before={
                "matter": row.matter_id,
                "timekeeper": row.timekeeper_id,
                "work_date": row.work_date,
                "minutes": row.minutes,
                "amount_cents": row.amount_cents,
                "narrative": row.narrative,
            },
        )
        row.delete()


def _cost_advance_post(
    *, matter: Any, expense_date: date, description: str, cents: int, actor: Any, now: datetime
) -> Any:
    """The firm paid a cost for the client from operating: Dr 1300 client cost advances
    (client, matter), Cr 1000 operating bank. Billing the advance credits 1300 (invoice_issue)."""
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    return entry_post(
        kind=EntryKind.COST_ADVANCE,
        entry_date=expense_date,
        memo=f"Cost advance: {description[:120]} · {matter.number}",
        lines=[
            PostingLine(accounts.CLIENT_COST_ADVANCES, cents, client=matter.client, matter=matter),
            PostingLine(accounts.OPERATING_BANK, -cents),
        ],
        actor=actor,
        now=now,
    )


def _cost_advance_reverse(row: Expense, *, actor: Any, now: datetime, why: str) -> None:
    """Undo an unbilled cost advance's payment entry (the advance changed or was deleted)."""
    from caseledger.ledger.services import entry_reverse

    entry = row.entry
    if entry is None:
        return
    entry_reverse(
        entry=entry,
        actor=actor,
        now=now,
        entry_date=max(clock.firm_date(now), entry.entry_date),
        memo=f"Cost advance {why}: {row.description[:120]}",
    )


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
    """An expense, or a client cost advance (a fee the firm paid for the client from operating:
    posted at once, Dr 1300 client cost advances / Cr 1000 operating bank, and billed later
    against 1300). One transaction with its audit event."""
    if kind not in ExpenseKind.values:
        raise BillingError(EXPENSE_KIND_INVALID.format(value=kind), field="kind")
    expense_code = expense_code_check(expense_code)
    if not description.strip():
        raise BillingError(DESCRIPTION_REQUIRED, field="description")
    clock.date_check(expense_date, field="expense_date")
    cents = parse_amount(amount, field="amount", currency=firm_currency(), allow_zero=False)
    with transaction.atomic():
        locked = matter_lock(matter_id=matter.pk)
        _assert_open_for_work(locked, actor=actor, now=now)
        entry = None
        if kind == ExpenseKind.COST_ADVANCE:
            entry = _cost_advance_post(
                matter=locked,
                expense_date=expense_date,
                description=description.strip(),
                cents=cents,
                actor=actor,
                now=now,
            )
        expense = Expense.objects.create(
            matter=locked,
            kind=kind,
            expense_date=expense_date,
            description=description.strip(),
            amount_cents=cents,
            expense_code=expense_code,
            billable=billable,
            entry=entry,
            created_by=actor,
            created_at=now,
        )
        after: dict[str, Any] = {"matter": locked.pk, "kind": kind, "amount_cents": cents}
        if entry is not None:
            after["entry"] = entry.pk
        audit.record(
            actor=actor, action="billing.expense_recorded", at=now, obj=expense, after=after
        )
    return expense


def expense_update(
    *,
    expense: Expense,
    kind: str,
    expense_date: date,
    description: str,
    amount: Any,
    expense_code: str,
    billable: bool,
    actor: Any,
    now: datetime,
) -> Expense:
    """Correct an unbilled expense or cost advance; refused once billed (naming the invoice).
    When a cost advance's kind, date, amount or description changes, its payment entry is
    reversed and the corrected advance posted again (Dr 1300 / Cr 1000), in the same
    transaction. One ``billing.expense_updated`` event with the changed fields."""
    if kind not in ExpenseKind.values:
        raise BillingError(EXPENSE_KIND_INVALID.format(value=kind), field="kind")
    expense_code = expense_code_check(expense_code)
    if not description.strip():
        raise BillingError(DESCRIPTION_REQUIRED, field="description")
    clock.date_check(expense_date, field="expense_date")
    cents = parse_amount(amount, field="amount", currency=firm_currency(), allow_zero=False)
    with transaction.atomic():
        row = _locked_unbilled(Expense, expense.pk, what="expense")
        fields = ("kind", "expense_date", "description", "amount_cents", "expense_code", "billable")
        before = {f: getattr(row, f) for f in fields}
        row.kind = kind
        row.expense_date = expense_date
        row.description = description.strip()
        row.amount_cents = cents
        row.expense_code = expense_code
        row.billable = billable
        posted = (row.kind, row.expense_date, row.amount_cents, row.description)
        was = (
            before["kind"],
            before["expense_date"],
            before["amount_cents"],
            before["description"],
        )
        save = list(fields)
        if posted != was and (row.entry_id is not None or kind == ExpenseKind.COST_ADVANCE):
            _cost_advance_reverse(row, actor=actor, now=now, why="corrected")
            row.entry = None
            if kind == ExpenseKind.COST_ADVANCE:
                row.entry = _cost_advance_post(
                    matter=row.matter,
                    expense_date=expense_date,
                    description=row.description,
                    cents=cents,
                    actor=actor,
                    now=now,
                )
            save.append("entry")
        row.save(update_fields=save)
        b, a = audit.diff(before, {f: getattr(row, f) for f in fields})
        audit.record(
            actor=actor, action="billing.expense_updated", at=now, obj=row, before=b, after=a
        )
    return row


def expense_delete(*, expense: Expense, actor: Any, now: datetime) -> None:
    """Delete an unbilled expense; refused once billed, naming the invoice. A cost advance's
    payment entry is reversed (the payment was a mistake, or came back)."""
    with transaction.atomic():
        row = _locked_unbilled(Expense, expense.pk, what="expense")
        _cost_advance_reverse(row, actor=actor, now=now, why="deleted")
        audit.record(
            actor=actor,
            action="billing.expense_deleted",
            at=now,
            obj=row,
            before={
                "matter": row.matter_id,
                "kind": row.kind,
                "expense_date": row.expense_date,
                "description": row.description,
                "amount_cents": row.amount_cents,
            },
        )
        row.delete()
