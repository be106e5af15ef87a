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
from caseledger.trust.models import DisputeHold, TrustDeposit
from caseledger.trust.selectors import TrustPosition, trust_settings_get


def trust_positions(scope: PanelScope) -> list[TrustPosition]:
    """Trust positions of the scope's matters today, in one statement over the matters (each
    one's balance from the ledger's balance row at the matter's own client, its uncleared and
    disputed money summed, its own threshold) and the trust settings when a matter has none."""
    today = scope.today

    def matter_sum(rows: Any) -> Subquery:
        return Subquery(
            rows.filter(matter_id=OuterRef("pk"))
            .order_by()
            .values("matter_id")
            .annotate(total=Sum("amount_cents"))
            .values("total")
        )

    balance = (
        client_trust_balances(client=scope.client)
        .filter(client_id=OuterRef("client_id"), matter_id=OuterRef("pk"))
        .order_by()
        .values("held_cents")[:1]  # type: ignore[misc]
    )
    rows = Matter.objects.filter(pk__in=list(scope.matter_ids)).values_list(
        "pk",
        Subquery(balance),
        matter_sum(
            TrustDeposit.objects.filter(received_date__lte=today).filter(
                Q(clears_on__isnull=True) | Q(clears_on__gt=today)
            )
        ),
        matter_sum(DisputeHold.objects.filter(status=DisputeStatus.OPEN)),
        "trust__low_balance_threshold_cents",
    )
    figures = {pk: figures for pk, *figures in rows}
    settings_row = None
    positions = []
    for m in scope.matters:
        balance_cents, uncleared, disputed, threshold = figures.get(m.pk, (None, None, None, None))
        has_trust = balance_cents is not None or uncleared is not None or disputed is not None
        if scope.page == "client" and not has_trust and threshold is None:
            continue
        if threshold is None:
            settings_row = settings_row or trust_settings_get()
            threshold = settings_row.low_balance_threshold_cents
        positions.append(
            TrustPosition(
                matter=m,
                balance_cents=int(balance_cents or 0),
                uncleared_cents=int(uncleared or 0),
                disputed_cents=int(disputed or 0),
                threshold_cents=int(threshold),
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
