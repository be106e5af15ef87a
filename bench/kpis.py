"""``kpis``: the partner dashboard's figures (every KPI of ``reports.metrics.kpis`` for the current
period and the baseline period) computed in the database (the money figures from the KPI
summary the loader fills, ADR 019), against the same figures computed by a Python loop over the
A/R posting rows, in the same run.

Full: 1,000,000 invoices (about 700,000 payments, 3.4 million postings) and operating entries
that never touch A/R filling the ledger to 5,000,000 postings; quick: 10,000 invoices and
50,000 postings. Goal on PostgreSQL: the dashboard under
1 s and >= 5x the loop. The loop's figures must equal the database's (billed, collected, A/R,
average days to pay, collection rate) or the bench fails.

On PostgreSQL the invoices also get trigger, approval and issue times (set under
``session_replication_role = replica`` in the throwaway bench database) so turnaround has rows;
SQLite's immutability triggers refuse that update, so there turnaround reads no rows. The
invoice-level KPIs (turnaround, realization, invoices issued) read the invoice summary (ADR 021),
rebuilt after the times are set.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from bench.generate import generate_firm
from bench.receivables import AS_OF, generate_receivables
from bench.registry import BenchContext, register, result


class BenchFailure(RuntimeError):
    pass


CURRENT = (AS_OF - timedelta(days=89), AS_OF)
BASELINE = (AS_OF - timedelta(days=179), AS_OF - timedelta(days=90))


def _times() -> None:
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(
            "UPDATE billing_invoice SET "
            "triggered_at = issue_date::timestamp AT TIME ZONE 'UTC' - (id % 97) * interval '1h', "
            "approved_at = issue_date::timestamp AT TIME ZONE 'UTC' - (id % 31) * interval '1h', "
            "issued_at = issue_date::timestamp AT TIME ZONE 'UTC'"
        )
    # The update rewrote every invoice row: vacuum, as autovacuum soon would, so the invoice
    # KPI index (billing 0016) serves index-only scans as it does on a settled table (issued
    # invoices do not change).
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) billing_invoice")
    # The times changed behind the invoice summary (ADR 021): recompute it, as the loader does
    # after its bulk load (after the ANALYZE: with the statistics of the times still NULL the
    # planner joins the invoices by nested loops).
    from caseledger.reports.summary import rebuild_invoices

    with transaction.atomic():
        rebuild_invoices()


def _dashboard() -> dict[str, Any]:
    from caseledger.reports import metrics

    out = {}
    for name, (start, end) in (("current", CURRENT), ("baseline", BASELINE)):
        k = metrics.kpis(metrics.Period(start, end))
        out[name] = k.as_dict()
    return out


def _loop() -> dict[str, dict[str, Any]]:
    """The baseline: read every A/R posting (date, amount, entry kind, invoice issue date) once
    and compute the money figures, average days to pay and the 30-day collection rate of both
    periods in Python."""
    from caseledger.ledger.accounts import ACCOUNTS_RECEIVABLE
    from caseledger.ledger.models import Posting
    from caseledger.reports.metrics import BILLED, COLLECTED, KINDS

    kind_category = {k: c for c, kinds in KINDS.items() for k in kinds}
    rows = Posting.objects.filter(account__code=ACCOUNTS_RECEIVABLE).values_list(
        "entry_date", "amount_cents", "entry__kind", "invoice__issue_date"
    )
    figures = {
        name: {"billed": 0, "collected": 0, "ar": 0, "w": 0, "wd": 0, "b30": 0, "c30": 0}
        for name in ("current", "baseline")
    }
    periods = {"current": CURRENT, "baseline": BASELINE}
    for day, cents, kind, issued in rows.iterator(chunk_size=20_000):
        category = kind_category.get(kind)
        for name, (start, end) in periods.items():
            f = figures[name]
            if day <= end:
                f["ar"] += cents
            if issued is not None and start <= issued <= end:
                if category == BILLED and kind == "INVOICE_ISSUED":
                    f["b30"] += cents
                elif category == COLLECTED and (day - issued).days <= 30:
                    f["c30"] -= cents
            if not start <= day <= end:
                continue
            if category == BILLED:
                f["billed"] += cents
            elif category == COLLECTED:
                f["collected"] -= cents
                if issued is not None:
                    f["w"] -= cents
                    f["wd"] -= cents * (day - issued).days
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for name, f in figures.items():
        out[name] = {
            "billed_cents": f["billed"],
            "collected_cents": f["collected"],
            "ar_cents": f["ar"],
            "dso_paid_days": round(f["wd"] / f["w"], 1) if f["w"] else None,
            "collection_rate_30d": round(f["c30"] / f["b30"], 4) if f["b30"] else None,
        }
    return out


@register("kpis")
def bench_kpis(ctx: BenchContext) -> dict[str, Any]:
    n = 1_000_000 if ctx.full else 10_000
    firm = generate_firm(matters=max(100, n // 20))
    generate_receivables(
        invoices=n,
        matter_ids=firm.matter_ids,
        matter_client=firm.matter_client,
        paid_share=0.7,
        postings_at_least=5 * n,
    )
    _times()
    _dashboard()  # warm (plans, caches)
    latencies = []
    for _ in range(3):
        t0 = time.perf_counter()
        board = _dashboard()
        latencies.append(time.perf_counter() - t0)
    seconds = min(latencies)
    t0 = time.perf_counter()
    loop = _loop()
    base_seconds = time.perf_counter() - t0
    for name, expected in loop.items():
        got = {k: board[name][k] for k in expected}
        if got != expected:
            raise BenchFailure(f"{name}: database {got} != loop {expected}")
    out = result(
        ctx=ctx,
        n=n,
        seconds=seconds,
        baseline="python_loop",
        baseline_n=n,
        baseline_seconds=base_seconds,
        latencies_s=latencies,
    )
    from caseledger.ledger.models import Posting

    out["postings"] = Posting.objects.count()
    out["dashboard_s"] = round(seconds, 3)
    out["loop_s"] = round(base_seconds, 3)
    out["as_of"] = date.isoformat(AS_OF)
    return out
