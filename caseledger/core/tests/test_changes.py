"""core.changes: which statements a domain's triggers cover (``watched_by``), counts that
compaction keeps, and a cache that serves a count's result once and computes again after a
change (the trust domain's own tests: trust/tests/test_cached_totals.py)."""

from __future__ import annotations

import pytest
from django.db import transaction

from caseledger.core.changes import (
    MODULUS,
    Watched,
    cached_read,
    change_count,
    change_counts_compact,
    watched_by,
)
from caseledger.core.models import ChangeCount

W = Watched("t", {"app_a": None, "app_b": frozenset({"id", "name"})})


@pytest.mark.parametrize(
    ("sql", "covered"),
    [
        ('SELECT "app_a"."x" FROM "app_a"', True),
        ('SELECT "app_a"."x" FROM "app_a" INNER JOIN "app_b" ON ("app_b"."id" = 1)', True),
        ('SELECT U0."name" FROM "app_b" U0 WHERE U0."id" = 3', True),
        ('SELECT "app_b"."email" FROM "app_b"', False),  # a column not watched
        (
            'SELECT 1 FROM "app_a" WHERE EXISTS(SELECT 1 FROM "app_b" U1 WHERE U1."notes" = 2)',
            False,
        ),
        ('SELECT 1 FROM "app_a" LEFT OUTER JOIN "app_c" ON (1 = 1)', False),  # a table not watched
        ("SELECT 1", False),  # reads no table it can tell
    ],
)
def test_watched_by(sql, covered):
    assert watched_by(W, sql) is covered


@pytest.mark.django_db
def test_compaction_keeps_each_count():
    weights = {"a": [5, 2**40 - 1, 7], "b": [MODULUS - 1, 3]}
    for domain, ws in weights.items():
        ChangeCount.objects.bulk_create(ChangeCount(domain=domain, weight=w) for w in ws)
    before = {d: change_count(d) for d in weights}
    assert before == {d: sum(ws) % MODULUS for d, ws in weights.items()}
    domains = ChangeCount.objects.values("domain").distinct().count()  # the migrations' too
    assert change_counts_compact() == domains
    assert {d: change_count(d) for d in weights} == before
    assert change_count("none") == 0


@pytest.mark.django_db(transaction=True)
def test_a_result_is_served_until_the_count_moves():
    computed: list[int] = []

    def read() -> int:
        computed.append(1)
        return len(computed)

    sql = 'SELECT "app_a"."x" FROM "app_a"'
    ChangeCount.objects.create(domain="t", weight=123_457)
    assert cached_read(W, "default", sql, [1], read) == 1
    assert cached_read(W, "default", sql, [1], read) == 1  # served
    assert cached_read(W, "default", sql, [2], read) == 2  # other parameters
    ChangeCount.objects.create(domain="t", weight=99)
    assert cached_read(W, "default", sql, [1], read) == 3  # the count moved
    with transaction.atomic():
        assert cached_read(W, "default", sql, [1], read) == 4  # never inside a transaction
    unwatched = 'SELECT "app_c"."x" FROM "app_c"'
    assert cached_read(W, "default", unwatched, [1], read) == 5
    assert cached_read(W, "default", unwatched, [1], read) == 6
