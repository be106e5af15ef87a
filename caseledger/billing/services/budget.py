"""Billing's part in the matter budget (``matters.services.matter_budget_check``): what has been
billed on a matter, and the threshold check after each issue."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice


def matter_billed_cents(matter: Any) -> int:
    """Cents billed on ``matter``: the totals of its issued invoices (void ones do not count;
    credit notes are shown beside it on the page, not netted here)."""
    total = Invoice.objects.filter(matter_id=matter.pk, status=InvoiceStatus.ISSUED).aggregate(
        total=Sum("total_cents")
    )["total"]
    return int(total or 0)


def budget_on_invoice_issued(invoice: Any) -> None:
    """Invoice-issued listener: open the matter's 80% / 100% budget tasks it has reached."""
    from caseledger.matters.services import matter_budget_check

    matter = invoice.matter
    if matter.budget_kind:
        matter_budget_check(matter=matter, now=invoice.issued_at)
