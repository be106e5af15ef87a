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
