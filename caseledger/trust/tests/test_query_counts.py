"""The trust pages and the balances API at two sizes: their query counts do not grow with the
number of trust matters (each reads a page of matters and grouped sums), and the totals over
every matter stay exact while only a page of rows is shown."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caseledger.payments.tests.factories import MatterFactory
from caseledger.trust import selectors
from caseledger.trust.models import TrustSettings
from caseledger.trust.services import deposit_record, dispute_hold_create, matter_threshold_set

pytestmark = pytest.mark.django_db


def fund(matter, now, cents):
    return deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W",
        amount_cents=cents,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )


def _count(http, url):
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("url", "role"),
    [
        (reverse("trust:dashboard"), "BILLING"),
        ("/api/v1/trust/balances?limit=2", "BILLING"),
        ("/", "PARTNER"),  # the trust summary panel and "below minimum" on the waiting panel
    ],
)
def test_trust_pages_do_not_grow_with_trust_matters(url, role, login, users, now, monkeypatch):
    from caseledger.trust import views

    monkeypatch.setattr(views, "PAGE_ROWS", 2)
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 150_000})
    http = login(users[role])
    for _ in range(3):
        fund(MatterFactory(), now, 100_000)
    few = _count(http, url)
    for _ in range(5):
        fund(MatterFactory(), now, 100_000)
    assert _count(http, url) == few


def _world(now, actor):
    """Three trust matters: one low (below its own minimum), one with a dispute, one whose
    uncleared money is more than its balance available (floored at 0)."""
    a, b, c = MatterFactory(), MatterFactory(), MatterFactory()
    fund(a, now, 10_000)
    fund(b, now, 200_000)
    fund(c, now, 30_000)
    matter_threshold_set(matter=a, threshold_cents=50_000, actor=actor, now=now)
    dispute_hold_create(matter=b, amount_cents=70_000, reason="fee dispute", actor=actor, now=now)
    return [a, b, c]


def test_dashboard_shows_a_page_and_totals_over_every_matter(login, users, now, monkeypatch):
    from caseledger.core import clock
    from caseledger.trust import views

    monkeypatch.setattr(views, "PAGE_ROWS", 2)
    matters = _world(now, users["PARTNER"])
    today = clock.firm_today()
    each = [selectors.trust_position(m, today) for m in matters]  # the one-matter reads
    http = login(users["BILLING"])
    first = http.get(reverse("trust:dashboard"))
    totals = first.context["totals"]
    assert totals.balance_cents == sum(p.balance_cents for p in each) == 240_000
    assert totals.uncleared_cents == sum(p.uncleared_cents for p in each)
    assert totals.disputed_cents == sum(p.disputed_cents for p in each) == 70_000
    assert totals.available_cents == sum(p.available_cents for p in each)
    assert totals.low == sum(1 for p in each if p.is_low) >= 1
    assert len(first.context["positions"]) == 2
    assert first.context["page"].paginator.count == 3
    assert "Page 1 of 2" in first.content.decode()
    second = http.get(reverse("trust:dashboard"), {"page": 2})
    shown = [p.matter.pk for p, _ in first.context["positions"]]
    shown += [p.matter.pk for p, _ in second.context["positions"]]
    assert sorted(shown) == sorted(m.pk for m in matters)
    assert second.context["totals"] == totals


def test_api_balances_page_in_the_database(login, users, now):
    from caseledger.core import clock

    matters = _world(now, users["PARTNER"])
    today = clock.firm_today()
    expected = {m.pk: selectors.trust_position(m, today) for m in matters}
    http = login(users["BILLING"])
    first = http.get("/api/v1/trust/balances", {"limit": 2}).json()
    assert first["count"] == 3
    assert "offset=2" in first["next"]
    rest = http.get("/api/v1/trust/balances", {"limit": 2, "offset": 2}).json()
    assert rest["next"] is None
    rows = first["results"] + rest["results"]
    assert sorted(r["matter_id"] for r in rows) == sorted(expected)
    for row in rows:
        p = expected[row["matter_id"]]
        assert (row["balance_cents"], row["available_cents"], row["low"]) == (
            p.balance_cents,
            p.available_cents,
            p.is_low,
        )
    with CaptureQueriesContext(connection) as ctx:
        http.get("/api/v1/trust/balances", {"limit": 1})
    # the page is cut in SQL: the money is read for the page's matter only
    money = [q["sql"] for q in ctx.captured_queries if "ledger_posting" in q["sql"]]
    assert len(money) == 1
    assert re.search(r'"matter_id" IN \(\d+\)', money[0]), money[0]
