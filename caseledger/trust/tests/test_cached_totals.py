"""The trust dashboard's statement is cached per change count (core.changes, trust 0008): each
change it watches is read at once, what it does not watch keeps the cached figures, a
rolled-back change moves nothing, and inside a transaction or over an unwatched table it is
computed every time. On SQLite and PostgreSQL (transactional tests: the cache is used only
outside a transaction)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from caseledger.clients.models import Client
from caseledger.core.changes import change_count
from caseledger.matters.models import Matter
from caseledger.payments.tests.factories import MatterFactory
from caseledger.trust import selectors, services
from caseledger.trust.selectors import TRUST_WATCHED, trust_totals

pytestmark = pytest.mark.django_db(transaction=True)

RECEIVED = date(2026, 10, 1)
AS_OF = date(2026, 11, 2)


def _deposit(matter: Matter, now: Any, cents: int) -> Any:
    return services.deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference=f"W-{matter.pk}",
        amount_cents=cents,
        received_date=RECEIVED,
        actor=None,
        now=now,
    )


def _statements(read: Callable[[], Any]) -> int:
    """How many times ``read`` ran the dashboard's statement."""
    with CaptureQueriesContext(connection) as q:
        read()
    return sum(1 for x in q.captured_queries if x["sql"].startswith("WITH r AS"))


def _fresh(matters: Any = None) -> Any:
    with transaction.atomic():  # never cached inside a transaction
        return trust_totals(AS_OF, matters)


def test_each_watched_change_is_read_at_once(users, now):
    first, second = MatterFactory(), MatterFactory()
    _deposit(first, now, 50_000)
    assert trust_totals(AS_OF) == _fresh()
    assert _statements(lambda: trust_totals(AS_OF)) == 0  # the cached figures
    changes: list[tuple[str, Callable[[], Any]]] = [
        ("a deposit on a new trust matter", lambda: _deposit(second, now, 20_000)),
        ("a deposit on a trust matter", lambda: _deposit(first, now, 5_000)),
        (
            "a dispute hold",
            lambda: services.dispute_hold_create(
                matter=first,
                amount_cents=1_000,
                reason="Fee dispute",
                actor=users["PARTNER"],
                now=now,
            ),
        ),  # fmt: skip
        (
            "a matter's minimum",
            lambda: services.matter_threshold_set(
                matter=second, threshold_cents=900_000, actor=users["PARTNER"], now=now
            ),
        ),
        ("a matter closed", lambda: Matter.objects.filter(pk=first.pk).update(status="CLOSED")),
        ("a matter renumbered", lambda: Matter.objects.filter(pk=second.pk).update(number="0-1")),
        (
            "a client renamed",
            lambda: Client.objects.filter(pk=second.client_id).update(name="Aardvark"),
        ),
        (
            "a matter reassigned",
            lambda: Matter.objects.filter(pk=first.pk).update(attorney=users["ATTORNEY"]),
        ),
    ]
    for name, change in changes:
        before = change_count("trust")
        change()
        assert change_count("trust") != before, name
        assert _statements(lambda: trust_totals(AS_OF)) == 1, name
        assert trust_totals(AS_OF) == _fresh(), name
    assert _fresh().count == 2


def test_what_it_does_not_watch_keeps_the_cached_figures(now):
    matter = MatterFactory()
    _deposit(matter, now, 50_000)
    trust_totals(AS_OF)
    before = change_count("trust")
    Matter.objects.filter(pk=matter.pk).update(title="Renamed", notes="Stage moved on")
    Client.objects.filter(pk=matter.client_id).update(email="new@example.com")
    MatterFactory()  # a new matter has no trust money until a trust row names it
    assert change_count("trust") == before
    assert _statements(lambda: trust_totals(AS_OF)) == 0


def test_a_rolled_back_change_moves_nothing(now):
    matter = MatterFactory()
    _deposit(matter, now, 50_000)
    before = change_count("trust")

    def deposit_then_fail() -> None:
        with transaction.atomic():
            _deposit(matter, now, 7_000)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        deposit_then_fail()
    assert change_count("trust") == before


def test_inside_a_transaction_or_over_an_unwatched_column_it_is_computed_every_time(now):
    matter = MatterFactory()
    _deposit(matter, now, 50_000)
    with transaction.atomic():
        assert _statements(lambda: trust_totals(AS_OF)) == 1
        assert _statements(lambda: trust_totals(AS_OF)) == 1
    by_title = Matter.objects.filter(title__contains="")  # the title is not watched
    assert _statements(lambda: trust_totals(AS_OF, by_title)) == 1
    assert _statements(lambda: trust_totals(AS_OF, by_title)) == 1
    assert trust_totals(AS_OF, by_title) == _fresh(by_title)


def test_the_triggers_watch_what_the_reads_may_read():
    """Every watched table has its triggers (``ledger_posting`` through the trust liability's
    sub-ledger rows), with the migration's columns."""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT DISTINCT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name LIKE 'trust_changes_%%'"
        )
    else:
        sql = (
            "SELECT tbl_name FROM sqlite_master "
            "WHERE type = 'trigger' AND name LIKE 'trust_changes_%%'"
        )
    with connection.cursor() as cur:
        cur.execute(sql)
        tables = {row[0] for row in cur.fetchall()}
    assert tables == set(TRUST_WATCHED.tables) - {"ledger_posting"}
    migration = importlib.import_module("caseledger.trust.migrations.0008_change_triggers")
    watched = TRUST_WATCHED.tables
    assert frozenset(migration.MATTER_COLUMNS) == watched["matters_matter"]
    assert frozenset(migration.CLIENT_COLUMNS) == watched["clients_client"]
    assert frozenset(migration.SUBLEDGER_COLUMNS) == watched["ledger_subledgerbalance"]
    assert set(migration.ALL) == {t for t, columns in watched.items() if columns is None}
    assert selectors.TRUST_WATCHED.domain == "trust"
