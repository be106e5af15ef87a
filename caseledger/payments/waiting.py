"""Payments' items on the "waiting on me" page (``caseledger.core.waiting``): payments held for
review (the provider reported an amount that did not match)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse

from caseledger.core.amounts import firm_money
from caseledger.core.waiting import WaitingBatch, WaitingItem, WaitingSource, batch_of
from caseledger.payments.choices import PaymentStatus
from caseledger.payments.models import Payment


def held_payments(user: Any, now: datetime) -> WaitingBatch:
    qs = (
        Payment.objects.filter(status=PaymentStatus.HELD)
        .select_related("client")
        .order_by("created_at", "id")
    )
    return batch_of(
        qs,
        lambda p: WaitingItem(
            title=f"Held payment {p.number}: {firm_money(p.amount_cents)} from {p.payer}",
            detail=f"{p.client.name} · {p.held_reason}",
            url=reverse("payments:detail", args=[p.pk]),
            since=p.created_at,
        ),
    )


SOURCES = [
    WaitingSource(
        key="payments.held",
        title="Held payments to release or reject",
        capability="payments.review",
        items=held_payments,
        order=35,
    ),
]
