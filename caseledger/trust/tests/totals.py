"""The check the totals tests share: ``trust_totals`` (summed in SQL) against the figures
``trust_figures`` reads for every trust matter, added up in Python."""

from __future__ import annotations

from datetime import date
from typing import Any

from caseledger.trust.selectors import TrustTotals, trust_figures, trust_matters


def assert_totals_are_the_figures_summed(
    totals: TrustTotals, as_of: date, matters: Any = None
) -> None:
    """``totals`` count every trust matter of ``matters`` and sum their ``trust_figures``
    (available floored at 0 per matter); their low matters are those below their minimum, in
    the dashboard's order, each with the figures ``trust_figures`` reads."""
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
    assert totals.low_matter_ids == [f.matter_id for f in low]
    assert [totals.figures_of(f.matter_id) for f in low] == low
