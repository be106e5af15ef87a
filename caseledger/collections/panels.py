"""Collections' panel on the matter and client pages (``caseledger.core.panels``): the aging of
what is owed (current, 1-30, 31-60, 61-90, 90+ days past due) and any collections hold."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum
from django.http import HttpRequest

from caseledger.collections.choices import HoldStatus
from caseledger.collections.models import CollectionHold
from caseledger.collections.selectors import BUCKET_LABELS, BUCKETS, aging_facts, bucket_conditions
from caseledger.core.panels import PagePanel, PanelScope


def aging_for(*, matter_ids: list[int], as_of: Any) -> dict[str, int]:
    """A/R of the matters per aging bucket on ``as_of``: one aggregate over the aging facts."""
    conditions = bucket_conditions(as_of)
    row = (
        aging_facts(as_of)
        .filter(matter_id__in=matter_ids)
        .aggregate(**{b: Sum("amount_cents", filter=conditions[b]) for b in BUCKETS})
    )
    return {b: int(row[b] or 0) for b in BUCKETS}


def collections_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    ids = list(scope.matter_ids)
    buckets = aging_for(matter_ids=ids, as_of=scope.today)
    active = CollectionHold.objects.filter(matter_id__in=ids, status=HoldStatus.ACTIVE)
    if scope.page == "client":
        active = active.select_related("matter")  # the client page names each hold's matter
    holds = list(active.select_related("invoice").order_by("set_at", "id"))
    return {
        "buckets": [(BUCKET_LABELS[b], buckets[b]) for b in BUCKETS],
        "total": sum(buckets.values()),
        "past_due": sum(v for b, v in buckets.items() if b != "current"),
        "holds": holds,
        "held_matters": [m for m in scope.matters if m.hold_new_work],
        "client_page": scope.page == "client",
    }


PANELS = [
    PagePanel(
        key="collections.aging",
        title="Owed and aging",
        template="collections/panels/aging.html",
        capability="collections.view",
        context=collections_context,
        order=20,
    ),
]
