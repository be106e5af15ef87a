"""Race tests on PostgreSQL with real threads, each on its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from caseledger.core import audit
from caseledger.core.models import AuditEvent
from caseledger.ledger import selectors
from caseledger.ledger.exceptions import TrustViolation
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import Disbursement, make_matter

D = date(2026, 3, 1)
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(fns: list[Callable[[], Any]]) -> list[Any]:
    """Start every fn at once (a barrier), each in its own thread and connection; return each
    result or the exception it raised."""
    barrier = threading.Barrier(len(fns))
    results: list[Any] = [None] * len(fns)

    def worker(i: int, fn: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread raised
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung (deadlock?)"
    close_old_connections()
    return results


def test_two_concurrent_80_dollar_disbursements_against_100(require_postgres, now):
    approved = Disbursement(1, True)
    for _round in range(50):
        m = make_matter()
        H.deposit(matter=m, cents=100_00, now=now, day=D)

        def pay(m: Any = m) -> Any:
            return H.disburse(matter=m, cents=80_00, now=now, day=D, disbursement=approved)

        results = run_together([pay, pay])
        ok = [r for r in results if not isinstance(r, Exception)]
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(ok) == 1, results
        assert len(failed) == 1
        assert isinstance(failed[0], TrustViolation), failed
        assert selectors.client_trust_balance(client=m.client, matter=m) == 20_00
    assert selectors.ledger_verify() == []


def test_eight_threads_on_one_hot_balance(require_postgres, now):
    m = make_matter()
    H.deposit(matter=m, cents=1_000_00, now=now, day=D)
    approved = Disbursement(1, True)
    per_thread = 25

    def writer(i: int) -> int:
        done = 0
        for j in range(per_thread):
            if (i + j) % 2:
                H.deposit(matter=m, cents=3_00, now=now, day=D)
            else:
                H.disburse(matter=m, cents=2_00, now=now, day=D, disbursement=approved)
            done += 1
        return done

    fns: list[Callable[[], Any]] = [lambda i=i: writer(i) for i in range(8)]  # type: ignore[misc]
    results = run_together(fns)
    assert results == [per_thread] * 8, results
    deposits = sum(1 for i in range(8) for j in range(per_thread) if (i + j) % 2)
    disbursements = 8 * per_thread - deposits
    expected = 1_000_00 + deposits * 3_00 - disbursements * 2_00
    assert selectors.client_trust_balance(client=m.client, matter=m) == expected
    assert selectors.ledger_verify() == []


def test_concurrent_retries_with_one_idempotency_key_post_once(require_postgres, now):
    m = make_matter()

    def post() -> Any:
        return H.deposit(matter=m, cents=5_00, now=now, day=D, key="webhook:evt_1")

    results = run_together([post] * 4)
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert selectors.client_trust_balance(client=m.client, matter=m) == 5_00


def test_deposits_racing_other_audited_writes_keep_one_unbroken_audit_chain(require_postgres, now):
    """A deposit's event is appended in one statement only if the audit chain head still holds
    the hash its write read; writers of other events (which lock the head and nothing of the
    ledger) move the head at any moment in between. Whoever wins, every event links to exactly
    one predecessor, the chain verifies, and every deposit and event is there once."""
    matters = [make_matter() for _ in range(4)]
    rounds = 15

    def depositor(m: Any) -> int:
        for _ in range(rounds):
            H.deposit(matter=m, cents=1_00, now=now, day=D)
        return rounds

    def recorder(i: int) -> int:
        for j in range(rounds):
            with transaction.atomic():
                audit.record(actor=None, action="race.other", at=now, after={"i": i, "j": j})
        return rounds

    fns: list[Callable[[], Any]] = [lambda m=m: depositor(m) for m in matters]  # type: ignore[misc]
    fns += [lambda i=i: recorder(i) for i in range(4)]  # type: ignore[misc]
    assert run_together(fns) == [rounds] * 8
    assert AuditEvent.objects.filter(action="ledger.entry_posted").count() == 4 * rounds
    assert AuditEvent.objects.filter(action="race.other").count() == 4 * rounds
    assert audit.verify_chain() is None
    prevs = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prevs) == len(set(prevs))  # no fork: no two events share a predecessor
    for m in matters:
        assert selectors.client_trust_balance(client=m.client, matter=m) == rounds * 1_00
    assert selectors.ledger_verify() == []
