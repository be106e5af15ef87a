"""Ledger benchmarks.

``ledger``: trust deposits posted one per transaction through ``entry_post`` (locks, balance
rows, trust checks, audit event) vs the same entry and posting rows inserted with raw SQL
(INSERT entry + executemany postings), also one transaction per entry. Goal: ratio >= 0.5 on
PostgreSQL, p99 < 20 ms.

``ledger_batch``: the same trust deposits posted through ``entries_post`` (the batch path for
imports and generators: same checks, triggers, hooks and audit events; 500 entries a call) vs a
raw COPY of the same entry and posting rows on PostgreSQL (SQLite: raw INSERTs, entry by entry).
Goal: ratio >= 0.3 on PostgreSQL.

``ledger_hot``: 8 writer threads on ONE matter's trust balance vs 8 writers on 8 distinct
matters (same operations). Goal: ratio >= 0.3, no deadlock, exact final balance, never
negative. The audit chain head row serializes every audited write, so the distinct-matter
writers also queue on it; the ratio measures what the trust-balance lock adds on top.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

from bench.generate import generate_firm
from bench.registry import BenchContext, register, result

DAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


class BenchFailure(RuntimeError):
    pass


def _deposit(matter_id: int, client_id: int, cents: int) -> Any:
    from caseledger.ledger import accounts as A
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    return entry_post(
        kind=EntryKind.TRUST_DEPOSIT,
        entry_date=DAY,
        memo="Retainer deposit",
        lines=[
            PostingLine(A.TRUST_BANK, cents, client=client_id, matter=matter_id),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -cents, client=client_id, matter=matter_id),
        ],
        actor=None,
        now=NOW,
    )


class _Approved:
    pk = 1
    is_approved = True


def _disburse(matter_id: int, client_id: int, cents: int) -> Any:
    from caseledger.ledger import accounts as A
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    return entry_post(
        kind=EntryKind.TRUST_DISBURSEMENT,
        entry_date=DAY,
        memo="Filing fee from trust",
        lines=[
            PostingLine(A.CLIENT_TRUST_LIABILITY, cents, client=client_id, matter=matter_id),
            PostingLine(A.TRUST_BANK, -cents, client=client_id, matter=matter_id),
        ],
        actor=None,
        now=NOW,
        disbursement=_Approved(),
    )


def _verify(expected: dict[int, int]) -> None:
    from caseledger.ledger import selectors

    problems = selectors.ledger_verify()
    if problems:
        raise BenchFailure("ledger_verify: " + "; ".join(problems[:5]))
    for matter_id, cents in expected.items():
        rows = selectors.client_trust_balances().filter(matter_id=matter_id)
        actual = -sum(r.balance_cents for r in rows)
        if actual != cents:
            raise BenchFailure(f"matter {matter_id}: trust {actual} != expected {cents}")


@register("ledger")
def bench_ledger(ctx: BenchContext) -> dict[str, Any]:
    from django.db import connection, transaction

    from caseledger.ledger import accounts as A
    from caseledger.ledger.services import account_info

    n = 3000 if ctx.full else 300
    firm = generate_firm(matters=max(50, n // 10))
    matters = firm.matter_ids
    # Warm up (account cache, connection, plan caches) outside the timing.
    for m in matters[:5]:
        _deposit(m, firm.matter_client[m], 100)

    latencies: list[float] = []
    expected: dict[int, int] = {}
    start = time.perf_counter()
    for i in range(n):
        m = matters[i % len(matters)]
        cents = 10_000 + i
        t0 = time.perf_counter()
        _deposit(m, firm.matter_client[m], cents)
        latencies.append(time.perf_counter() - t0)
        expected[m] = expected.get(m, 0) + cents
    seconds = time.perf_counter() - start

    bank = account_info(A.TRUST_BANK).id
    liability = account_info(A.CLIENT_TRUST_LIABILITY).id
    returning = " RETURNING id"
    entry_sql = (
        "INSERT INTO ledger_journalentry (entry_date, kind, memo, currency, created_at, "
        "payload_hash) VALUES (%s, 'TRUST_DEPOSIT', 'Retainer deposit', 'USD', %s, %s)" + returning
    )
    posting_sql = (
        "INSERT INTO ledger_posting (entry_id, account_id, amount_cents, entry_date, "
        "client_id, matter_id) VALUES (%s, %s, %s, %s, %s, %s)"
    )
    base_start = time.perf_counter()
    for i in range(n):
        m = matters[i % len(matters)]
        c = firm.matter_client[m]
        cents = 10_000 + i
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(entry_sql, [DAY, NOW, hashlib.sha256(str(i).encode()).hexdigest()])
            entry_id = cur.fetchone()[0]
            cur.executemany(
                posting_sql,
                [
                    (entry_id, bank, cents, DAY, c, m),
                    (entry_id, liability, -cents, DAY, c, m),
                ],
            )
    base_seconds = time.perf_counter() - base_start

    # The raw rows bypassed the balance rows on purpose; verify the service's own work only.
    from caseledger.ledger.models import SubledgerBalance

    for m, cents in expected.items():
        row = SubledgerBalance.objects.get(account_id=liability, matter_id=m)
        warm = 100 if m in matters[:5] else 0
        if -row.balance_cents != cents + warm:
            raise BenchFailure(f"matter {m}: balance row {-row.balance_cents} != {cents + warm}")
    return result(
        ctx=ctx,
        n=n,
        seconds=seconds,
        baseline="raw_sql_insert",
        baseline_n=n,
        baseline_seconds=base_seconds,
        latencies_s=latencies,
    )


BATCH = 500


def _copy_baseline(rows: list[tuple[int, int, int]], bank: int, liability: int) -> float:
    """Seconds to write the entries and postings of ``rows`` (matter, client, cents) raw: COPY on
    PostgreSQL (entry ids reserved from the sequence first), plain INSERTs on SQLite."""
    from django.db import connection, transaction

    created = connection.ops.adapt_datetimefield_value(NOW)
    day = connection.ops.adapt_datefield_value(DAY)
    entry_cols = "id, entry_date, kind, memo, currency, created_at, payload_hash"
    posting_cols = "entry_id, account_id, amount_cents, entry_date, client_id, matter_id"
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence('ledger_journalentry', 'id')) "
                "FROM generate_series(1, %s)",
                [len(rows)],
            )
            ids = [r[0] for r in cur.fetchall()]
            raw = cur.cursor
            with raw.copy(f"COPY ledger_journalentry ({entry_cols}) FROM STDIN") as copy:
                for entry_id, _row in zip(ids, rows, strict=True):
                    copy.write_row(
                        (entry_id, day, "TRUST_DEPOSIT", "Retainer deposit", "USD", created, "x")
                    )
            with raw.copy(f"COPY ledger_posting ({posting_cols}) FROM STDIN") as copy:
                for entry_id, (m, c, cents) in zip(ids, rows, strict=True):
                    copy.write_row((entry_id, bank, cents, day, c, m))
                    copy.write_row((entry_id, liability, -cents, day, c, m))
        else:  # each entry, then its postings (SQLite's newest-entry guard trigger)
            for m, c, cents in rows:
                cur.execute(
                    f"INSERT INTO ledger_journalentry ({entry_cols[4:]}) "
                    "VALUES (%s, 'TRUST_DEPOSIT', 'Retainer deposit', 'USD', %s, 'x') "
                    "RETURNING id",
                    [day, created],
                )
                entry_id = cur.fetchone()[0]
                cur.executemany(
                    f"INSERT INTO ledger_posting ({posting_cols}) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (entry_id, bank, cents, day, c, m),
                        (entry_id, liability, -cents, day, c, m),
                    ],
                )
    return time.perf_counter() - start


@register("ledger_batch")
def bench_ledger_batch(ctx: BenchContext) -> dict[str, Any]:
    from caseledger.ledger import accounts as A
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.models import SubledgerBalance
    from caseledger.ledger.services import EntryRequest, PostingLine, account_info, entries_post

    n = 20_000 if ctx.full else 2_000
    firm = generate_firm(matters=max(50, n // 20))
    matters = firm.matter_ids
    _deposit(matters[0], firm.matter_client[matters[0]], 100)  # warm up outside the timing
    rows = [
        (matters[i % len(matters)], firm.matter_client[matters[i % len(matters)]], 10_000 + i)
        for i in range(n)
    ]
    latencies: list[float] = []
    start = time.perf_counter()
    for first in range(0, n, BATCH):
        t0 = time.perf_counter()
        entries_post(
            entries=[
                EntryRequest(
                    kind=EntryKind.TRUST_DEPOSIT,
                    entry_date=DAY,
                    memo="Retainer deposit",
                    lines=[
                        PostingLine(A.TRUST_BANK, cents, client=c, matter=m),
                        PostingLine(A.CLIENT_TRUST_LIABILITY, -cents, client=c, matter=m),
                    ],
                )
                for m, c, cents in rows[first : first + BATCH]
            ],
            actor=None,
            now=NOW,
        )
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    expected: dict[int, int] = {matters[0]: 100}
    for m, _c, cents in rows:
        expected[m] = expected.get(m, 0) + cents
    liability = account_info(A.CLIENT_TRUST_LIABILITY).id
    _verify(expected)  # ledger_verify and every matter's trust balance, before the raw rows
    for m, cents in expected.items():
        row = SubledgerBalance.objects.get(account_id=liability, matter_id=m)
        if -row.balance_cents != cents:
            raise BenchFailure(f"matter {m}: balance row {-row.balance_cents} != {cents}")
    base_seconds = _copy_baseline(rows, account_info(A.TRUST_BANK).id, liability)
    return result(
        ctx=ctx,
        n=n,
        seconds=seconds,
        baseline="raw_copy" if ctx.vendor == "postgresql" else "raw_insert",
        baseline_n=n,
        baseline_seconds=base_seconds,
        latencies_s=latencies,
    )


def _run_writers(targets: list[tuple[int, int]], per_thread: int) -> tuple[float, list[float]]:
    """8 threads; thread i writes to targets[i]: alternating deposit $3 / disbursement $2.
    Returns (seconds, latencies). Raises BenchFailure if any writer failed or hung."""
    from django.db import connection

    barrier = threading.Barrier(len(targets))
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(i: int, matter_id: int, client_id: int) -> None:
        mine: list[float] = []
        try:
            barrier.wait(timeout=60)
            for j in range(per_thread):
                t0 = time.perf_counter()
                if (i + j) % 2:
                    _deposit(matter_id, client_id, 300)
                else:
                    _disburse(matter_id, client_id, 200)
                mine.append(time.perf_counter() - t0)
        except BaseException as exc:  # report every failure, deadlocks included
            errors.append(exc)
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=writer, args=(i, m, c)) for i, (m, c) in enumerate(targets)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    seconds = time.perf_counter() - start
    if any(t.is_alive() for t in threads):
        raise BenchFailure("a writer thread hung (deadlock?)")
    if errors:
        raise BenchFailure(f"{len(errors)} writer(s) failed: {errors[0]!r}")
    return seconds, latencies


def _expected_after(start_cents: int, index: int, per_thread: int) -> int:
    deposits = sum(1 for j in range(per_thread) if (index + j) % 2)
    return start_cents + deposits * 300 - (per_thread - deposits) * 200


@register("ledger_hot")
def bench_ledger_hot(ctx: BenchContext) -> dict[str, Any]:
    threads = 8
    per_thread = 150 if ctx.full else 25
    firm = generate_firm(matters=threads + 1)
    hot = firm.matter_ids[0]
    hot_client = firm.matter_client[hot]
    distinct = firm.matter_ids[1 : threads + 1]
    funding = per_thread * 200 * threads  # enough that no ordering can go negative
    for m in [hot, *distinct]:
        _deposit(m, firm.matter_client[m], funding)

    hot_seconds, hot_latencies = _run_writers([(hot, hot_client)] * threads, per_thread)
    dist_seconds, _ = _run_writers([(m, firm.matter_client[m]) for m in distinct], per_thread)

    expected = {hot: funding}
    for i in range(threads):
        expected[hot] += _expected_after(0, i, per_thread)
    for i, m in enumerate(distinct):
        expected[m] = _expected_after(funding, i, per_thread)
    _verify(expected)
    n = threads * per_thread
    return result(
        ctx=ctx,
        n=n,
        seconds=hot_seconds,
        baseline="distinct_matters",
        baseline_n=n,
        baseline_seconds=dist_seconds,
        latencies_s=hot_latencies,
    )
