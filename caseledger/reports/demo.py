"""Demo: the baseline period is the demo history's first six months, so every KPI on the
dashboard has something to be compared with."""

from __future__ import annotations

from datetime import timedelta

from caseledger.core.demo_context import DemoContext
from caseledger.reports import metrics, selectors, services


def seed(ctx: DemoContext) -> None:
    if selectors.baseline_period(selectors.settings_get()) is not None:
        return  # seeded before (or set by the firm): leave it
    start = metrics.month_start(ctx.today - timedelta(days=365), back=-1)
    end = metrics.month_start(start, back=-6) - timedelta(days=1)
    services.report_settings_update(
        actor=ctx.users["partner"],
        baseline_start=start,
        baseline_end=end,
        target_days=45,
        staff_cost_cents_per_hour=6_500,
        now=ctx.now,
    )
