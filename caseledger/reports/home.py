"""Home panels: each role's dashboard at a glance (three of its KPIs for the last three months
against the baseline), linking into the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from caseledger.core import clock
from caseledger.core.home import HomePanel

# The KPIs each panel shows (the first of its dashboard's).
GLANCE = {
    "partner": ("dso_countback_days", "collection_rate_30d", "write_off_rate"),
    "billing": ("turnaround_median_hours", "billing_minutes_per_invoice", "credit_rate"),
    "operations": ("dso_countback_days", "collection_rate_30d", "billing_hours"),
    "attorney": ("dso_paid_days", "collection_rate_30d", "realization"),
}


def _kpis(request: HttpRequest, now: datetime, own: bool) -> tuple[Any, Any]:
    """The current and baseline KPIs, once per request (firm-wide or own matters), each KPI
    computed when a panel first shows it (``metrics.PeriodKpis``): only the parts the shown
    panels need are read."""
    from caseledger.reports import metrics, selectors

    cache: dict[bool, tuple[Any, Any]] = request.__dict__.setdefault("_report_glance", {})
    if own not in cache:
        settings = selectors.settings_get()
        filters = metrics.Filters(attorney_id=request.user.pk) if own else metrics.ALL
        period = selectors.default_period(clock.firm_date(now))
        base = selectors.baseline_period(settings)
        cache[own] = (
            metrics.PeriodKpis(period, filters, target_days=settings.target_days),
            metrics.PeriodKpis(base, filters, target_days=settings.target_days) if base else None,
        )
    return cache[own]


def _glance(key: str) -> Any:
    def context(request: HttpRequest, now: datetime) -> dict[str, Any]:
        from caseledger.reports import metrics, selectors

        board = selectors.BOARDS[key]
        current, baseline = _kpis(request, now, board.own_matters)
        rows = []
        for kpi in GLANCE[key]:
            _, title, unit, lower = selectors.SPECS[kpi]
            now_value = getattr(current, kpi)
            then = getattr(baseline, kpi) if baseline else None
            better = None
            if None not in (now_value, then, lower) and now_value != then:
                better = (now_value < then) == lower
            rows.append(
                {
                    "title": title,
                    "current": metrics.kpi_display(now_value, unit),
                    "baseline": metrics.kpi_display(then, unit),
                    "better": better,
                }
            )
        return {
            "rows": rows,
            "period": current.period,
            "url": reverse(board.url_name),
            "title": board.title,
        }

    return context


PANELS = [
    HomePanel(
        key=f"reports.{key}",
        title=title,
        template="reports/home/glance.html",
        capability=capability,
        context=_glance(key),
        order=order,
    )
    for key, title, capability, order in (
        ("partner", "Partner KPIs", "reports.view", 12),
        ("billing", "Billing KPIs", "reports.billing", 13),
        ("operations", "Operations KPIs", "reports.operations", 14),
        ("attorney", "Your matters' KPIs", "reports.attorney", 15),
    )
]
