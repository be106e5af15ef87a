"""Trust's items on the "waiting on me" page (``caseledger.core.waiting``): disbursements to
approve or post, open trust disputes, matters whose trust is below the agreed minimum."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse

from caseledger.core import clock
from caseledger.core.amounts import firm_money
from caseledger.core.waiting import LIMIT, WaitingBatch, WaitingItem, WaitingSource, batch_of
from caseledger.matters.selectors import matters_visible_to
from caseledger.trust.choices import DisbursementStatus, DisputeStatus
from caseledger.trust.models import Disbursement, DisbursementApproval, DisputeHold
from caseledger.trust.selectors import trust_matters_by_ids, trust_positions, trust_totals_of


def _disbursement_item(d: Disbursement, verb: str) -> WaitingItem:
    return WaitingItem(
        title=f"{verb} disbursement {d.number}: {firm_money(d.amount_cents)} to {d.payee}",
        detail=f"{d.matter.number} · {d.client.name}",
        url=reverse("trust:disbursements") + f"#disbursement-{d.pk}",
        since=d.requested_at,
    )


def to_approve(user: Any, now: datetime) -> WaitingBatch:
    mine = DisbursementApproval.objects.filter(disbursement=OuterRef("pk"), approver=user)
    qs = (
        Disbursement.objects.filter(
            status=DisbursementStatus.REQUESTED,
            matter__in=matters_visible_to(user).values("pk"),
        )
        .exclude(requested_by=user)
        .exclude(Exists(mine))
        .select_related("client", "matter")
        .order_by("requested_at", "id")
    )
    return batch_of(qs, lambda d: _disbursement_item(d, "Approve"))


def to_post(user: Any, now: datetime) -> WaitingBatch:
    qs = (
        Disbursement.objects.filter(
            status=DisbursementStatus.APPROVED, matter__in=matters_visible_to(user).values("pk")
        )
        .select_related("client", "matter")
        .order_by("requested_at", "id")
    )
    return batch_of(qs, lambda d: _disbursement_item(d, "Pay out"))


def open_disputes(user: Any, now: datetime) -> WaitingBatch:
    qs = (
        DisputeHold.objects.filter(
            status=DisputeStatus.OPEN, matter__in=matters_visible_to(user).values("pk")
        )
        .select_related("matter", "client")
        .order_by("created_at", "id")
    )
    return batch_of(
        qs,
        lambda h: WaitingItem(
            title=f"Disputed trust money: {firm_money(h.amount_cents)} held",
            detail=f"{h.matter.number} · {h.client.name} · {h.reason}",
            url=reverse("trust:matter", args=[h.matter_id]),
            since=h.created_at,
        ),
    )


def below_minimum(user: Any, now: datetime) -> WaitingBatch:
    as_of = clock.firm_date(now)
    totals = trust_totals_of(user, as_of)

    def items() -> list[WaitingItem]:
        first = trust_matters_by_ids(totals.first_low_ids(LIMIT, open_only=True))
        return [
            WaitingItem(
                title=(
                    f"Trust below minimum: {firm_money(p.balance_cents)} of "
                    f"{firm_money(p.threshold_cents)}"
                ),
                detail=f"{p.matter.number} · {p.matter.client.name}",
                url=reverse("trust:matter", args=[p.matter.pk]),
                since=p.matter.opened_date,
            )
            for p in trust_positions(first, as_of, figures=totals.first_low)
        ]

    return WaitingBatch(items, totals.low_open)


SOURCES = [
    WaitingSource(
        key="trust.approve",
        title="Disbursements to approve",
        capability="trust.disburse.approve",
        items=to_approve,
        order=20,
    ),
    WaitingSource(
        key="trust.post",
        title="Approved disbursements to pay out",
        capability="trust.disburse.post",
        items=to_post,
        order=25,
    ),
    WaitingSource(
        key="trust.disputes",
        title="Open trust disputes",
        capability="trust.dispute",
        items=open_disputes,
        order=40,
    ),
    WaitingSource(
        key="trust.low",
        title="Trust below minimum",
        capability="trust.view",
        items=below_minimum,
        order=50,
    ),
]
