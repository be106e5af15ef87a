"""``trust_figures`` and the ledger's ``matter_trust_balances`` past ``core.ids.IN_LIST_MAX``
matters read the grouped sums of every matter instead of an IN list of thousands of ids: the
same figures, for exactly the matters asked, whichever way they were read."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.core import ids as core_ids
from caseledger.credits.tests import factories as F
from caseledger.ledger.selectors import matter_trust_balances
from caseledger.trust import services
from caseledger.trust.selectors import trust_figures, trust_totals

pytestmark = pytest.mark.django_db

DAY = date(2026, 6, 1)


def test_figures_are_the_same_read_by_ids_or_grouped_over_every_matter(users, monkeypatch):
    partner = users["PARTNER"]
    matters = [F.matter(partner=partner) for _ in range(4)]
    for i, m in enumerate(matters[:3]):
        F.trust_deposit(matter_obj=m, cents=100_000 * (i + 1), day=DAY)
    services.dispute_hold_create(
        matter=matters[0], amount_cents=20_000, reason="Fee disputed", actor=partner, now=F.NOW
    )
    services.matter_threshold_set(
        matter=matters[1], threshold_cents=500_000, actor=partner, now=F.NOW
    )
    asked = [matters[2].pk, matters[0].pk, matters[1].pk]  # not matters[3], in this order
    as_of = date(2026, 11, 30)
    by_ids = trust_figures(asked, as_of)
    balances = matter_trust_balances(matter_ids=asked, as_of=as_of)
    totals = trust_totals(as_of)
    monkeypatch.setattr(core_ids, "IN_LIST_MAX", 1)
    assert trust_figures(asked, as_of) == by_ids
    assert matter_trust_balances(matter_ids=asked, as_of=as_of) == balances
    assert trust_totals(as_of) == totals
    assert [f.matter_id for f in by_ids] == asked
    assert [(f.balance_cents, f.disputed_cents, f.threshold_cents) for f in by_ids][1:] == [
        (100_000, 20_000, by_ids[1].threshold_cents),
        (200_000, 0, 500_000),
    ]
    assert totals.low_matter_ids == [matters[1].pk]
