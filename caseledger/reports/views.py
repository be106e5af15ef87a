"""Report pages: the dashboard (KPIs against the baseline, trends, ROI), the rows behind each
figure, exports and the report settings. The read-only pages and their exports read from the
replica when one is configured (``@reads_from_replica``, core.replica)."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from caseledger.billing.services.common import firm_currency
from caseledger.core import clock
from caseledger.core.actions import staff
from caseledger.core.forms import handle_form
from caseledger.core.permissions import authorize, capability_required
from caseledger.core.replica import reads_from_replica
from caseledger.reports import charts, exports, metrics, narrative, pdf, selectors, services
from caseledger.reports.forms import FilterForm, SettingsForm, SubscriptionForm
from caseledger.reports.models import Cadence

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _cash_panel(period: metrics.Period, filters: metrics.Filters) -> dict[str, Any]:
    months = metrics.collections_by_month(period.end, selectors.TREND_MONTHS, filters)
    methods = [key for key in metrics.CASH_METHOD_LABELS if any(key in m.by_method for m in months)]
    position = metrics.cash_position(period.end, filters)
    return {
        "months": months,
        "methods": [(key, metrics.CASH_METHOD_LABELS[key]) for key in methods],
        "rows": [(m, [m.by_method.get(key, 0) for key in methods]) for m in months],
        "chart": charts.bar_chart(
            [(m.month.strftime("%b %y"), m.total_cents / 100) for m in months],
            title="Collected by month",
            description="Amount collected each month; the table beside the chart splits each "
            "month by how it was paid.",
        ),
        "position": position,
        "wip_chart": charts.bar_chart(
            [(label, cents / 100) for label, cents in position.wip],
            title="Unbilled work by age",
            description="Unbilled billable time and expenses by the age of the work; the table "
            "beside the chart gives each amount.",
        ),
        "formulas": [metrics.FORMULAS["collections_by_method"], metrics.FORMULAS["cash_position"]],
    }


def _board(request: HttpRequest, key: str) -> HttpResponse:
    board_spec = selectors.BOARDS[key]
    form = FilterForm(request.GET or None)
    period, filters = form.period(), form.filters()
    if board_spec.own_matters:
        filters = replace(filters, attorney_id=request.user.pk)
    board = selectors.dashboard(period, filters, board_spec.kpis)
    currency = firm_currency()
    fmt = request.GET.get("format")
    stem = f"kpis-{key}-{period.start}-{period.end}"
    if fmt == "csv":
        return _file(
            exports.as_csv(exports.KPI_HEADER, exports.kpi_rows(board)), f"{stem}.csv", "text/csv"
        )
    if fmt == "xlsx":
        return _file(
            exports.as_xlsx("KPIs", exports.KPI_HEADER, exports.kpi_rows(board)),
            f"{stem}.xlsx",
            XLSX,
        )
    if fmt == "pdf":
        story = narrative.narrative(
            current=board.current, baseline=board.baseline, filters=filters, currency=currency
        )
        return _file(
            pdf.report_pdf(
                board,
                story,
                currency=currency,
                title="KPI report" if key == "partner" else f"KPI report: {board_spec.title}",
            ),
            f"{stem}.pdf",
            "application/pdf",
        )
    cards = [
        {
            "figure": f,
            "current": metrics.kpi_display(f.current, f.unit),
            "baseline": metrics.kpi_display(f.baseline, f.unit),
            "chart": charts.line_chart(
                [(m.strftime("%b %Y"), v) for m, v in f.trend],
                title=f"{f.title}, last {len(f.trend)} months",
                description=(
                    f"{f.title} month by month; the table below the chart gives each value."
                ),
                fmt=partial(metrics.kpi_display, unit=f.unit),
            ),
            "rows": [(m, metrics.kpi_display(v, f.unit)) for m, v in f.trend],
            "drill": selectors.KPI_DRILL[f.key],
        }
        for f in board.figures
    ]
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "board": board,
            "spec": board_spec,
            "boards": [
                b for b in selectors.BOARDS.values() if authorize(request.user, b.capability)
            ],
            "cards": cards,
            "cash": _cash_panel(period, filters) if board_spec.cash else None,
            "drills": not board_spec.own_matters and authorize(request.user, "reports.view"),
            "query": request.GET.urlencode(),
            "currency": currency,
        },
    )


@capability_required("reports.view")
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    return _board(request, "partner")


@capability_required("reports.billing")
@reads_from_replica
def billing_board(request: HttpRequest) -> HttpResponse:
    return _board(request, "billing")


@capability_required("reports.operations")
@reads_from_replica
def operations_board(request: HttpRequest) -> HttpResponse:
    return _board(request, "operations")


@capability_required("reports.attorney")
@reads_from_replica
def attorney_board(request: HttpRequest) -> HttpResponse:
    return _board(request, "attorney")


@capability_required("reports.view")
@reads_from_replica
def drill(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in selectors.DRILLS:
        return redirect("reports:dashboard")
    form = FilterForm(request.GET or None)
    period, filters = form.period(), form.filters()
    fmt = request.GET.get("format")
    stem = f"{kind}-{period.start}-{period.end}"
    if kind == "billing_time":
        entries = list(selectors.billing_time_rows(period, filters))
        if fmt == "csv":
            table = exports.time_table(entries)
            return _file(exports.as_csv(exports.TIME_HEADER, table), f"{stem}.csv", "text/csv")
        if fmt == "xlsx":
            table = exports.time_table(entries)
            return _file(exports.as_xlsx(kind, exports.TIME_HEADER, table), f"{stem}.xlsx", XLSX)
        minutes = sum(int(r["minutes"]) for r in entries)
        return render(
            request,
            "reports/drill_time.html",
            {
                "form": form,
                "title": selectors.DRILLS[kind],
                "period": period,
                "rows": [{**r, "hours": f"{r['minutes'] / 60:.1f}"} for r in entries],
                "hours": f"{minutes / 60:.1f}",
                "query": request.GET.urlencode(),
                "formula": metrics.FORMULAS["billing_hours"],
            },
        )
    rows = list(selectors.drill_rows(kind, period, filters))
    currency = firm_currency()
    if fmt == "csv":
        table = exports.drill_table(rows, currency)
        return _file(exports.as_csv(exports.DRILL_HEADER, table), f"{stem}.csv", "text/csv")
    if fmt == "xlsx":
        table = exports.drill_table(rows, currency)
        return _file(exports.as_xlsx(kind, exports.DRILL_HEADER, table), f"{stem}.xlsx", XLSX)
    return render(
        request,
        "reports/drill.html",
        {
            "form": form,
            "kind": kind,
            "title": selectors.DRILLS[kind],
            "period": period,
            "rows": rows,
            "total": sum(int(r["total"] or 0) for r in rows),
            # Operations staff read the figures but do not open invoices.
            "open_invoices": authorize(request.user, "billing.view"),
            "query": request.GET.urlencode(),
            "formulas": metrics.FORMULAS,
        },
    )


@capability_required("reports.view")
@reads_from_replica
def cohorts(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    period, filters = form.period(), form.filters()
    dimension = request.GET.get("by", "client_type")
    if dimension not in metrics.DIMENSIONS:
        dimension = "client_type"
    rows = metrics.cohorts(dimension, period, filters)
    fmt = request.GET.get("format")
    currency = firm_currency()
    if fmt in {"csv", "xlsx"}:
        table = exports.cohort_table(rows, currency)
        stem = f"cohorts-by-{dimension}-{period.start}-{period.end}"
        if fmt == "csv":
            return _file(exports.as_csv(exports.COHORT_HEADER, table), f"{stem}.csv", "text/csv")
        return _file(exports.as_xlsx("Cohorts", exports.COHORT_HEADER, table), f"{stem}.xlsx", XLSX)
    label = metrics.DIMENSIONS[dimension][0]
    collection = metrics.collection_cohorts(period.end, 12, filters)
    return render(
        request,
        "reports/cohorts.html",
        {
            "form": form,
            "period": period,
            "dimension": dimension,
            "dimensions": [(key, spec[0]) for key, spec in metrics.DIMENSIONS.items()],
            "label": label,
            "rows": rows,
            "chart": charts.bar_chart(
                [(r.label, r.billed_cents / 100) for r in rows[:8]],
                title=f"Billed by {label.lower()}",
                description=f"Amount billed in the period by {label.lower()}; the table below "
                "gives every figure.",
            ),
            "collection": collection,
            "offsets": list(range(len(collection))),
            "query": request.GET.urlencode(),
        },
    )


@capability_required("reports.settings")
def settings_edit(request: HttpRequest) -> HttpResponse:
    current = selectors.settings_get()
    form = SettingsForm(
        request.POST or None,
        initial={
            "baseline_start": current.baseline_start,
            "baseline_end": current.baseline_end,
            "target_days": current.target_days,
            "staff_cost": f"{current.staff_cost_cents_per_hour / 100:.2f}",
            "billing_activity_code": current.billing_activity_code,
        },
    )
    saved = handle_form(
        request,
        form,
        lambda data: services.report_settings_update(
            actor=staff(request),
            baseline_start=data.get("baseline_start"),
            baseline_end=data.get("baseline_end"),
            target_days=data["target_days"],
            staff_cost_cents_per_hour=data["staff_cost"],
            billing_activity_code=data["billing_activity_code"],
            now=clock.now(),
        ),
    )
    if saved is not None:
        from django.contrib import messages

        messages.success(request, "Report settings saved.")
        return redirect(reverse("reports:dashboard"))
    return render(request, "reports/settings.html", {"form": form})


@capability_required("reports.view")
def subscriptions(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own scheduled reports: subscribe or stop, per cadence."""
    form = SubscriptionForm(request.POST or None)
    done = handle_form(
        request,
        form,
        lambda data: services.subscription_set(
            actor=staff(request), cadence=data["cadence"], active=data["active"], now=clock.now()
        ),
    )
    if done is not None:
        from django.contrib import messages

        state = "on" if done.active else "off"
        messages.success(request, f"{done.get_cadence_display().split(' ')[0]} report: {state}.")
        return redirect(reverse("reports:subscriptions"))
    mine = {s.cadence: s for s in selectors.subscriptions_of(request.user)}
    rows = [
        {
            "cadence": value,
            "label": label,
            "active": bool(mine.get(value) and mine[value].active),
            "last": selectors.last_delivery(mine.get(value)),
        }
        for value, label in Cadence.choices
    ]
    return render(
        request,
        "reports/subscriptions.html",
        {"rows": rows, "form": form, "email": staff(request).email},
    )
