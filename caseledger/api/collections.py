"""Collections API: aging as JSON."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema

from caseledger.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Limit, Offset, Page, paginate
from caseledger.api.types import Day
from caseledger.collections.selectors import BUCKETS, GROUPS, aging_rows, aging_totals
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


class AgingOut(Page[AgingRowOut]):
    """The list envelope (``count`` rows over all pages, ``next``, ``results``: this page's rows,
    largest total first) with the report's date, grouping and totals over ALL rows."""

    as_of: date
    group: str
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
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Open receivables by client, matter, partner or case type in the buckets current, 1-30,
    31-60, 61-90 and 90+ days past due, a page of rows at a time (``limit``/``offset``); the
    totals (over every row) equal the ledger's A/R balance that day."""
    require(request.user, "collections.view")
    day = as_of or clock.firm_today()
    rows = aging_rows(as_of=day, group=group)
    # the window, the row count and the totals in one grouped query (see ``read_window``)
    rows.read_window(max(offset, 0), max(1, min(limit, MAX_LIMIT)))
    page = paginate(
        request,
        rows,
        limit=limit,
        offset=offset,
        serialize=lambda window: [_row(r.key, r.label, r.buckets) for r in window],
    )
    return {
        **page,
        "as_of": day,
        "group": group,
        "totals": _row(
            None, "Total", rows.totals if rows.totals is not None else aging_totals(as_of=day)
        ),
    }
