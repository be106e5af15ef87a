"""Reports API: every KPI as JSON, with the same filters as the pages."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Query, Router, Schema

from caseledger.api.types import Day, Id, choice
from caseledger.clients.choices import ClientType
from caseledger.core.exceptions import ApplicationError
from caseledger.core.permissions import require
from caseledger.reports import metrics, selectors
from caseledger.reports.metrics import Filters, Period

router = Router(tags=["reports"])

ClientTypeIn = choice(ClientType)


class KpiOut(Schema):
    value: float | None
    baseline: float | None
    formula: str


class PeriodOut(Schema):
    start: date
    end: date


class KpisOut(Schema):
    period: PeriodOut
    baseline_period: PeriodOut | None
    dso_countback_days: KpiOut
    dso_simple_days: KpiOut
    dso_paid_days: KpiOut
    turnaround_median_hours: KpiOut
    turnaround_p90_hours: KpiOut
    review_wait_median_hours: KpiOut
    issue_wait_median_hours: KpiOut
    collection_rate_30d: KpiOut
    collection_rate_target: KpiOut
    write_off_rate: KpiOut
    credit_rate: KpiOut
    realization: KpiOut
    billing_hours: KpiOut
    billing_minutes_per_invoice: KpiOut
    reconciliation_median_hours: KpiOut
    collection_tasks: KpiOut
    billed_cents: int
    collected_cents: int
    credited_cents: int
    written_off_cents: int
    ar_cents: int
    invoices_issued: int


def _period(start: date | None, end: date | None) -> Period:
    fallback = selectors.default_period()
    period = Period(start or fallback.start, end or fallback.end)
    for name, value in (("from", period.start), ("to", period.end)):
        if not date(1990, 1, 1) <= value <= date(2100, 12, 31):
            raise ApplicationError(
                f"{name}: must be between 1990-01-01 and 2100-12-31.", field=name
            )
    if period.end < period.start:
        raise ApplicationError("to: must not be before from.", field="to")
    return period


@router.get("/kpis", response=KpisOut, summary="Every KPI for a period, with its baseline")
def kpis(
    request: HttpRequest,
    start: Day | None = Query(None, alias="from"),  # noqa: B008
    end: Day | None = Query(None, alias="to"),  # noqa: B008
    partner: Id | None = None,
    client_type: ClientTypeIn | None = None,  # type: ignore[valid-type]
    case_type: Id | None = None,
    office: str | None = Query(None, max_length=60),  # noqa: B008
) -> dict[str, object]:
    """DSO (count-back, simple and average days to pay), invoice turnaround, collection rate,
    write-off and credit rates, realization and the time spent on billing (staff hours coded as
    billing administration, minutes per invoice, reconciliation prepare-to-sign hours, collections
    tasks) for the period (default: the three months up to
    today), each beside the firm's baseline period (null until the firm sets one). Amounts in
    cents; rates as shares between 0 and 1; each KPI carries its formula."""
    require(request.user, "reports.view")
    period = _period(start, end)
    filters = Filters(
        partner_id=partner,
        client_type=client_type or "",
        case_type_id=case_type,
        office=office or "",
    )
    settings = selectors.settings_get()
    current = metrics.kpis(period, filters, target_days=settings.target_days)
    base_period = selectors.baseline_period(settings)
    baseline = (
        metrics.kpis(base_period, filters, target_days=settings.target_days)
        if base_period
        else None
    )
    out: dict[str, object] = {
        "period": {"start": period.start, "end": period.end},
        "baseline_period": (
            {"start": base_period.start, "end": base_period.end} if base_period else None
        ),
    }
    for key in metrics.KPI_KEYS:
        out[key] = {
            "value": getattr(current, key),
            "baseline": getattr(baseline, key) if baseline else None,
            "formula": metrics.FORMULAS[key],
        }
    for key in metrics.MONEY_KEYS:
        out[key] = getattr(current, key)
    return out
