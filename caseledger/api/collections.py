"""Collections API: aging as JSON."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema

from caseledger.api.types import Day
from caseledger.collections.selectors import BUCKETS, GROUPS, aging_report
from caseledger.core import clock
from caseledger.core.permissions import require

router = Router(tags=["collections"])


class AgingRowOut(Schema):
    key: int | None
    label: str
    current_cents: int
    d1_30_cents: int
    d31_60_cents: int
    d61_90_cents: int
    d90_plus_cents: int
    total_cents: int


class AgingOut(Schema):
    as_of: date
    group: str
    rows: list[AgingRowOut]
    totals: AgingRowOut


def _row(key: int | None, label: str, buckets: dict[str, int]) -> AgingRowOut:
    return AgingRowOut(
        key=key,
        label=label,
        current_cents=buckets["current"],
        d1_30_cents=buckets["d1_30"],
        d31_60_cents=buckets["d31_60"],
        d61_90_cents=buckets["d61_90"],
        d90_plus_cents=buckets["d90_plus"],
        total_cents=sum(buckets[b] for b in BUCKETS),
    )


@router.get("/aging", response=AgingOut, summary="A/R aging as of a date, in cents")
def aging(
    request: HttpRequest,
    as_of: Day | None = None,
    group: Literal[tuple(GROUPS)] = "client",  # type: ignore[valid-type]
) -> AgingOut:
    """Open receivables by client, matter, partner or case type in the buckets current, 1-30,
    31-60, 61-90 and 90+ days past due; the totals equal the ledger's A/R balance that day."""
    require(request.user, "collections.view")
    report = aging_report(as_of=as_of or clock.firm_today(), group=group)
    return AgingOut(
        as_of=report.as_of,
        group=report.group,
        rows=[_row(r.key, r.label, r.buckets) for r in report.rows],
        totals=_row(None, "Total", report.totals),
    )
