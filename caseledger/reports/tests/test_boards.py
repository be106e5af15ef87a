"""Time spent on billing, the cash panel and the per-role dashboards, against the hand-computed
book in fixtures.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.billing.services import time_entry_create
from caseledger.collections.services.records import activity_record
from caseledger.reports import metrics
from caseledger.reports.metrics import Filters, Period
from caseledger.reports.tests.fixtures import LATER, PERIOD, book

pytestmark = pytest.mark.django_db


def _time(
    users: dict[str, Any], matter: Any, day: date, hours: str, code: str, billable: bool
) -> Any:
    from caseledger.billing.models import HourlyRate
    from caseledger.billing.services import hourly_rate_set

    if not HourlyRate.objects.filter(timekeeper=users["BILLING"]).exists():
        hourly_rate_set(timekeeper=users["BILLING"], rate="120.00", actor=users["ADMIN"], now=LATER)
    return time_entry_create(
        timekeeper=users["BILLING"],
        matter=matter,
        work_date=day,
        hours=hours,
        activity_code=code,
        narrative="Prepare and send the invoice; chase the remittance",
        billable=billable,
        actor=users["PARTNER"],
        now=LATER,
    )


def test_billing_time_counts_only_non_billable_billing_administration(
    users: dict[str, Any],
) -> None:
    """In the period: 1.5 h of non-billable A111 (counted), 1.0 h billable A111 and 2.0 h
    non-billable A103 (neither counted), 0.5 h non-billable A111 in September (outside).
    Three invoices issued in the period (A, B, D): 90 minutes / 3 = 30 minutes per invoice.
    One collections note in October, one in December (outside)."""
    b = book(users)
    m = b.a.matter
    _time(users, m, date(2026, 10, 10), "1.5", "A111", False)
    _time(users, m, date(2026, 10, 11), "1.0", "A111", True)
    _time(users, m, date(2026, 10, 12), "2.0", "A103", False)
    _time(users, m, date(2026, 9, 12), "0.5", "A111", False)
    activity_record(invoice=b.a, kind="NOTE", actor=users["PARTNER"], now=LATER, note="called")
    k = metrics.kpis(PERIOD)
    assert k.billing_hours == 1.5
    assert k.invoices_issued == 3
    assert k.billing_minutes_per_invoice == 30.0
    december = metrics.kpis(Period(date(2026, 12, 1), date(2026, 12, 31)))
    assert december.collection_tasks == 1
    assert k.collection_tasks == 0
    assert k.reconciliation_median_hours is None  # none signed
    other = Filters(partner_id=b.other_partner.matter.responsible_partner_id)
    assert metrics.kpis(PERIOD, other).billing_hours == 0.0
    # The firm codes its billing time A103 instead (report settings): those 2.0 h count.
    from caseledger.reports.services import report_settings_update

    report_settings_update(
        actor=users["PARTNER"],
        baseline_start=None,
        baseline_end=None,
        target_days=45,
        staff_cost_cents_per_hour=6_500,
        billing_activity_code="A103",
        now=LATER,
    )
    assert metrics.kpis(PERIOD).billing_hours == 2.0


def test_billing_activity_code_must_be_a_utbms_activity(users: dict[str, Any]) -> None:
    from caseledger.reports.exceptions import ReportsError
    from caseledger.reports.models import ReportSettings
    from caseledger.reports.services import report_settings_update

    with pytest.raises(ReportsError, match=r"billing_activity_code: must be a UTBMS activity"):
        report_settings_update(
            actor=users["PARTNER"],
            baseline_start=None,
            baseline_end=None,
            target_days=45,
            staff_cost_cents_per_hour=6_500,
            billing_activity_code="L110",
            now=LATER,
        )
    assert not ReportSettings.objects.exists()


def test_collections_by_month_and_method_tie_to_the_collected_figure(
    users: dict[str, Any],
) -> None:
    """October: $600 (A) + $500 (C) by check; November: $400 (A) by check; nothing else."""
    book(users)
    months = metrics.collections_by_month(PERIOD.end, 3)
    assert [m.month for m in months] == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert [m.by_method for m in months] == [{}, {"CHECK": 110_000}, {"CHECK": 40_000}]
    for m in months[1:]:
        end = metrics.month_start(m.month, back=-1).replace(day=1)
        figures = metrics.period_figures(Period(m.month, end.fromordinal(end.toordinal() - 1)))
        assert m.total_cents == figures.moved.collected_cents


def test_cash_position_reads_the_ledger_and_the_unbilled_work(users: dict[str, Any]) -> None:
    """Unbilled billable time: 1.0 h at the partner's rate worked 20 days before period end
    (0-30) and 0.5 h worked 75 days before (61-90); no trust, no unapplied credit."""
    b = book(users)
    young = _time(users, b.a.matter, date(2026, 11, 10), "1.0", "A103", True)
    old = _time(users, b.a.matter, date(2026, 9, 16), "0.5", "A103", True)
    cash = metrics.cash_position(PERIOD.end)
    assert cash.trust_cents == 0
    assert cash.unapplied_cents == 0
    assert dict(cash.wip) == {
        "0-30 days": young.amount_cents,
        "31-60 days": 0,
        "61-90 days": old.amount_cents,
        "over 90 days": 0,
    }


@pytest.mark.parametrize(
    ("role", "path", "title"),
    [
        ("PARTNER", "/reports/", "Partner dashboard"),
        ("BILLING", "/reports/billing/", "Billing dashboard"),
        ("OPERATIONS", "/reports/operations/", "Operations dashboard"),
        ("ATTORNEY", "/reports/attorney/", "Attorney dashboard"),
    ],
)
def test_each_role_opens_its_dashboard(
    users: dict[str, Any], login: Callable[..., Any], role: str, path: str, title: str
) -> None:
    book(users)
    client = login(users[role])
    page = client.get(path + f"?start={PERIOD.start}&end={PERIOD.end}").content.decode()
    assert f"<h1>{title}</h1>" in page
    assert 'aria-current="page"' in page
    if role == "OPERATIONS":
        assert "Collected by month and method" in page
        assert "$1,100.00" in page  # October's checks
    if role == "ATTORNEY":
        assert "/reports/rows/" not in page  # no firm-wide drill-down
    home = client.get("/").content.decode()
    assert f'href="{path}"' in home


@pytest.mark.parametrize(
    ("role", "heading", "path", "kpi"),
    [
        ("PARTNER", "Partner KPIs", "/reports/", "Write-off rate"),
        ("BILLING", "Billing KPIs", "/reports/billing/", "Credit rate"),
        ("OPERATIONS", "Operations KPIs", "/reports/operations/", "Staff time on billing"),
        ("ATTORNEY", "Your matters&#x27; KPIs", "/reports/attorney/", "Realization"),
        ("ADMIN", "Partner KPIs", "/reports/", "Write-off rate"),
        ("PARALEGAL", None, None, None),
    ],
)
def test_home_shows_one_kpi_panel_the_roles_dashboard(
    users: dict[str, Any],
    login: Callable[..., Any],
    role: str,
    heading: str | None,
    path: str | None,
    kpi: str | None,
) -> None:
    """A partner holds all four dashboards, billing three: each person still sees one KPI panel,
    their role's (the administrator: the first they may open), linking to that dashboard."""
    home = login(users[role]).get("/").content.decode()
    headings = ("Partner KPIs", "Billing KPIs", "Operations KPIs", "Your matters&#x27; KPIs")
    if heading is None:
        assert 'data-panel="reports.glance"' not in home
        assert not any(h in home for h in headings)
        return
    assert home.count('data-panel="reports.glance"') == 1
    assert [h for h in headings if f">{h}</h2>" in home] == [heading]
    panel = home.split('data-panel="reports.glance"')[1].split("</section>")[0]
    assert f'href="{path}"' in panel
    assert kpi in panel


