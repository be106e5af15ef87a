"""Billing's items on the "waiting on me" page (``caseledger.core.waiting``): invoices to
review, approved invoices to issue, invoice emails that failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.billing.selectors import review_queue
from caseledger.billing.services.emails import INVOICE_ISSUED_KIND
from caseledger.core.choices import OutboxStatus
from caseledger.core.models import OutboxMessage
from caseledger.core.waiting import WaitingBatch, WaitingItem, WaitingSource, batch_of
from caseledger.matters.selectors import matters_visible_to


def _invoice_url(invoice_id: int) -> str:
    return reverse("billing:invoice_detail", args=[invoice_id])


def to_review(user: Any, now: datetime) -> WaitingBatch:
    qs = review_queue(partner=user).filter(matter__in=matters_visible_to(user).values("pk"))
    return batch_of(
        qs,
        lambda inv: WaitingItem(
            title=f"Review draft for {inv.client.name}",
            detail=f"{inv.matter.number} · {inv.line_count} line(s)",
            url=_invoice_url(inv.pk),
            since=inv.triggered_at or inv.created_at,
        ),
    )


def to_issue(user: Any, now: datetime) -> WaitingBatch:
    qs = (
        Invoice.objects.filter(
            status=InvoiceStatus.APPROVED, matter__in=matters_visible_to(user).values("pk")
        )
        .select_related("client", "matter")
        .order_by("approved_at", "id")
    )
    return batch_of(
        qs,
        lambda inv: WaitingItem(
            title=f"Issue approved invoice for {inv.client.name}",
            detail=inv.matter.number,
            url=_invoice_url(inv.pk),
            since=inv.approved_at or inv.created_at,
        ),
    )


def failed_emails(user: Any, now: datetime) -> WaitingBatch:
    qs = (
        OutboxMessage.objects.filter(
            kind=INVOICE_ISSUED_KIND,
            status__in=[OutboxStatus.FAILED, OutboxStatus.DEAD],
            related_type="billing.invoice",
            related_id__in=Invoice.objects.filter(
                matter__in=matters_visible_to(user).values("pk")
            ).values("pk"),
        )
        .defer("body", "html", "attachments")
        .order_by("created_at", "id")
    )
    return batch_of(
        qs,
        lambda e: WaitingItem(
            title=f"Email failed: {e.subject}",
            detail=f"to {', '.join(e.to)} · {e.attempts} attempt(s) · {e.get_status_display()}",
            url=_invoice_url(e.related_id),
            since=e.created_at,
        ),
    )


SOURCES = [
    WaitingSource(
        key="billing.review",
        title="Invoices to review",
        capability="billing.approve",
        items=to_review,
        order=10,
    ),
    WaitingSource(
        key="billing.issue",
        title="Approved invoices to issue",
        capability="billing.issue",
        items=to_issue,
        order=15,
    ),
    WaitingSource(
        key="billing.failed_emails",
        title="Invoice emails that failed",
        capability="billing.edit",
        items=failed_emails,
        order=70,
    ),
]
