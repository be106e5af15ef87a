"""The benchmark registry. A bench module registers its functions with ``@register(name)``;
list the module in ``BENCH_MODULES`` so ``python -m bench`` imports it.

A bench is ``fn(ctx: BenchContext) -> BenchResult``; it runs inside a throwaway, migrated
database (``bench_<name>`` on PostgreSQL, a temp file on SQLite) made by ``bench.db``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Later helpers add "bench.month_end", "bench.pdf", "bench.webhook", "bench.aging",
# "bench.collections" here.
BENCH_MODULES: list[str] = [
    "bench.ledger",
    "bench.month_end",
    "bench.pdf",
    "bench.webhook",
    "bench.aging",
    "bench.collections",
    "bench.bank_import",
    "bench.kpis",
    "bench.reconcile",
    "bench.imports",
    "bench.export",
    "bench.pages",
]

RESULT_KEYS = (
    "bench",
    "db",
    "n",
    "rate",
    "baseline",
    "baseline_rate",
    "ratio",
    "p50_ms",
    "p99_ms",
)


@dataclass(frozen=True)
class BenchContext:
    name: str
    full: bool
    vendor: str  # "postgresql" | "sqlite"


BenchFn = Callable[[BenchContext], dict[str, Any]]
BENCHES: dict[str, BenchFn] = {}


def register(name: str) -> Callable[[BenchFn], BenchFn]:
    def decorator(fn: BenchFn) -> BenchFn:
        if name in BENCHES:
            raise RuntimeError(f"bench {name!r} registered twice")
        BENCHES[name] = fn
        return fn

    return decorator


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of ``values``; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def result(
    *,
    ctx: BenchContext,
    n: int,
    seconds: float,
    baseline: str,
    baseline_n: int,
    baseline_seconds: float,
    latencies_s: Sequence[float],
) -> dict[str, Any]:
    """The one JSON line every bench prints, keys exactly ``RESULT_KEYS``."""
    rate = n / seconds if seconds > 0 else 0.0
    baseline_rate = baseline_n / baseline_seconds if baseline_seconds > 0 else 0.0
    out = {
        "bench": ctx.name,
        "db": ctx.vendor,
        "n": n,
        "rate": round(rate, 1),
        "baseline": baseline,
        "baseline_rate": round(baseline_rate, 1),
        "ratio": round(rate / baseline_rate, 3) if baseline_rate else 0.0,
        "p50_ms": round(statistics.median(latencies_s) * 1000, 2) if latencies_s else 0.0,
        "p99_ms": round(percentile(latencies_s, 99) * 1000, 2),
    }
    assert tuple(out) == RESULT_KEYS
    return out
