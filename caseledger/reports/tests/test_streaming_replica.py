"""Report reads from a real streaming standby (issue 20): a second PostgreSQL cluster replaying
the first (``scripts/pg_replica.sh start``), named by ``CASELEDGER_TEST_REPLICA_URL``.

``test_replica.py`` checks the routing against a mirror connection; here the ``replica`` alias
points at the standby itself: a different server, in recovery, of the same cluster. The standby
replicates every database of the primary, so the test database the runner created on the
primary (``test_<name>``, with xdist's suffix) exists there under the same name once replayed:
the alias keeps the test database's name (``TEST: {"MIRROR": "default"}``, which copies only the
name) and takes the standby's host, port and user from the URL (its database name is not used).
Django never creates, migrates or flushes it; the primary's flush after each test replicates.

Data is written on the primary and committed (transactional tests); a test waits for the standby
to replay the primary's WAL up to the commit (``replayed``: polled, bounded) before reading.
Without the variable these tests skip; with ``CI=true`` they fail (``make test-postgres`` starts
nothing: ``.ci/run`` runs the script first and the target sets the variable).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import dj_database_url
import psycopg
import pytest
from django.db import connections

from caseledger.core.replica import PIN_SESSION_KEY, REPLICA
from caseledger.reports.tests.fixtures import book
from caseledger.reports.tests.test_replica import QUERY, queries

URL_ENV = "CASELEDGER_TEST_REPLICA_URL"
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# A replay that has not caught up by then is a broken standby, not a slow one.
REPLAY_TIMEOUT = 60.0
# Between two looks at the standby's replay position (a poll, not a wait for a fixed time).
POLL_INTERVAL = 0.01

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.replica,
    pytest.mark.django_db(transaction=True, databases=["default", REPLICA]),
]


class Standby:
    """The standby named by the URL, seen from outside Django (its ``postgres`` database)."""

    def __init__(self, url: str) -> None:
        cfg = dj_database_url.parse(url)
        self.host = cfg.get("HOST") or "127.0.0.1"
        self.port = int(cfg.get("PORT") or 5432)
        self.user = cfg.get("USER") or "postgres"
        self.password = cfg.get("PASSWORD") or ""
        self.conn = psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )

    def one(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]

    def replayed(self) -> float:
        """Wait until the standby has replayed the primary's WAL as of now (every commit made
        so far); return the seconds it took. Fails after ``REPLAY_TIMEOUT``."""
        with connections["default"].cursor() as cur:
            cur.execute("SELECT pg_current_wal_lsn()")
            target = cur.fetchone()[0]
        started = time.monotonic()
        while not self.one("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]):
            waited = time.monotonic() - started
            if waited > REPLAY_TIMEOUT:
                pytest.fail(f"the standby did not replay the primary's {target} in {waited:.0f}s")
            time.sleep(POLL_INTERVAL)
        return time.monotonic() - started

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def standby(require_postgres: None, settings: Any) -> Iterator[Standby]:
    """The ``replica`` alias pointed at the standby (the test database's name kept), with
    report reads routed to it."""
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        message = f"{URL_ENV} is not set (scripts/pg_replica.sh start; see make test-postgres)"
        if CI:
            pytest.fail(f"CI=true: a streaming replica is mandatory; {message}")
        pytest.skip(message)
    server = Standby(url)
    with connections["default"].cursor() as cur:
        cur.execute("SELECT system_identifier FROM pg_control_system()")
        primary_system = cur.fetchone()[0]
    if server.one("SELECT system_identifier FROM pg_control_system()") != primary_system:
        server.close()
        pytest.fail(f"{URL_ENV}: {server.host}:{server.port} is not a copy of the test primary")
    if not server.one("SELECT pg_is_in_recovery()"):
        server.close()
        pytest.fail(f"{URL_ENV}: {server.host}:{server.port} is not in recovery (not a standby)")
    # The test database was created (and migrated) on the primary after the standby started:
    # it exists on the standby once that is replayed.
    server.replayed()
    conn = connections[REPLICA]
    keys = ("HOST", "PORT", "USER", "PASSWORD")
    saved = {key: conn.settings_dict[key] for key in keys}
    conn.close()
    conn.settings_dict.update(
        HOST=server.host, PORT=str(server.port), USER=server.user, PASSWORD=server.password
    )
    settings.REPLICA_READS = True
    try:
        yield server
    finally:
        conn.close()
        conn.settings_dict.update(saved)
        server.close()


@pytest.fixture
def paused(standby: Standby) -> Iterator[Callable[[], None]]:
    """Returns ``pause()``: stops the standby applying WAL (it keeps receiving it), so what the
    primary commits afterwards is not on the standby until the test resumes it. Always resumed
    at the end (``scripts/pg_replica.sh start`` resumes a standby left paused, too)."""

    def pause() -> None:
        standby.one("SELECT pg_wal_replay_pause()")
        # Replay checks the request before each record: nothing written from here on applies.
        assert standby.one("SELECT pg_get_wal_replay_pause_state()") != "not paused"

    try:
        yield pause
    finally:
        standby.one("SELECT pg_wal_replay_resume()")


def server_of(alias: str) -> tuple[int, bool, int]:
    with connections[alias].cursor() as cur:
        cur.execute(
            "SELECT inet_server_port(), pg_is_in_recovery(), system_identifier"
            " FROM pg_control_system()"
        )
        row = cur.fetchone()
    return row[0], row[1], row[2]


@pytest.fixture
def partner(users: dict[str, Any], login: Callable[..., Any]) -> Any:
    return login(users["PARTNER"])


def test_report_pages_and_an_export_are_read_from_the_standby(
    standby: Standby, users: dict[str, Any], partner: Any, settings: Any
) -> None:
    book(users)
    standby.replayed()

    port, in_recovery, system = server_of(REPLICA)
    primary_port, primary_in_recovery, primary_system = server_of("default")
    # A different server, read-only, replaying this primary (the same cluster identity).
    assert (port, in_recovery) == (standby.port, True)
    assert primary_port != port
    assert not primary_in_recovery
    assert system == primary_system

    for url in ("/reports/", "/reports/rows/billed/", "/reports/cohorts/"):
        with queries() as q:
            response = partner.get(url + QUERY)
        assert response.status_code == 200, url
        read = ("billing_invoice", "reports_kpi")
        assert any(t in x["sql"] for x in q[REPLICA].captured_queries for t in read), url
        assert not any(t in x["sql"] for x in q["default"].captured_queries for t in read), url

    export = "/reports/rows/collected/" + QUERY + "&format=csv"
    with queries() as q:
        from_standby = partner.get(export)
    assert from_standby.status_code == 200
    assert from_standby["Content-Type"] == "text/csv"
    assert any("billing_invoice" in x["sql"] for x in q[REPLICA].captured_queries)
    # The replayed rows are the primary's: the same export read from the primary is identical.
    settings.REPLICA_READS = False
    from_primary = partner.get(export)
    assert from_standby.content == from_primary.content
    assert from_primary.content.count(b"\n") > 1, "the export has rows"


def test_a_payment_goes_to_the_primary_and_its_session_reads_it_back_from_there(
    standby: Standby,
    paused: Callable[[], None],
    users: dict[str, Any],
    partner: Any,
) -> None:
    from caseledger.payments.models import Payment

    b = book(users).b
    standby.replayed()
    export = "/reports/rows/collected/" + QUERY + "&format=csv"
    before = partner.get(export).content.decode()
    assert b.number not in before  # B is written off in part, not paid

    # From here on the standby lags behind the primary: whatever reads it would show.
    paused()
    with queries() as q:
        response = partner.post(
            "/payments/new/",
            {
                "client": b.client_id,
                "method": "CHECK",
                "payer": "Acme",
                "reference": "standby-check",
                "received_date": "2026-11-25",
                "amount": "400.00",
                "allocation": "manual",
                f"alloc_{b.pk}": "400.00",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert q[REPLICA].captured_queries == []  # the write and its reads: the primary only
    payment = Payment.objects.using("default").get(reference="standby-check")
    assert not Payment.objects.using(REPLICA).filter(pk=payment.pk).exists()

    # The session that posted reads its own write: pinned to the primary.
    assert partner.session[PIN_SESSION_KEY] > time.time()
    with queries() as q:
        pinned = partner.get(export).content.decode()
    assert q[REPLICA].captured_queries == []
    assert b.number in pinned

    # Once the pin has run out the same export is the standby's: still without the payment.
    session = partner.session
    session[PIN_SESSION_KEY] = 0
    session.save()
    with queries() as q:
        stale = partner.get(export).content.decode()
    assert q[REPLICA].captured_queries
    assert stale == before

    # Replay resumed, the standby catches up and shows it too.
    standby.one("SELECT pg_wal_replay_resume()")
    standby.replayed()
    caught_up = partner.get(export).content.decode()
    assert caught_up == pinned
