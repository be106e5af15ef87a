"""Trust's panel on the matter and client pages (``caseledger.core.panels``): what the firm
holds for the client, split into cleared, uncleared and disputed, against the agreed minimum."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Q, Subquery, Sum
from django.http import HttpRequest

from caseledger.core.panels import PagePanel, PanelScope
from caseledger.ledger.selectors import client_trust_balances
from caseledger.matters.models import Matter
from caseledger.trust.choices import DisputeStatus
from caseledger.trust.models import DisputeHold, MatterTrust, TrustDeposit
from caseledger.trust.selectors import TrustPosition, trust_settings_get


def trust_positions(scope: PanelScope) -> list[TrustPosition]:
    """Trust positions of the scope's matters today, in a fixed number of queries (balances
    from the ledger's balance rows; uncleared, disputed and each matter's own threshold in one
    statement)."""
    ids = list(scope.matter_ids)
    today = scope.today
    held = client_trust_balances(client=scope.client).filter(matter_id__in=ids)
    balances = {
        matter_id: int(cents)
        for matter_id, cents in held.values_list("matter_id", "held_cents")  # type: ignore[misc]
    }
    uncleared_sum = (
        TrustDeposit.objects.filter(matter_id=OuterRef("pk"), received_date__lte=today)
        .filter(Q(clears_on__isnull=True) | Q(clears_on__gt=today))
        .values("matter_id")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    disputed_sum = (
        DisputeHold.objects.filter(matter_id=OuterRef("pk"), status=DisputeStatus.OPEN)
        .values("matter_id")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )
    own_threshold = MatterTrust.objects.filter(matter_id=OuterRef("pk")).values(
        "low_balance_threshold_cents"
    )
    uncleared, disputed, thresholds = {}, {}, {}
    for matter_id, uncleared_cents, disputed_cents, threshold_cents in (
        Matter.objects.filter(pk__in=ids)
        .annotate(
            uncleared=Subquery(uncleared_sum),
            disputed=Subquery(disputed_sum),
            threshold=Subquery(own_threshold),
        )
        .values_list("pk", "uncleared", "disputed", "threshold")
    ):
        if uncleared_cents is not None:
            uncleared[matter_id] = uncleared_cents
        if disputed_cents is not None:
            disputed[matter_id] = disputed_cents
        if threshold_cents is not None:
            thresholds[matter_id] = threshold_cents
    settings_row = trust_settings_get()
    positions = []
    for m in scope.matters:
        has_trust = m.pk in balances or m.pk in uncleared or m.pk in disputed
        if scope.page == "client" and not has_trust and m.pk not in thresholds:
            continue
        positions.append(
            TrustPosition(
                matter=m,
                balance_cents=balances.get(m.pk, 0),
                uncleared_cents=int(uncleared.get(m.pk) or 0),
                disputed_cents=int(disputed.get(m.pk) or 0),
                threshold_cents=int(
                    thresholds.get(m.pk) or 0
                    if m.pk in thresholds
                    else settings_row.low_balance_threshold_cents
                ),
            )
        )
    return positions


def trust_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    positions = trust_positions(scope)
    balance = sum(p.balance_cents for p in positions)
    uncleared = sum(p.uncleared_cents for p in positions)
    disputed = sum(p.disputed_cents for p in positions)
    return {
        "positions": positions,
        "position": positions[0] if scope.matter is not None and positions else None,
        "balance": balance,
        "cleared": max(balance - uncleared, 0),
        "uncleared": uncleared,
        "disputed": disputed,
        "available": sum(p.available_cents for p in positions),
        "low": [p for p in positions if p.is_low],
        "client_page": scope.page == "client",
        "client": scope.client,
        "matter": scope.matter,
    }


PANELS = [
    PagePanel(
        key="trust.balances",
        title="Trust",
        template="trust/panels/balances.html",
        capability="trust.view",
        context=trust_context,
        order=10,
    ),
]
