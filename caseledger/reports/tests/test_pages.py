"""The report pages, exports, settings and API, through the client as a partner would."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from caseledger.core.models import AuditEvent
from caseledger.reports.models import ReportSettings
from caseledger.reports.tests.fixtures import PERIOD, book

pytestmark = pytest.mark.django_db

QUERY = f"?start={PERIOD.start}&end={PERIOD.end}"


@pytest.fixture
def partner(users: dict[str, Any], login: Callable[..., Any]) -> Any:
    book(users)
    return login(users["PARTNER"])


def test_dashboard_shows_each_kpi_with_its_formula_and_an_accessible_chart(partner: Any) -> None:
    page = partner.get("/reports/" + QUERY).content.decode()
    for title in ("DSO (count-back)", "Average days to pay", "Collected within 30 days"):
        assert title in page
    assert "A/R at period end / amount billed" not in page  # simple DSO is API-only
    assert "amount-weighted mean" in page
    assert page.count('role="img"') == 9
    assert "<title id=" in page
    assert "<desc id=" in page
    assert "$1,800.00" in page  # billed in the period, every partner
    assert "No baseline period is set" in page


def test_every_figure_drills_to_its_invoices(partner: Any, users: dict[str, Any]) -> None:
    page = partner.get("/reports/rows/written_off/" + QUERY).content.decode()
    assert "$100.00" in page
    billed = partner.get("/reports/rows/billed/" + QUERY).content.decode()
    assert "3 invoices" in billed
    assert "$1,800.00" in billed


def test_exports_are_real_files(partner: Any) -> None:
    xlsx = partner.get("/reports/" + QUERY + "&format=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("KPI", "Unit", "Current")
    assert ("Write-off rate", "share") == rows[6][:2]
    csv = partner.get("/reports/rows/collected/" + QUERY + "&format=csv").content.decode(
        "utf-8-sig"
    )
    assert csv.splitlines()[0] == "Invoice,Issued,Client,Matter,Amount"
    assert sum(float(line.rsplit(",", 1)[1]) for line in csv.splitlines()[1:]) == 1500.0


def test_settings_refuse_a_backwards_baseline_under_its_field(partner: Any) -> None:
    response = partner.post(
        "/reports/settings/",
        {
            "baseline_start": "2026-06-30",
            "baseline_end": "2026-01-01",
            "target_days": "45",
            "staff_cost": "65.00",
            "billing_activity_code": "A111",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_baseline_end-errors"' in page
    assert "must not be before baseline_start (2026-06-30)." in page
    assert not ReportSettings.objects.filter(baseline_start__isnull=False).exists()


def test_settings_saved_and_audited_then_the_baseline_shows(partner: Any) -> None:
    response = partner.post(
        "/reports/settings/",
        {
            "baseline_start": "2026-01-01",
            "baseline_end": "2026-06-30",
            "target_days": "30",
            "staff_cost": "80.00",
            "billing_activity_code": "A106",
        },
    )
    assert response.status_code == 302
    row = ReportSettings.objects.get(id=1)
    assert (
        row.baseline_start,
        row.target_days,
        row.staff_cost_cents_per_hour,
        row.billing_activity_code,
    ) == (date(2026, 1, 1), 30, 8_000, "A106")
    event = AuditEvent.objects.get(action="reports.settings_saved")
    assert event.after["target_days"] == 30
    assert event.after["billing_activity_code"] == "A106"
    page = partner.get("/reports/" + QUERY).content.decode()
    assert "Baseline <strong>Jan 1, 2026 to Jun 30, 2026</strong>" in page


def test_settings_refuse_an_activity_code_that_is_not_utbms(partner: Any) -> None:
    response = partner.post(
        "/reports/settings/",
        {"target_days": "45", "staff_cost": "65.00", "billing_activity_code": "A999"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_billing_activity_code-errors"' in page
    assert "Select a valid choice. A999 is not one of the available choices." in page
    assert not ReportSettings.objects.exists()


def test_filters_refuse_a_backwards_period_and_fall_back(partner: Any) -> None:
    page = partner.get("/reports/?start=2026-11-30&end=2026-10-01").content.decode()
    assert "to: must not be before from." in page
    year_one = partner.get("/reports/?start=0001-01-01")
    assert year_one.status_code == 200
    assert "start: must be between 1990-01-01 and 2100-12-31." in year_one.content.decode()


def test_api_serves_every_kpi_with_its_baseline(partner: Any) -> None:
    ReportSettings.objects.update_or_create(
        id=1,
        defaults={
            "baseline_start": date(2026, 10, 1),
            "baseline_end": date(2026, 10, 31),
            "updated_at": "2026-12-01T00:00:00Z",
        },
    )
    body = partner.get(f"/api/v1/reports/kpis?from={PERIOD.start}&to={PERIOD.end}").json()
    for key in (
        "dso_countback_days",
        "dso_paid_days",
        "turnaround_median_hours",
        "turnaround_p90_hours",
        "collection_rate_30d",
        "write_off_rate",
        "credit_rate",
        "realization",
    ):
        assert set(body[key]) == {"value", "baseline", "formula"}
    assert body["billed_cents"] == 180_000
    assert body["write_off_rate"]["value"] == round(10_000 / 180_000, 4)
    assert body["baseline_period"] == {"start": "2026-10-01", "end": "2026-10-31"}


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("from=2026-12-01&to=2026-11-01", 409, "to: must not be before from."),
        ("from=0001-01-01", 422, "from: Input should be greater than or equal to 1990-01-01"),
        ("client_type=ROYAL", 422, "client_type: "),
    ],
)
def test_api_refuses_a_bad_period_naming_the_field(
    partner: Any, query: str, status: int, message: str
) -> None:
    response = partner.get(f"/api/v1/reports/kpis?{query}")
    assert response.status_code == status, response.content
    assert response.json()["error"]["message"].startswith(message)


def test_cohort_page_and_export(partner: Any) -> None:
    page = partner.get("/reports/cohorts/" + QUERY + "&by=partner").content.decode()
    assert "By responsible partner" in page
    assert "How each month's billing was collected" in page
    assert 'class="chart bars"' in page
    xlsx = partner.get("/reports/cohorts/" + QUERY + "&by=client_type&format=xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Cohort"
    assert rows[1][0] == "Corporate"
    assert float(rows[1][1]) == 1800.0
