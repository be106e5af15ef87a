"""Credits' items on the "waiting on me" page (``caseledger.core.waiting``): credit notes and
write-offs waiting for a partner (never one's own request: nobody approves their own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse

from caseledger.core.amounts import firm_money
from caseledger.core.waiting import WaitingBatch, WaitingItem, WaitingSource, batch_of
from caseledger.credits.choices import CreditNoteStatus, WriteOffStatus
from caseledger.credits.models import CreditNote, WriteOff
from caseledger.matters.selectors import matters_visible_to


def credit_notes(user: Any, now: datetime) -> WaitingBatch:
    qs = (
        CreditNote.objects.filter(
            status=CreditNoteStatus.PENDING_APPROVAL,
            matter__in=matters_visible_to(user).values("pk"),
        )
        .exclude(requested_by=user)
        .select_related("invoice", "client")
        .order_by("requested_at", "id")
    )
    return batch_of(
        qs,
        lambda n: WaitingItem(
            title=f"Approve credit note of {firm_money(n.amount_cents)} on {n.invoice.number}",
            detail=f"{n.client.name} · {n.get_reason_code_display()}",
            url=reverse("credits:credit_note_detail", args=[n.pk]),
            since=n.requested_at,
        ),
    )


def write_offs(user: Any, now: datetime) -> WaitingBatch:
    qs = (
        WriteOff.objects.filter(
            status=WriteOffStatus.PENDING_APPROVAL,
            matter__in=matters_visible_to(user).values("pk"),
        )
        .exclude(requested_by=user)
        .select_related("invoice", "client")
        .order_by("requested_at", "id")
    )
    return batch_of(
        qs,
        lambda w: WaitingItem(
            title=f"Approve write-off of {firm_money(w.amount_cents)} on {w.invoice.number}",
            detail=f"{w.client.name} · {w.reason}",
            url=reverse("credits:write_off_detail", args=[w.pk]),
            since=w.requested_at,
        ),
    )


SOURCES = [
    WaitingSource(
        key="credits.credit_notes",
        title="Credit notes to approve",
        capability="credits.approve",
        items=credit_notes,
        order=30,
    ),
    WaitingSource(
        key="credits.write_offs",
        title="Write-offs to approve",
        capability="credits.approve",
        items=write_offs,
        order=31,
    ),
]
