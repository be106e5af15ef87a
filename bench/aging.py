"""``aging``: the aging report vs the same buckets computed by a Python loop.

- The report (``collections.selectors.aging_report``, group by client): ONE grouped SQL query
  over the open A/R as of the date per (client, matter), less the aging facts dated after the
  date (none here). As of the date the buckets are kept for (``ARAgingBuckets``: per client and
  matter, what is open in each bucket of that date, kept by the ledger's posting listener and
  moved to the firm's today by the hourly roll; ADR 022) it reads those rows, one per client
  and matter; as of any other date it sums the open receivables themselves (``ARAgingOpen``,
  one row per invoice with a non-zero balance, per client and matter through a covering index).
  The loader leaves the buckets as of the bench's date, as the roll would on that day.
- The baseline (``_python_loop``): the same buckets from the rows the report would otherwise
  need, as before ADR 022: every aging fact (``ARAgingFact``, one row per A/R posting) dated on
  or before the as-of date, fetched (client, due date, amount) and bucketed and summed in Python.

Full: 1,000,000 invoices (1,400,000 A/R postings); quick: 20,000. Goal on PostgreSQL: the query
under 0.3 s and ratio >= 10. The bench fails unless the open rows agree with the facts
(``aging_open_verify``) and the buckets with the open rows (``aging_buckets_verify``), the
report equals the loop and its total equals the ledger's A/R balance, to the cent."""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from typing import Any

from bench.generate import generate_firm
from bench.receivables import AS_OF, generate_receivables
from bench.registry import BenchContext, register, result


class BenchFailure(RuntimeError):
    pass


def _python_loop(group: str) -> dict[Any, dict[str, int]]:
    """The baseline: fetch the group key, due date and amount of every aging fact dated on or
    before the as-of date (the rows the report summed before the open A/R table, ADR 022), then
    bucket and sum in Python."""
    from caseledger.collections.selectors import BUCKETS, GROUPS, aging_facts, bucket_of

    key = GROUPS[group]
    out: dict[Any, dict[str, int]] = {}
    rows = aging_facts(AS_OF).values_list(key, "due_date", "amount_cents")
    for k, due, cents in rows.iterator(chunk_size=20_000):
        buckets = out.get(k)
        if buckets is None:
            buckets = out[k] = dict.fromkeys(BUCKETS, 0)
        buckets[bucket_of(due, AS_OF)] += cents
    return {k: v for k, v in out.items() if any(v.values())}


@register("aging")
def bench_aging(ctx: BenchContext) -> dict[str, Any]:
    from caseledger.collections.selectors import (
        aging_buckets_verify,
        aging_open_verify,
        aging_report,
    )
    from caseledger.ledger import accounts as A
    from caseledger.ledger.selectors import account_balance

    n = 1_000_000 if ctx.full else 20_000
    firm = generate_firm(matters=max(100, n // 50))
    generate_receivables(invoices=n, matter_ids=firm.matter_ids, matter_client=firm.matter_client)
    problems = aging_open_verify()
    if problems:
        raise BenchFailure(f"open A/R rows disagree with the aging facts: {problems[:3]}")
    problems = aging_buckets_verify()
    if problems:
        raise BenchFailure(f"A/R buckets disagree with the open rows: {problems[:3]}")
    aging_report(as_of=AS_OF, group="client")  # warm (plans, caches)
    latencies = []
    for _ in range(3):
        t0 = time.perf_counter()
        report = aging_report(as_of=AS_OF, group="client")
        latencies.append(time.perf_counter() - t0)
    seconds = min(latencies)
    t0 = time.perf_counter()
    baseline = _python_loop("client")
    base_seconds = time.perf_counter() - t0
    by_key = {r.key: r.buckets for r in report.rows}
    if by_key != baseline:
        raise BenchFailure("SQL aging and the Python loop disagree")
    ledger_ar = account_balance(code=A.ACCOUNTS_RECEIVABLE, as_of=AS_OF)
    if report.total != ledger_ar:
        raise BenchFailure(f"aging total {report.total} != ledger A/R {ledger_ar}")
    # For the record (stderr): the report as of the next day, which the buckets are not of (a
    # report before the roll has moved them): the open receivables summed per client and matter.
    next_day = AS_OF + timedelta(days=1)
    open_rows = []
    for _ in range(3):
        t0 = time.perf_counter()
        other = aging_report(as_of=next_day, group="client")
        open_rows.append(time.perf_counter() - t0)
    if other.total != account_balance(code=A.ACCOUNTS_RECEIVABLE, as_of=next_day):
        raise BenchFailure(f"aging total as of {next_day} != ledger A/R")
    print(json.dumps({"open_rows_report_s": round(min(open_rows), 4)}), file=sys.stderr)
    return result(
        ctx=ctx,
        n=n,
        seconds=seconds,
        baseline="python_loop",
        baseline_n=n,
        baseline_seconds=base_seconds,
        latencies_s=latencies,
    )
