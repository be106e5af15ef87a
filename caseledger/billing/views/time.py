"""Recorded work: the WIP report, time entries and expenses (record, correct, delete)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caseledger.billing import forms, selectors, services
from caseledger.billing.models import (
    Expense,
    TimeEntry,
)
from caseledger.billing.views.common import selectors_currency
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.forms import handle_form
from caseledger.core.money import Money
from caseledger.core.permissions import capability_required, require

WIP_PAGE_ROWS = 50  # matters per page of work in progress


@capability_required("billing.wip")
def wip(request: HttpRequest) -> HttpResponse:
    summary = selectors.wip(user=staff(request))
    page = Paginator(summary.matters, WIP_PAGE_ROWS).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/wip.html",
        {
            "summary": summary,
            "page": page,
            "by_matter": selectors.wip_rows(page.object_list),
        },
    )


@capability_required("billing.time")
def time_entry_new(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    form = forms.TimeEntryForm(
        request.POST or None, user=staff(request), initial={"work_date": clock.firm_date(now)}
    )
    entry = handle_form(
        request,
        form,
        lambda d: services.time_entry_create(
            timekeeper=staff(request),
            matter=d["matter"],
            work_date=d["work_date"],
            hours=d["hours"],
            activity_code=d["activity_code"],
            task_code=d["task_code"],
            narrative=d["narrative"],
            billable=d["billable"],
            actor=staff(request),
            now=now,
        ),
    )
    if entry is not None:
        amount = Money(entry.amount_cents, selectors_currency()).format()
        messages.success(request, f"Recorded {entry.minutes / 60:.2f} h ({amount}).")
        return redirect("billing:time_entry_new")
    return _time_page(request, form=form)


def _time_page(
    request: HttpRequest,
    *,
    form: forms.TimeEntryForm | None = None,
    expense_form: forms.ExpenseForm | None = None,
) -> HttpResponse:
    initial = {"work_date": clock.firm_today(), "expense_date": clock.firm_today()}
    recent = (
        TimeEntry.objects.filter(timekeeper_id=staff(request).pk)
        .select_related("matter", "invoice_line__invoice")
        .order_by("-work_date", "-id")[:15]
    )
    expenses = (
        Expense.objects.filter(created_by_id=staff(request).pk)
        .select_related("matter", "invoice_line__invoice")
        .order_by("-expense_date", "-id")[:15]
    )
    return render(
        request,
        "billing/time_entry_form.html",
        {
            "form": form or forms.TimeEntryForm(user=staff(request), initial=initial),
            "recent": recent,
            "expenses": expenses,
            "expense_form": expense_form or forms.ExpenseForm(user=staff(request), initial=initial),
        },
    )


@require_POST
@capability_required("billing.time")
def expense_new(request: HttpRequest) -> HttpResponse:
    form = forms.ExpenseForm(request.POST, user=staff(request))
    expense = handle_form(
        request,
        form,
        lambda d: services.expense_create(
            matter=d["matter"],
            kind=d["kind"],
            expense_date=d["expense_date"],
            description=d["description"],
            amount=d["amount"],
            expense_code=d["expense_code"],
            billable=d["billable"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if expense is None:
        return _time_page(request, expense_form=form)
    messages.success(request, "Expense recorded.")
    return redirect("billing:time_entry_new")


def _work_for(request: HttpRequest, model: Any, pk: int) -> Any:
    """A time entry or expense the user may correct: their own, or, with ``billing.edit`` (they
    edit drafts for the firm), anyone's on a matter they see."""
    from caseledger.matters.selectors import matters_visible_to

    row = get_object_or_404(model.objects.select_related("matter", "invoice_line__invoice"), pk=pk)
    owner = row.timekeeper_id if model is TimeEntry else row.created_by_id
    if owner == staff(request).pk:
        # one's own work stays correctable after leaving the matter's staff (it is listed on
        # the time page, which shows one's own recent entries)
        return row
    if not matters_visible_to(staff(request)).filter(pk=row.matter_id).exists():
        raise Http404
    require(staff(request), "billing.edit")
    return row


