"""The scheduled report's words, written from the figures by rules (no free text from a
model): what moved against the baseline and by how much, which cohort drove it, and the
matters to call this week.

A change is worth a sentence when it passes the KPI's threshold (DSO moves by 3 days or more,
a rate by a point or more, turnaround by 4 hours or more, billing time per invoice by 5
minutes or more); smaller moves are reported as steady.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from caseledger.collections.selectors import aging_invoices
from caseledger.core.money import format_money
from caseledger.reports import metrics
from caseledger.reports.metrics import Filters, Kpis, Period
from caseledger.reports.selectors import HEADLINE

# The smallest change each unit reports as a move.
THRESHOLDS = {"days": 3.0, "hours": 4.0, "minutes": 5.0, "share": 0.01}
CALLS = 5  # matters to call this week
CALL_AFTER_DAYS = 30  # past due


@dataclass(frozen=True)
class Narrative:
    moves: list[str]
    steady: list[str]
    drivers: list[str]
    actions: list[str]


def _change(delta: float, unit: str) -> str:
    if unit == "share":
        return f"{abs(delta) * 100:.1f} points"
    return f"{abs(delta):,.1f} {unit}"


def moves(current: Kpis, baseline: Kpis | None) -> tuple[list[str], list[str]]:
    """Sentences for the KPIs that moved against the baseline, and the titles of those that
    held steady (or cannot be compared)."""
    moved, steady = [], []
    for key, title, unit, lower_is_better in HEADLINE:
        now = getattr(current, key)
        then = getattr(baseline, key) if baseline else None
        if now is None or then is None:
            steady.append(f"{title}: no comparison (no figure for one of the periods)")
            continue
        delta = now - then
        if abs(delta) < THRESHOLDS[unit]:
            steady.append(f"{title} held at {metrics.kpi_display(now, unit)}")
            continue
        verb = "rose" if delta > 0 else "fell"
        better = (delta < 0) == lower_is_better
        moved.append(
            f"{title} {verb} from {metrics.kpi_display(then, unit)} to "
            f"{metrics.kpi_display(now, unit)} "
            f"({_change(delta, unit)}, {'better' if better else 'worse'} than the baseline)."
        )
    return moved, steady


def drivers(period: Period, baseline: Period | None, filters: Filters, currency: str) -> list[str]:
    """Per cohort dimension, the group whose average days to pay moved most against the
    baseline, and the group with the most written off in the period."""
    out = []
    for dimension, (label, _, _) in metrics.DIMENSIONS.items():
        now = {r.key: r for r in metrics.cohorts(dimension, period, filters)}
        if baseline is not None:
            then = {r.key: r for r in metrics.cohorts(dimension, baseline, filters)}
            deltas = []
            for key, row in now.items():
                before = then[key].dso_paid_days if key in then else None
                if row.dso_paid_days is not None and before is not None:
                    deltas.append((row.dso_paid_days - before, row))
            if deltas:
                delta, row = max(deltas, key=lambda d: abs(d[0]))
                if abs(delta) >= THRESHOLDS["days"]:
                    base_days = then[row.key].dso_paid_days
                    out.append(
                        f"By {label.lower()}: {row.label} moved most, average days to pay "
                        f"{row.dso_paid_days:.1f} against {base_days:.1f} in the baseline."
                    )
        written = [r for r in now.values() if r.written_off_cents > 0]
        if written:
            top = max(written, key=lambda r: r.written_off_cents)
            out.append(
                f"By {label.lower()}: {top.label} had the most written off, "
                f"{format_money(top.written_off_cents, currency)}."
            )
    return out


def actions(as_of: dt.date, currency: str) -> list[str]:
    """The matters to call this week: those owing the most more than 30 days past due, each
    with its total overdue, its number of invoices and the oldest one's days past due."""
    matters: dict[tuple[str, str], list[int]] = {}
    for r in aging_invoices(as_of=as_of):
        if r.days_past_due > CALL_AFTER_DAYS:
            row = matters.setdefault((r.client, r.matter), [0, 0, 0])
            row[0] += r.balance_cents
            row[1] += 1
            row[2] = max(row[2], r.days_past_due)
    ranked = sorted(matters.items(), key=lambda item: (-item[1][0], -item[1][2]))
    return [
        f"Call {client} about matter {matter}: {format_money(cents, currency)} overdue on "
        f"{count} invoice{'s' if count > 1 else ''}, the oldest {days} days past due."
        for (client, matter), (cents, count, days) in ranked[:CALLS]
    ]


def narrative(
    *,
    current: Kpis,
    baseline: Kpis | None,
    filters: Filters,
    currency: str,
) -> Narrative:
    moved, steady = moves(current, baseline)
    return Narrative(
        moves=moved,
        steady=steady,
        drivers=drivers(current.period, baseline.period if baseline else None, filters, currency),
        actions=actions(current.period.end, currency),
    )