def test_office_filter_and_intake_source_cohort(users: dict[str, Any]) -> None:
    """The partner's matter (A, B, C) runs in Boston and its client came by referral; the other
    partner's (D) has neither set: Boston billed A + B = $1,500, the referral cohort the same,
    the rest $300 under "(not known)"."""
    from caseledger.clients.services import client_update
    from caseledger.matters.services import matter_update

    b = book(users)
    matter_update(matter=b.a.matter, actor=users["PARTNER"], now=LATER, office="Boston")
    client_update(
        client=b.a.matter.client, actor=users["PARTNER"], now=LATER, intake_source="REFERRAL"
    )
    assert metrics.period_figures(PERIOD, Filters(office="Boston")).moved.billed_cents == 150_000
    assert metrics.kpis(PERIOD, Filters(office="Lyon")).billed_cents == 0
    rows = {r.label: r.billed_cents for r in metrics.cohorts("intake_source", PERIOD)}
    assert rows == {"Referral": 150_000, "(not known)": 30_000}
    offices = {r.label: r.billed_cents for r in metrics.cohorts("office", PERIOD)}
    assert offices == {"Boston": 150_000, "(main office)": 30_000}


def test_the_office_filter_reaches_the_pages_and_the_api(
    users: dict[str, Any], login: Callable[..., Any]
) -> None:
    from caseledger.matters.services import matter_update

    b = book(users)
    matter_update(matter=b.a.matter, actor=users["PARTNER"], now=LATER, office="Boston")
    client = login(users["PARTNER"])
    query = f"?start={PERIOD.start}&end={PERIOD.end}&office=Boston"
    assert '<option value="Boston">Boston</option>' in client.get("/reports/").content.decode()
    assert "$1,500.00" in client.get("/reports/" + query).content.decode()
    body = client.get(f"/api/v1/reports/kpis?from={PERIOD.start}&to={PERIOD.end}&office=Boston")
    assert body.json()["billed_cents"] == 150_000


