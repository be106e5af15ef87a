"""Trust's panel on the matter and client pages (``caseledger.core.panels``): what the firm
holds for the client, split into cleared, uncleared and disputed, against the agreed minimum."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, Sum
from django.http import HttpRequest

from caseledger.core.panels import PagePanel, PanelScope
from caseledger.ledger.selectors import client_trust_balances
from caseledger.trust.choices import DisputeStatus
from caseledger.trust.models import DisputeHold, MatterTrust, TrustDeposit
from caseledger.trust.selectors import TrustPosition, trust_settings_get


def trust_positions(scope: PanelScope) -> list[TrustPosition]:
    """Trust positions of the scope's matters today, in a fixed number of queries (balances
    from the ledger's balance rows, uncleared and disputed grouped per matter)."""
    ids = list(scope.matter_ids)
    today = scope.today
    # Keyed by client and matter: a scope without a client (the portal's, over all its clients)
    # takes each matter's balance at the matter's own client.
    balances = {
        (client_id, matter_id): int(held)
        for client_id, matter_id, held in client_trust_balances(client=scope.client)
        .filter(matter_id__in=ids)
        .order_by()
        .values_list("client_id", "matter_id", "held_cents")  # type: ignore[misc]
    }
    uncleared = dict(
        TrustDeposit.objects.filter(matter_id__in=ids, received_date__lte=today)
        .filter(Q(clears_on__isnull=True) | Q(clears_on__gt=today))
        .values("matter_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("matter_id", "total")
    )
    disputed = dict(
        DisputeHold.objects.filter(matter_id__in=ids, status=DisputeStatus.OPEN)
        .values("matter_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("matter_id", "total")
    )
    settings_row = trust_settings_get()
    thresholds = dict(
        MatterTrust.objects.filter(
            matter_id__in=ids, low_balance_threshold_cents__isnull=False
        ).values_list("matter_id", "low_balance_threshold_cents")
    )
    positions = []
    for m in scope.matters:
        balance = balances.get((m.client_id, m.pk))
        has_trust = balance is not None or m.pk in uncleared or m.pk in disputed
        if scope.page == "client" and not has_trust and m.pk not in thresholds:
            continue
        positions.append(
            TrustPosition(
                matter=m,
                balance_cents=balance or 0,
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
