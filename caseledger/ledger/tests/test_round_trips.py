"""The posting hot path's round trips, counted with CaptureQueriesContext: every statement the
connection sends, BEGIN and COMMIT included (docs/architecture.md, ``entry_post``). A change
that adds a round trip to a deposit fails here.

Transactional tests: ``entry_post``'s atomic block is the outermost one, so its BEGIN and COMMIT
are real (inside a test's transaction they would be a savepoint and its release)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseledger.ledger import accounts as A
from caseledger.ledger.services import account_info
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import make_matter

D = date(2026, 3, 1)
pytestmark = pytest.mark.django_db(transaction=True)


def _deposit_statements(matter, now) -> list[str]:
    """The statements of one deposit of 1.00 into ``matter``'s trust, each cut to its start."""
    with CaptureQueriesContext(connection) as ctx:
        H.deposit(matter=matter, cents=100, now=now, day=D)
    return [" ".join(q["sql"].split()[:5]) for q in ctx.captured_queries]


@pytest.mark.postgres
def test_a_trust_deposit_is_five_round_trips_on_postgresql(require_postgres, now):
    matter = make_matter()  # records audit events: the chain head exists, as in production
    account_info(A.TRUST_BANK)  # the chart is cached once per process, not per deposit
    five = [
        "BEGIN",
        # locks.posting_balances_lock: sub-ledger rows upserted (created on a matter's first
        # deposit) and account rows locked, one statement
        "WITH s AS (INSERT INTO",
        # the entry, its postings and the balance updates, reading the audit chain head
        "WITH e AS (INSERT INTO",
        # audit.record(head_seen=...): the event appended if the head still holds that hash
        "WITH head AS (UPDATE core_auditchainhead",
        "COMMIT",
    ]
    assert _deposit_statements(matter, now) == five  # the matter's first deposit
    assert _deposit_statements(matter, now) == five
    assert _deposit_statements(matter, now) == five


def test_a_trust_deposit_runs_the_same_steps_statement_by_statement_on_sqlite(now):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's statement-by-statement path")
    matter = make_matter()
    account_info(A.TRUST_BANK)
    locks_and_write = [
        "SELECT b.account_id, b.balance_cents, a.code, a.is_active",  # account rows
        "INSERT INTO ledger_journalentry (entry_date, kind,",
        "INSERT INTO ledger_posting (entry_id, account_id,",
        "UPDATE ledger_subledgerbalance SET balance_cents =",
        "UPDATE ledger_accountbalance SET balance_cents =",
        "SELECT last_hash FROM core_auditchainhead WHERE",  # the audit head (IMMEDIATE: locked)
        "INSERT INTO core_auditevent (at, actor_id,",
        "UPDATE core_auditchainhead SET last_hash =",
        "COMMIT",
    ]
    sub_rows = "SELECT account_id, client_id, matter_id, id,"
    # The matter's first deposit creates its two sub-ledger rows and reads them back: 13.
    assert _deposit_statements(matter, now) == [
        "BEGIN IMMEDIATE",
        sub_rows,
        'INSERT OR IGNORE INTO "ledger_subledgerbalance"',
        sub_rows,
        *locks_and_write,
    ]
    # Later deposits: 11.
    assert _deposit_statements(matter, now) == ["BEGIN IMMEDIATE", sub_rows, *locks_and_write]
