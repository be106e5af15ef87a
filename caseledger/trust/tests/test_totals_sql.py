"""``trust_totals`` sums every trust matter in the database: its sums equal the Python sums of
``trust_figures`` over every trust matter whatever their balances, uncleared deposits, disputes
and minimums; the dashboard's pages, cut in SQL, list every trust matter once in its order, in
a number of statements that does not grow with the trust matters."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.matters.models import Matter
from caseledger.payments.tests.factories import MatterFactory
from caseledger.trust import selectors, services
from caseledger.trust.models import TrustSettings
from caseledger.trust.tests.totals import assert_totals_are_the_figures_summed

pytestmark = pytest.mark.django_db

EARLY = date(2026, 10, 1)  # a wire received then has cleared by ``now`` (2026-11-02)


def _deposit(matter, now, cents, *, uncleared: bool):
    """A wire received a month ago (cleared) or a check received today (7 business days)."""
    return services.deposit_record(
        client=matter.client,
        matter=matter,
        method="CHECK" if uncleared else "WIRE",
        payer="Acme",
        reference=f"R-{matter.pk}",
        amount_cents=cents,
        received_date=now.date() if uncleared else EARLY,
        actor=None,
        now=now,
    )


matter_setup = st.fixed_dictionaries(
    {
        "cleared": st.integers(min_value=0, max_value=300_000),
        "uncleared": st.integers(min_value=0, max_value=300_000),
        "disputed_share": st.sampled_from([0, 0.5, 1]),  # of the balance, uncleared or not
        "minimum": st.one_of(st.none(), st.integers(min_value=0, max_value=400_000)),
        "closed": st.booleans(),
    }
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    setups=st.lists(matter_setup, min_size=1, max_size=4),
    default=st.sampled_from([0, 100_000, 250_000]),
    first_low=st.integers(min_value=1, max_value=3),
)
def test_sql_sums_equal_the_figures_of_every_trust_matter_summed(
    users, now, monkeypatch, setups, default, first_low
):
    """Balances above and below their minimum (own or the firm's), uncleared deposits,
    disputes over uncleared money (available floored at 0), closed matters, and matters with
    a minimum but no money; fewer low matters kept than there are (``FIRST_LOW``). Examples
    add to the same database: the totals cover them all."""
    monkeypatch.setattr(selectors, "FIRST_LOW", first_low)
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": default})
    partner = users["PARTNER"]
    for setup in setups:
        matter = MatterFactory()
        if setup["cleared"]:
            _deposit(matter, now, setup["cleared"], uncleared=False)
        if setup["uncleared"]:
            _deposit(matter, now, setup["uncleared"], uncleared=True)
        held = setup["cleared"] + setup["uncleared"]
        if held and setup["disputed_share"]:
            services.dispute_hold_create(
                matter=matter,
                amount_cents=max(int(held * setup["disputed_share"]), 1),
                reason="Fee disputed",
                actor=partner,
                now=now,
            )
        if setup["minimum"] is not None or not held:
            services.matter_threshold_set(
                matter=matter, threshold_cents=setup["minimum"], actor=partner, now=now
            )
        if setup["closed"]:
            Matter.objects.filter(pk=matter.pk).update(status="CLOSED", closed_date=now.date())
    totals = selectors.trust_totals(now.date())
    assert_totals_are_the_figures_summed(totals, now.date())
    every_other = list(Matter.objects.order_by("id").values_list("pk", flat=True))[::2]
    scope = Matter.objects.filter(pk__in=every_other)
    assert_totals_are_the_figures_summed(
        selectors.trust_totals(now.date(), scope), now.date(), scope
    )


def test_no_trust_matter_sums_to_zero(users, now):
    totals = selectors.trust_totals(now.date())
    assert (totals.count, totals.balance_cents, totals.available_cents, totals.low) == (0, 0, 0, 0)


def test_dashboard_pages_list_every_trust_matter_once_in_order(login, users, now, monkeypatch):
    """Three pages of two rows: every trust matter once, in the dashboard's order (client
    name, number, id), each with the figures its one-matter read gives; every page, the
    last one too, in the same number of statements, each page cut by LIMIT in SQL."""
    from caseledger.core import clock
    from caseledger.trust import views

    monkeypatch.setattr(views, "PAGE_ROWS", 2)
    today = clock.firm_today()  # the dashboard's day
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 150_000})
    for cents in (100_000, 200_000, 50_000, 300_000, 120_000):
        _deposit(MatterFactory(), now, cents, uncleared=cents == 50_000)
    services.matter_threshold_set(
        matter=MatterFactory(), threshold_cents=10_000, actor=users["PARTNER"], now=now
    )  # a trust matter with a minimum and no money
    http = login(users["BILLING"])
    shown, counts = [], []
    for number in (1, 2, 3):
        with CaptureQueriesContext(connection) as ctx:
            response = http.get(reverse("trust:dashboard"), {"page": number})
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
        assert any("LIMIT 2" in q["sql"] for q in ctx.captured_queries)
        for position, _ in response.context["positions"]:
            alone = selectors.trust_position(position.matter, today)
            assert position == alone
            shown.append(position.matter.pk)
        assert response.context["page"].paginator.count == 6
    assert shown == list(selectors.trust_matters().values_list("pk", flat=True))
    assert len(set(shown)) == 6
    assert counts[0] == counts[1] == counts[2]


def test_held_by_account_sums_the_matters_given_in_each_account(users, now):
    """The dashboard's "By trust account" (firms with more than one) sums the visible trust
    matters' balance rows per account: the matters are a subquery, not a list of ids."""
    from caseledger.ledger.services import account_trust_bank_create

    second = account_trust_bank_create(
        name="Trust bank (second IOLTA)", bank_name="First", account_number_last4="4321",
        actor=None, now=now,
    )  # fmt: skip
    a, b = MatterFactory(), MatterFactory()
    _deposit(a, now, 10_000, uncleared=False)
    _deposit(b, now, 20_000, uncleared=False)
    services.deposit_record(
        client=a.client, matter=a, method="WIRE", payer="Acme", reference="W2",
        amount_cents=5_000, received_date=EARLY, actor=None, now=now, trust_account=second,
    )  # fmt: skip
    every = selectors.held_by_account(selectors.trust_matters())
    assert [(acct.code, cents) for acct, cents in every] == [("1010", 30_000), (second.code, 5_000)]
    only_a = selectors.held_by_account(selectors.trust_matters(Matter.objects.filter(pk=a.pk)))
    assert [cents for _, cents in only_a] == [10_000, 5_000]