def _work_edit(
    request: HttpRequest,
    row: TimeEntry | Expense,
    form: Any,
    update: Callable[[dict[str, Any]], object],
    *,
    what: str,
    delete_url: str,
) -> HttpResponse:
    """The correction page of an unbilled time entry or expense (``what``): the form through
    ``update``, then back to the time page; shown again with its errors otherwise."""
    if handle_form(request, form, update) is not None:
        messages.success(request, f"{what} corrected.")
        return redirect("billing:time_entry_new")
    return render(
        request,
        "billing/work_edit.html",
        {
            "form": form,
            "row": row,
            "title": f"{what} on {row.matter.number}",
            "delete_url": reverse(delete_url, args=[row.pk]),
        },
    )


def _work_delete(
    request: HttpRequest,
    row: TimeEntry | Expense,
    delete: Callable[[], object],
    *,
    what: str,
    edit_url: str,
) -> HttpResponse:
    """Delete an unbilled time entry or expense; a refusal goes back to its correction page."""

    def deleted() -> bool:
        delete()
        return True

    if service_action(request, deleted, f"{what} deleted.") is None:
        return redirect(edit_url, row.pk)
    return redirect("billing:time_entry_new")


@capability_required("billing.time")
def time_entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _work_for(request, TimeEntry, pk)
    form = forms.TimeEntryEditForm(
        request.POST or None,
        initial={
            "work_date": entry.work_date,
            "hours": f"{entry.minutes / 60:.2f}",
            "activity_code": entry.activity_code,
            "task_code": entry.task_code,
            "narrative": entry.narrative,
            "billable": entry.billable,
        },
    )
    return _work_edit(
        request,
        entry,
        form,
        lambda d: services.time_entry_update(
            entry=entry,
            work_date=d["work_date"],
            hours=d["hours"],
            activity_code=d["activity_code"],
            task_code=d["task_code"],
            narrative=d["narrative"],
            billable=d["billable"],
            actor=staff(request),
            now=clock.now(),
        ),
        what="Time entry",
        delete_url="billing:time_entry_delete",
    )


@require_POST
@capability_required("billing.time")
def time_entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _work_for(request, TimeEntry, pk)
    return _work_delete(
        request,
        entry,
        lambda: services.time_entry_delete(entry=entry, actor=staff(request), now=clock.now()),
        what="Time entry",
        edit_url="billing:time_entry_edit",
    )


@capability_required("billing.time")
def expense_edit(request: HttpRequest, pk: int) -> HttpResponse:
    expense = _work_for(request, Expense, pk)
    form = forms.ExpenseEditForm(
        request.POST or None,
        initial={
            "kind": expense.kind,
            "expense_date": expense.expense_date,
            "description": expense.description,
            "amount": Money(expense.amount_cents, selectors_currency()).format(symbol=False),
            "expense_code": expense.expense_code,
            "billable": expense.billable,
        },
    )
    return _work_edit(
        request,
        expense,
        form,
        lambda d: services.expense_update(
            expense=expense,
            kind=d["kind"],
            expense_date=d["expense_date"],
            description=d["description"],
            amount=d["amount"],
            expense_code=d["expense_code"],
            billable=d["billable"],
            actor=staff(request),
            now=clock.now(),
        ),
        what="Expense",
        delete_url="billing:expense_delete",
    )


@require_POST
@capability_required("billing.time")
def expense_delete(request: HttpRequest, pk: int) -> HttpResponse:
    expense = _work_for(request, Expense, pk)
    return _work_delete(
        request,
        expense,
        lambda: services.expense_delete(expense=expense, actor=staff(request), now=clock.now()),
        what="Expense",
        edit_url="billing:expense_edit",
    )