def test_billing_time_drills_to_its_time_entries(
    users: dict[str, Any], login: Callable[..., Any]
) -> None:
    import io

    from openpyxl import load_workbook

    b = book(users)
    _time(users, b.a.matter, date(2026, 10, 10), "1.5", "A111", False)
    _time(users, b.a.matter, date(2026, 10, 12), "2.0", "A103", False)
    client = login(users["PARTNER"])
    query = f"?start={PERIOD.start}&end={PERIOD.end}"
    board = client.get("/reports/billing/" + query).content.decode()
    assert 'href="/reports/rows/billing_time/' in board
    page = client.get("/reports/rows/billing_time/" + query).content.decode()
    assert "1 time entry, 1.5 hours in total" in page
    xlsx = client.get("/reports/rows/billing_time/" + query + "&format=xlsx").content
    rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert rows[0] == ("Date", "Staff", "Matter", "Work", "Hours")
    assert [r[4] for r in rows[1:]] == [1.5]


def test_collection_trend_leaves_a_month_still_being_collected_blank(users: dict[str, Any]) -> None:
    """October's invoices (A Oct 1, D Oct 5, B Oct 15) had their 30 days by Nov 30 but not by
    Nov 15: the 30-day collection trend shows October as of Nov 30 ($600 of $1,800 within 30
    days) and leaves it blank as of Nov 15, while the other trends keep their October point."""
    from caseledger.reports.selectors import dashboard

    book(users)
    october = metrics.kpis(Period(date(2026, 10, 1), date(2026, 10, 31)))
    assert october.collection_rate_30d == round(60_000 / 180_000, 4)

    def points(end: date) -> dict[str, dict[date, Any]]:
        board = dashboard(Period(date(2026, 10, 1), end))
        return {f.key: dict(f.trend) for f in board.figures}

    closed = points(date(2026, 11, 30))
    assert closed["collection_rate_30d"][date(2026, 10, 1)] == october.collection_rate_30d
    still_open = points(date(2026, 11, 15))
    assert still_open["collection_rate_30d"][date(2026, 10, 1)] is None
    assert still_open["dso_paid_days"][date(2026, 10, 1)] == october.dso_paid_days


def test_cash_and_cohort_statements_read_only_the_range_and_join_the_payment(
    users: dict[str, Any],
) -> None:
    """The cash panel, filtered, joins each receipt to its payment (no subquery per posting)
    and, like the cohorts by attorney, bounds the entries by the same dates as their postings,
    so only the range's entries are read; unfiltered it is one statement on the cash summary
    and the cohorts read the cohort summary. The figures are the hand-computed ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    book(users)
    with CaptureQueriesContext(connection) as firm:
        assert metrics.collections_by_month(PERIOD.end, 3)[1].by_method == {"CHECK": 110_000}
    (firm_sql,) = [q["sql"] for q in firm.captured_queries]
    assert "reports_kpicashday" in firm_sql
    assert "ledger_posting" not in firm_sql
    with CaptureQueriesContext(connection) as cash:
        months = metrics.collections_by_month(
            PERIOD.end, 3, Filters(partner_id=users["PARTNER"].pk)
        )
    with CaptureQueriesContext(connection) as cohorts:
        rows = metrics.cohorts("client_type", PERIOD)
    with CaptureQueriesContext(connection) as by_attorney:
        metrics.cohorts("client_type", PERIOD, Filters(attorney_id=users["ATTORNEY"].pk))
    assert [m.by_method for m in months] == [{}, {"CHECK": 110_000}, {"CHECK": 40_000}]
    assert sum(r.collected_cents for r in rows) == 150_000
    assert not [q for q in cohorts.captured_queries if "ledger_posting" in q["sql"]]
    (cash_sql,) = [q["sql"] for q in cash.captured_queries if "ledger_posting" in q["sql"]]
    (cohort_sql,) = [q["sql"] for q in by_attorney.captured_queries if "ledger_posting" in q["sql"]]
    assert 'JOIN "payments_payment"' in cash_sql
    assert "SELECT U0" not in cash_sql
    for sql in (cash_sql, cohort_sql):
        assert '"ledger_journalentry"."entry_date" >=' in sql
        assert '"ledger_journalentry"."entry_date" <=' in sql
