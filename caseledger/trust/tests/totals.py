"""The check the totals tests share: ``trust_totals`` (summed in SQL) against the figures
``trust_figures`` reads for every trust matter, added up in Python."""

from __future__ import annotations

from datetime import date
from typing import Any

from caseledger.matters.models import Matter
from caseledger.trust import selectors
from caseledger.trust.selectors import TrustTotals, trust_figures, trust_matters


def assert_totals_are_the_figures_summed(
    totals: TrustTotals, as_of: date, matters: Any = None
) -> None:
    """``totals`` count every trust matter of ``matters`` and sum their ``trust_figures``
    (available floored at 0 per matter); they count the matters below their minimum and the
    open ones among them, and keep the first ``FIRST_LOW`` of each in the dashboard's order,
    each with the figures ``trust_figures`` reads."""
    ids = list(trust_matters(matters).values_list("pk", flat=True))
    each = trust_figures(ids, as_of)
    assert totals.count == len(ids)
    assert (
        totals.balance_cents,
        totals.uncleared_cents,
        totals.disputed_cents,
        totals.available_cents,
    ) == (
        sum(f.balance_cents for f in each),
        sum(f.uncleared_cents for f in each),
        sum(f.disputed_cents for f in each),
        sum(f.available_cents for f in each),
    )
    low = [f for f in each if f.is_low]
    closed = set(Matter.objects.filter(status="CLOSED").values_list("pk", flat=True))
    open_low = [f for f in low if f.matter_id not in closed]
    assert (totals.low, totals.low_open) == (len(low), len(open_low))
    n = selectors.FIRST_LOW
    kept = {f.matter_id for f in low[:n] + open_low[:n]}
    assert list(totals.first_low.values()) == [f for f in low if f.matter_id in kept]
    assert totals.first_low_ids(n) == [f.matter_id for f in low[:n]]
    assert totals.first_low_ids(n, open_only=True) == [f.matter_id for f in open_low[:n]]
    assert totals.closed_matter_ids == kept & closed
