"""``core.waiting.batch_of``: a source's items and count are read when first asked for. The
home page's panel shows the counts only (one COUNT per source, no item built); the waiting
page reads the items, and the count from them when there are fewer than ``LIMIT``."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseledger.core import waiting
from caseledger.core.models import User
from caseledger.core.waiting import WaitingItem, batch_of

pytestmark = pytest.mark.django_db


def _batch(built: list[int]) -> waiting.WaitingBatch:
    def item(user: Any) -> WaitingItem:
        built.append(user.pk)
        return WaitingItem(title=user.username, url="/", since=user.date_joined)

    return batch_of(User.objects.order_by("id"), item)


@pytest.fixture
def five(make_user: Any) -> list[Any]:
    return [make_user(username=f"w{i}") for i in range(5)]


def test_the_count_alone_is_one_count_and_builds_no_item(five):
    expected = User.objects.count()
    built: list[int] = []
    batch = _batch(built)
    with CaptureQueriesContext(connection) as ctx:
        assert batch.count == expected >= 5
        assert batch.count == expected  # read once
    assert len(ctx.captured_queries) == 1
    assert "COUNT" in ctx.captured_queries[0]["sql"]
    assert built == []


def test_items_then_count_is_one_read_below_the_limit_and_a_count_at_it(five, monkeypatch):
    ids = list(User.objects.order_by("id").values_list("pk", flat=True))
    built: list[int] = []
    batch = _batch(built)
    with CaptureQueriesContext(connection) as ctx:
        assert len(batch.items) == len(ids)
        assert batch.count == len(ids)
    assert len(ctx.captured_queries) == 1  # the rows: fewer than LIMIT, so they are the count
    assert built == ids
    monkeypatch.setattr(waiting, "LIMIT", 2)
    cut = _batch([])
    assert len(cut.items) == 2
    with CaptureQueriesContext(connection) as ctx:
        assert cut.count == len(ids)
    assert len(ctx.captured_queries) == 1  # cut at LIMIT: one COUNT


def test_counts_read_reads_the_batches_counts_in_one_statement(five, now):
    """The home panel's counts: one statement for every source, each equal to ``count()``: a
    grouped queryset (one row per user however many groups join), a joined filter, an empty one
    (no SQL); a batch whose items were read is left out (its count comes from them)."""
    from django.contrib.auth.models import Group
    from django.db.models import Count

    staff, partners = Group.objects.create(name="staff"), Group.objects.create(name="partners")
    for user in five[:4]:
        user.groups.add(staff)
    five[0].groups.add(partners)
    mine = User.objects.filter(username__startswith="w")
    querysets = [
        mine.order_by("id"),
        mine.annotate(n=Count("groups")).order_by("id"),
        mine.filter(groups__name__in=["staff", "partners"]),
        mine.filter(pk__in=[]),
    ]
    batches = [
        batch_of(qs, lambda u: WaitingItem(title="", url="/", since=now)) for qs in querysets
    ]
    read = _batch([])
    everyone = User.objects.count()
    assert len(read.items) == everyone
    with CaptureQueriesContext(connection) as ctx:
        waiting.counts_read([*batches, read])
        counts = [b.count for b in batches]
        assert read.count == everyone
    assert len(ctx.captured_queries) == 1
    assert counts == [qs.count() for qs in querysets] == [5, 5, 5, 0]


def test_home_panel_reads_the_waiting_counts_in_one_statement(users, now, rf):
    """A partner's "Waiting on you" panel: one statement for the counts of its sources made of
    a queryset, the same counts each source reads alone."""
    from caseledger.core.home import _waiting_context
    from caseledger.core.waiting import waiting_for

    partner = users["PARTNER"]
    request = rf.get("/")
    request.user = partner
    alone = {g.source.key: g.batch.count for g in waiting_for(partner, now)}
    with CaptureQueriesContext(connection) as ctx:
        context = _waiting_context(request, now)
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert sum(s.startswith("SELECT (SELECT COUNT(*)") for s in sqls) == 1
    assert not [s for s in sqls if s.startswith("SELECT COUNT(*)")]  # no COUNT per source
    assert {g.source.key: g.batch.count for g in context["groups"]} == {
        key: n for key, n in alone.items() if n
    }
