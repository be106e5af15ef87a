"""``trust_figures`` and the ledger's ``matter_trust_balances`` past ``core.ids.IN_LIST_MAX``
matters read the grouped sums of every matter instead of an IN list of thousands of ids: the
same figures, for exactly the matters asked, whichever way they were read."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.core import ids as core_ids
from caseledger.credits.tests import factories as F
from caseledger.ledger.selectors import matter_trust_balances
from caseledger.matters.models import Matter
from caseledger.trust import services
from caseledger.trust.selectors import trust_figures, trust_totals
from caseledger.trust.tests.totals import assert_totals_are_the_figures_summed

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
    assert totals.first_low_ids(5) == [matters[1].pk]
    # The totals' one statement sums the figures trust_figures reads for each matter, and
    # gives the low ones theirs in the dashboard's order, over every trust matter or a scope.
    assert_totals_are_the_figures_summed(totals, as_of)
    scope = Matter.objects.filter(pk__in=asked[1:])
    scoped = trust_totals(as_of, scope)
    assert scoped.count == 2
    assert_totals_are_the_figures_summed(scoped, as_of, scope)
    assert scoped.balance_cents == 300_000
    assert scoped.disputed_cents == 20_000


def test_panels_take_the_first_low_matters_in_dashboard_order_and_count_the_open_ones(
    users, monkeypatch
):
    """The home trust panel and the "below minimum" waiting source read the low matters' ids
    from the totals (no IN list of every low matter): the first ones in the dashboard's order,
    closed matters left out of the waiting list, its count over every open one."""
    from django.test import RequestFactory

    from caseledger.trust import home, waiting
    from caseledger.trust.models import TrustSettings

    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 10**9})
    partner = users["PARTNER"]
    matters = [F.matter(partner=partner) for _ in range(3)]
    for m in matters:
        services.deposit_record(
            client=m.client, matter=m, method="WIRE", payer="Client", amount_cents=100_000,
            received_date=DAY, actor=partner, now=F.NOW, reference=f"W-{m.pk}",
        )  # fmt: skip
    Matter.objects.filter(pk=matters[0].pk).update(status="CLOSED", closed_date=F.NOW.date())
    totals = trust_totals(F.NOW.date())
    order = totals.first_low_ids(5)
    assert sorted(order) == sorted(m.pk for m in matters)
    assert totals.closed_matter_ids == {matters[0].pk}
    monkeypatch.setattr(waiting, "LIMIT", 1)
    batch = waiting.below_minimum(partner, F.NOW)
    open_order = [pk for pk in order if pk != matters[0].pk]
    assert batch.count == 2
    assert [item.url for item in batch.items] == [f"/trust/matters/{open_order[0]}/"]
    request = RequestFactory().get("/")
    request.user = partner
    context = home._trust_context(request, F.NOW)
    assert [p.matter.pk for p in context["low"]] == order


def test_home_reads_the_trust_totals_once_for_its_panel_and_its_waiting_list(
    users, login, monkeypatch
):
    """The home page's trust panel and its "waiting on you" list (trust below minimum) show the
    same totals: one read per request (``trust_totals_of``), the same figures as read alone."""
    from caseledger.trust import selectors

    partner = users["PARTNER"]
    matter = F.matter(partner=partner)
    F.trust_deposit(matter_obj=matter, cents=100_000, day=DAY)
    reads = []
    real = selectors.trust_totals

    def counted(*args: object, **kwargs: object) -> selectors.TrustTotals:
        reads.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(selectors, "trust_totals", counted)
    client = login(partner)
    assert client.get("/").status_code == 200
    assert len(reads) == 1
    assert client.get("/").status_code == 200
    assert len(reads) == 2
    assert selectors.trust_totals_of(partner, DAY) == real(DAY)


def test_totals_read_the_kept_balances_for_today_and_the_postings_for_an_earlier_day(users):
    """As of a day no trust posting is dated after, the totals read the kept balances; as of an
    earlier day, the postings up to it. Both equal the postings' sums (``trust_figures``)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    partner = users["PARTNER"]
    matter = F.matter(partner=partner)
    F.trust_deposit(matter_obj=matter, cents=70_000, day=DAY)
    F.trust_deposit(matter_obj=matter, cents=5_000, day=date(2026, 7, 1))
    services.matter_threshold_set(matter=matter, threshold_cents=1_000, actor=partner, now=F.NOW)
    for as_of, held in ((date(2026, 6, 15), 70_000), (date(2026, 11, 30), 75_000)):
        with CaptureQueriesContext(connection) as queries:
            totals = trust_totals(as_of)
        assert totals.balance_cents == held
        assert_totals_are_the_figures_summed(totals, as_of)
        assert any("ledger_subledgerbalance" in q["sql"] for q in queries.captured_queries)
