"""Collections' items on the "waiting on me" page (``caseledger.core.waiting``): open invoice
disputes and reminder emails that failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse

from caseledger.collections.models import InvoiceDispute
from caseledger.collections.selectors import reminders_failed
from caseledger.core.waiting import WaitingBatch, WaitingItem, WaitingSource, batch_of


def open_disputes(user: Any, now: datetime) -> WaitingBatch:
    qs = (
        InvoiceDispute.objects.filter(resolved_at__isnull=True)
        .select_related("invoice", "invoice__client")
        .order_by("opened_at", "id")
    )
    return batch_of(
        qs,
        lambda d: WaitingItem(
            title=f"Invoice {d.invoice.number} disputed",
            detail=f"{d.invoice.client.name} · {d.reason}",
            url=reverse("collections:invoice_history", args=[d.invoice_id]),
            since=d.opened_at,
        ),
    )


def failed_reminders(user: Any, now: datetime) -> WaitingBatch:
    return batch_of(
        reminders_failed(),
        lambda r: WaitingItem(
            title=f"Reminder email failed for invoice {r.invoice.number}",
            detail=f"{r.invoice.client.name} · to {r.to_email} · the outbox gave up",
            url=reverse("collections:invoice_history", args=[r.invoice_id]),
            since=r.created_at,
        ),
    )


SOURCES = [
    WaitingSource(
        key="collections.disputes",
        title="Open invoice disputes",
        capability="collections.work",
        items=open_disputes,
        order=41,
    ),
    WaitingSource(
        key="collections.failed_reminders",
        title="Reminder emails that failed",
        capability="collections.work",
        items=failed_reminders,
        order=71,
    ),
]
