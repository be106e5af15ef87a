"""What the report pages, exports and the API read: KPIs for a period and its baseline, their
monthly trend, the ROI of the change, and the rows behind each figure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from caseledger.core import clock
from caseledger.core.choices import Role
from caseledger.core.context import memoized
from caseledger.core.permissions import authorize
from caseledger.reports import metrics
from caseledger.reports.metrics import ALL, Filters, Kpis, Period
from caseledger.reports.models import ReportDelivery, ReportSettings, ReportSubscription

# (key, title, unit, lower is better) of the KPIs the dashboard shows, in order.
HEADLINE: list[tuple[str, str, str, bool]] = [
    ("dso_countback_days", "DSO (count-back)", "days", True),
    ("dso_paid_days", "Average days to pay", "days", True),
    ("turnaround_median_hours", "Invoice turnaround, median", "hours", True),
    ("turnaround_p90_hours", "Invoice turnaround, 90th percentile", "hours", True),
    ("collection_rate_30d", "Collected within 30 days", "share", False),
    ("write_off_rate", "Write-off rate", "share", True),
    ("credit_rate", "Credit rate", "share", True),
    ("realization", "Realization", "share", False),
    ("billing_minutes_per_invoice", "Staff time on billing per invoice", "minutes", True),
]
# The other KPIs the role dashboards show (None: neither direction is better).
MORE: list[tuple[str, str, str, bool | None]] = [
    ("review_wait_median_hours", "Waiting for review, median", "hours", True),
    ("issue_wait_median_hours", "Approved to issued, median", "hours", True),
    ("collection_rate_target", "Collected within the firm's target days", "share", False),
    ("billing_hours", "Staff time on billing", "hours", True),
    ("reconciliation_median_hours", "Reconciliation, prepare to sign, median", "hours", True),
    ("collection_tasks", "Collections tasks recorded", "tasks", None),
]
SPECS = {key: (key, title, unit, lower) for key, title, unit, lower in HEADLINE + MORE}
TITLES = {key: spec[1] for key, spec in SPECS.items()}
UNITS = {key: spec[2] for key, spec in SPECS.items()}


@dataclass(frozen=True)
class Board:
    """A role's dashboard: its title, who it is for, the KPIs it shows (in order) and its extra
    panels (``cash``: collections by month and method, trust, unapplied credit, WIP by age)."""

    key: str
    title: str
    audience: str
    capability: str
    kpis: tuple[str, ...]
    cash: bool = False
    own_matters: bool = False  # narrowed to the matters the user works on as attorney

    @property
    def url_name(self) -> str:
        return "reports:dashboard" if self.key == "partner" else f"reports:{self.key}"


BOARDS: dict[str, Board] = {
    "partner": Board(
        "partner",
        "Partner dashboard",
        "DSO, collection, write-offs and realization against the baseline",
        "reports.view",
        tuple(key for key, *_ in HEADLINE),
    ),
    "billing": Board(
        "billing",
        "Billing dashboard",
        "How fast invoices go out, what billing costs in staff time, credits and write-offs",
        "reports.billing",
        (
            "turnaround_median_hours",
            "turnaround_p90_hours",
            "review_wait_median_hours",
            "issue_wait_median_hours",
            "billing_minutes_per_invoice",
            "billing_hours",
            "credit_rate",
            "write_off_rate",
        ),
    ),
    "operations": Board(
        "operations",
        "Operations dashboard",
        "Cash in by month and method, trust and unapplied credit, WIP by age, reconciliation",
        "reports.operations",
        (
            "dso_countback_days",
            "collection_rate_30d",
            "collection_rate_target",
            "reconciliation_median_hours",
            "collection_tasks",
            "billing_hours",
        ),
        cash=True,
    ),
    "attorney": Board(
        "attorney",
        "Attorney dashboard",
        "Your matters: how their invoices are paid, realization, and the work not billed yet",
        "reports.attorney",
        ("dso_paid_days", "collection_rate_30d", "realization", "write_off_rate"),
        cash=True,
        own_matters=True,
    ),
}
# The dashboard each role's home page glances at; a role not listed here (the administrator) gets
# the first board it may open, in ``BOARDS`` order.
HOME_BOARDS: dict[str, str] = {
    Role.PARTNER: "partner",
    Role.BILLING: "billing",
    Role.OPERATIONS: "operations",
    Role.ATTORNEY: "attorney",
}
TREND_MONTHS = 12


def home_board(user: Any) -> Board | None:
    """The one dashboard ``user``'s home page shows at a glance: their role's (``HOME_BOARDS``)
    when they may open it, else the first of ``BOARDS`` they may open; None when they may open
    none (paralegals)."""
    own = BOARDS.get(HOME_BOARDS.get(str(getattr(user, "role", "")), ""))
    if own and authorize(user, own.capability):
        return own
    return next((b for b in BOARDS.values() if authorize(user, b.capability)), None)


def settings_get() -> ReportSettings:
    """The report settings; the defaults (unsaved) until someone saves them, so reading a page
    never writes. Read once per reading request (``core.context.memoized``): the home panel's
    baseline and the activity code of staff time on billing come from the same row."""
    return memoized("reports.settings", _settings_row)


def _settings_row() -> ReportSettings:
    row = ReportSettings.objects.filter(id=1).first()
    return row or ReportSettings(id=1, updated_at=clock.now())


def default_period(today: dt.date | None = None) -> Period:
    """The three months up to today."""
    today = today or clock.firm_today()
    start = metrics.month_start(today, back=2)
    return Period(start, today)


def baseline_period(settings: ReportSettings) -> Period | None:
    if settings.baseline_start and settings.baseline_end:
        return Period(settings.baseline_start, settings.baseline_end)
    return None


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    unit: str
    lower_is_better: bool | None
    formula: str
    current: float | None
    baseline: float | None
    trend: list[tuple[dt.date, float | None]]

    @property
    def change(self) -> float | None:
        if self.current is None or self.baseline is None:
            return None
        return self.current - self.baseline

    @property
    def improved(self) -> bool | None:
        change = self.change
        if change is None or change == 0 or self.lower_is_better is None:
            return None
        return (change < 0) == self.lower_is_better


@dataclass(frozen=True)
class RoiLine:
    label: str
    formula: str
    cents: int


@dataclass(frozen=True)
class Dashboard:
    period: Period
    baseline_period: Period | None
    filters: Filters
    current: Kpis
    baseline: Kpis | None
    figures: list[Figure]
    roi: list[RoiLine]

    @property
    def roi_total_cents(self) -> int:
        return sum(line.cents for line in self.roi)


def month_periods(until: dt.date, months: int) -> list[Period]:
    """The ``months`` calendar months up to the one holding ``until``, oldest first (the last
    one ends at ``until``)."""
    out = []
    for back in range(months - 1, -1, -1):
        start = metrics.month_start(until, back=back)
        end = until if back == 0 else metrics.month_start(until, back=back - 1) - dt.timedelta(1)
        out.append(Period(start, end))
    return out


def _trend_value(
    key: str, month: Period, k: metrics.PeriodKpis, as_of: dt.date, target_days: int
) -> Any:
    """A month's point on a trend line. A collection rate within N days is left blank (no
    point) for a month whose last invoices have not yet had their N days by ``as_of``: the
    month is still being collected, and its partial rate would read as a collapse."""
    window = {"collection_rate_30d": 30, "collection_rate_target": target_days}.get(key)
    if window is not None and month.end + dt.timedelta(days=window) > as_of:
        return None
    return getattr(k, key)


def dashboard(
    period: Period, filters: Filters = ALL, keys: tuple[str, ...] | None = None
) -> Dashboard:
    settings = settings_get()
    base_period = baseline_period(settings)
    current = metrics.kpis(period, filters, target_days=settings.target_days)
    baseline = (
        metrics.kpis(base_period, filters, target_days=settings.target_days)
        if base_period
        else None
    )
    months = month_periods(period.end, TREND_MONTHS)
    # Each month's KPIs read only the parts of the board's KPIs (the trend lines shown).
    monthly = [metrics.PeriodKpis(m, filters, target_days=settings.target_days) for m in months]
    figures = [
        Figure(
            key=key,
            title=title,
            unit=unit,
            lower_is_better=lower,
            formula=metrics.FORMULAS[key],
            current=getattr(current, key),
            baseline=getattr(baseline, key) if baseline else None,
            trend=[
                (m.start, _trend_value(key, m, k, period.end, settings.target_days))
                for m, k in zip(months, monthly, strict=True)
            ],
        )
        for key, title, unit, lower in ([SPECS[k] for k in keys] if keys is not None else HEADLINE)
    ]
    return Dashboard(
        period=period,
        baseline_period=base_period,
        filters=filters,
        current=current,
        baseline=baseline,
        figures=figures,
        roi=roi(current, baseline, settings),
    )


def roi(current: Kpis, baseline: Kpis | None, settings: ReportSettings) -> list[RoiLine]:
    """The change against the baseline in money, each line with its formula."""
    if baseline is None:
        return []
    lines = []
    daily_billing = current.billed_cents / current.period.days if current.period.days else 0
    if current.dso_countback_days is not None and baseline.dso_countback_days is not None:
        saved = baseline.dso_countback_days - current.dso_countback_days
        lines.append(
            RoiLine(
                "Cash from the change in DSO",
                f"{saved:.1f} days of DSO saved x average daily billing {daily_billing / 100:,.2f}",
                round(saved * daily_billing),
            )
        )
    if current.write_off_rate is not None and baseline.write_off_rate is not None:
        points = baseline.write_off_rate - current.write_off_rate
        lines.append(
            RoiLine(
                "Write-offs avoided (negative: added)",
                f"{points * 100:.2f} write-off points x billed revenue "
                f"{current.billed_cents / 100:,.2f}",
                round(points * current.billed_cents),
            )
        )
    now_minutes = current.billing_minutes_per_invoice
    then_minutes = baseline.billing_minutes_per_invoice
    if now_minutes is not None and then_minutes is not None:
        hours = (then_minutes - now_minutes) * current.invoices_issued / 60
        lines.append(
            RoiLine(
                "Billing time saved (negative: added)",
                f"({then_minutes:.1f} - {now_minutes:.1f}) staff minutes on billing per invoice "
                f"x {current.invoices_issued} invoices issued = {hours:.1f} hours x cost rate "
                f"{settings.staff_cost_cents_per_hour / 100:,.2f}/h",
                round(hours * settings.staff_cost_cents_per_hour),
            )
        )
    return lines


# -- drill-down: the rows behind a figure ----------------------------------------------------

DRILLS = {
    "billed": "Invoices issued in the period",
    "collected": "Collections dated in the period",
    "credited": "Credit notes dated in the period",
    "written_off": "Write-offs dated in the period",
    "ar": "Invoices with a balance at period end",
    "billing_time": "Staff time on billing in the period",
}
# Which rows each KPI drills to.
KPI_DRILL = {
    "dso_countback_days": "ar",
    "dso_simple_days": "ar",
    "dso_paid_days": "collected",
    "turnaround_median_hours": "billed",
    "turnaround_p90_hours": "billed",
    "review_wait_median_hours": "billed",
    "issue_wait_median_hours": "billed",
    "collection_rate_30d": "billed",
    "collection_rate_target": "billed",
    "write_off_rate": "written_off",
    "credit_rate": "credited",
    "realization": "billed",
    "billing_minutes_per_invoice": "billing_time",
    "billing_hours": "billing_time",
    "reconciliation_median_hours": "billed",
    "collection_tasks": "ar",
}


def drill_rows(kind: str, period: Period, filters: Filters = ALL) -> QuerySet[Any]:
    """The A/R postings behind a figure, one row per invoice: its number, client, matter, and
    the amount of that kind in the period (for ``ar``: the balance at period end)."""
    postings = metrics.ar_postings(filters)
    if kind == "ar":
        rows = postings.filter(entry_date__lte=period.end)
    else:
        rows = postings.filter(
            metrics.in_category(kind), entry_date__gte=period.start, entry_date__lte=period.end
        )
    sign = 1 if kind in {"billed", "ar"} else -1
    grouped = (
        rows.values(
            "invoice_id",
            "invoice__number",
            "invoice__issue_date",
            "client__name",
            "matter__number",
            "matter__title",
        )
        .annotate(total=Sum("amount_cents") * sign)
        .order_by("-invoice__issue_date", "invoice_id")
    )
    return grouped.exclude(total=0) if kind == "ar" else grouped


def billing_time_rows(period: Period, filters: Filters = ALL) -> QuerySet[Any]:
    """The time entries behind ``billing_hours`` (metrics.billing_time's population)."""
    from caseledger.billing.models import TimeEntry

    return (
        TimeEntry.objects.filter(
            filters.matter_q(),
            activity_code=metrics.billing_activity_code(),
            billable=False,
            work_date__gte=period.start,
            work_date__lte=period.end,
        )
        .values(
            "id",
            "work_date",
            "minutes",
            "narrative",
            "timekeeper__first_name",
            "timekeeper__last_name",
            "matter__number",
            "matter__title",
        )
        .order_by("-work_date", "id")
    )


def subscriptions_of(user: Any) -> QuerySet[ReportSubscription]:
    return ReportSubscription.objects.filter(user=user)


def last_delivery(subscription: ReportSubscription | None) -> ReportDelivery | None:
    if subscription is None:
        return None
    return subscription.deliveries.order_by("-period_end").first()
