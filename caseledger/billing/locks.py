"""Every row lock billing takes, in the project's global order:
matter -> trust balance -> invoice -> payment. Counter rows come after the invoice."""

from __future__ import annotations

from typing import Any

from caseledger.billing.models import BillingSettings, Expense, Invoice, InvoiceTemplate, TimeEntry
from caseledger.matters.models import Matter


def matter_lock(*, matter_id: int) -> Matter:
    return Matter.objects.select_for_update().get(pk=matter_id)


def invoice_lock(*, invoice_id: int) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice_id)


def invoices_lock(*, invoice_ids: list[int]) -> list[Invoice]:
    """Several invoices, locked in id order (so two bulk actions cannot deadlock)."""
    return list(Invoice.objects.select_for_update().filter(pk__in=invoice_ids).order_by("id"))


def billing_run_lock() -> BillingSettings:
    """The settings singleton, locked (created with its defaults first if nobody saved it yet).
    Serializes recurring billing runs (the row is the run's mutex) and settings updates."""
    BillingSettings.objects.get_or_create(id=1)
    return BillingSettings.objects.select_for_update().get(id=1)


def unbilled_lock(*, model: Any, pk: int) -> Any:
    """A time entry or expense (``model``), after its matter's lock; its invoice line and invoice
    come along unlocked (to name the invoice when it is billed already)."""
    return (
        model.objects.select_for_update(of=("self",))
        .select_related("invoice_line__invoice")
        .get(pk=pk)
    )


def unbilled_time_lock(*, matter_id: int) -> list[TimeEntry]:
    """The matter's billable time not yet on an invoice, in work order (after the matter's and
    the draft's locks), so two drafts cannot take the same entry."""
    return list(
        TimeEntry.objects.select_for_update()
        .filter(matter_id=matter_id, billable=True, invoice_line__isnull=True)
        .select_related("timekeeper")
        .order_by("work_date", "id")
    )


def unbilled_expenses_lock(*, matter_id: int) -> list[Expense]:
    """The matter's billable expenses not yet on an invoice, in date order."""
    return list(
        Expense.objects.select_for_update()
        .filter(matter_id=matter_id, billable=True, invoice_line__isnull=True)
        .order_by("expense_date", "id")
    )


def template_lock(*, template_id: int) -> InvoiceTemplate:
    """A template (configuration, outside the money lock order): its edits and the triggers
    added to it take this lock, so a trigger cannot be added to a template being deactivated."""
    return InvoiceTemplate.objects.select_for_update().get(pk=template_id)


def fee_advances_lock(*, matter_id: int) -> list[Any]:
    """The matter's fee advances (after the matter and before the invoice in the global order;
    issue takes them after the invoice lock, which nothing else holds while taking these)."""
    from caseledger.billing.models import FeeAdvance

    return list(FeeAdvance.objects.select_for_update().filter(matter_id=matter_id).order_by("id"))
