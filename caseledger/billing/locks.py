"""Every row lock billing takes, in the project's global order:
matter -> trust balance -> invoice -> payment. Counter rows come after the invoice."""

from __future__ import annotations

from typing import Any

from caseledger.billing.models import BillingSettings, Invoice, InvoiceTemplate
from caseledger.matters.models import Matter


def matter_lock(*, matter_id: int) -> Matter:
    return Matter.objects.select_for_update().get(pk=matter_id)


def invoice_lock(*, invoice_id: int) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice_id)


def invoices_lock(*, invoice_ids: list[int]) -> list[Invoice]:
    """Several invoices, locked in id order (so two bulk actions cannot deadlock)."""
    return list(Invoice.objects.select_for_update().filter(pk__in=invoice_ids).order_by("id"))


def billing_run_lock() -> BillingSettings:
    """Serializes recurring billing runs (the settings singleton is the run's mutex)."""
    BillingSettings.objects.get_or_create(id=1)
    return BillingSettings.objects.select_for_update().get(id=1)


def template_lock(*, template_id: int) -> InvoiceTemplate:
    """A template (configuration, outside the money lock order): its edits and the triggers
    added to it take this lock, so a trigger cannot be added to a template being deactivated."""
    return InvoiceTemplate.objects.select_for_update().get(pk=template_id)


def fee_advances_lock(*, matter_id: int) -> list[Any]:
    """The matter's fee advances (after the matter and before the invoice in the global order;
    issue takes them after the invoice lock, which nothing else holds while taking these)."""
    from caseledger.billing.models import FeeAdvance

    return list(FeeAdvance.objects.select_for_update().filter(matter_id=matter_id).order_by("id"))
