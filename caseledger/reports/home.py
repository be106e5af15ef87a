"""Home panel: the signed-in person's dashboard at a glance (three of its KPIs for the last three
months against the baseline), linking into the dashboard. One panel per person, the dashboard of
their role (``selectors.home_board``), so no KPI shows twice and one set of KPIs is read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from caseledger.core import clock
from caseledger.core.home import HomePanel

# The KPIs each dashboard's panel shows (the first of its dashboard's).
GLANCE = {
    "partner": ("dso_countback_days", "collection_rate_30d", "write_off_rate"),
    "billing": ("turnaround_median_hours", "billing_minutes_per_invoice", "credit_rate"),
    "operations": ("dso_countback_days", "collection_rate_30d", "billing_hours"),
    "attorney": ("dso_paid_days", "collection_rate_30d", "realization"),
}
HEADINGS = {
    "partner": "Partner KPIs",
    "billing": "Billing KPIs",
    "operations": "Operations KPIs",
    "attorney": "Your matters' KPIs",
}


def _glance_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    """The board's three KPIs, current and baseline, each computed from only the parts it needs
    (``metrics.PeriodKpis``)."""
    from caseledger.reports import metrics, selectors

    board = selectors.home_board(request.user)
    if board is None:  # the capability is the union of the boards': never for a holder
        raise RuntimeError(f"reports.glance shown to {request.user} without a dashboard")
    settings = selectors.settings_get()
    filters = metrics.Filters(attorney_id=request.user.pk) if board.own_matters else metrics.ALL
    period = selectors.default_period(clock.firm_date(now))
    base = selectors.baseline_period(settings)
    current = metrics.PeriodKpis(period, filters, target_days=settings.target_days)
    baseline = metrics.PeriodKpis(base, filters, target_days=settings.target_days) if base else None
    rows = []
    for kpi in GLANCE[board.key]:
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
        "heading": HEADINGS[board.key],
        "rows": rows,
        "period": period,
        "url": reverse(board.url_name),
        "title": board.title,
    }


PANELS = [
    HomePanel(
        key="reports.glance",
        title="KPIs",
        template="reports/home/glance.html",
        capability="reports.glance",
        context=_glance_context,
        order=12,
    )
]
