"""Every surface shows the same figures: the page, the XLSX, the PDF, the narrative, the API,
the cohorts and the drill-down all read ``metrics.period_figures`` / ``metrics.kpis``."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from caseledger.core.money import format_money
from caseledger.reports import metrics, narrative, selectors
from caseledger.reports.metrics import Period
from caseledger.reports.models import ReportSettings
from caseledger.reports.tests.fixtures import PERIOD, book

pytestmark = pytest.mark.django_db

QUERY = f"?start={PERIOD.start}&end={PERIOD.end}"
BASELINE = Period(date(2026, 9, 1), date(2026, 9, 30))


@pytest.fixture
def partner(users: dict[str, Any], login: Callable[..., Any]) -> Any:
    book(users)
    ReportSettings.objects.create(
        id=1,
        baseline_start=BASELINE.start,
        baseline_end=BASELINE.end,
        target_days=60,
        updated_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return login(users["PARTNER"])


def test_page_xlsx_pdf_api_and_narrative_show_the_same_figures(partner: Any) -> None:
    now = metrics.kpis(PERIOD, target_days=60)
    then = metrics.kpis(BASELINE, target_days=60)
    # The hand-computed book (fixtures.py): the figures are real ones, not all empty.
    assert now.billed_cents == 180_000
    assert now.collection_rate_target == round(100_000 / 180_000, 4)
    assert then.billed_cents == 50_000

    api = partner.get(f"/api/v1/reports/kpis?from={PERIOD.start}&to={PERIOD.end}").json()
    for key in metrics.KPI_KEYS:
        assert api[key]["value"] == getattr(now, key), key
        assert api[key]["baseline"] == getattr(then, key), key
    for key in metrics.MONEY_KEYS:
        assert api[key] == getattr(now, key), key

    page = partner.get("/reports/" + QUERY).content.decode()
    pdf = "".join(
        p.extract_text() or ""
        for p in PdfReader(
            io.BytesIO(partner.get("/reports/" + QUERY + "&format=pdf").content)
        ).pages
    )
    pdf = " ".join(pdf.split())
    sheet = load_workbook(
        io.BytesIO(partner.get("/reports/" + QUERY + "&format=xlsx").content)
    ).active
    xlsx = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    for key, title, unit, _ in selectors.HEADLINE:
        shown = metrics.kpi_display(getattr(now, key), unit)
        assert f'<span class="now">{shown}</span>' in page, key
        assert shown in pdf, key
        assert xlsx[title][2] == getattr(now, key), key
        assert xlsx[title][3] == getattr(then, key), key
    for cents in (now.billed_cents, now.collected_cents, now.written_off_cents, now.ar_cents):
        assert format_money(cents, "USD") in page
        assert format_money(cents, "USD") in pdf

    story = narrative.narrative(current=now, baseline=then, filters=metrics.ALL, currency="USD")
    told = " ".join(story.moves + story.steady)
    for key, _title, unit, _ in selectors.HEADLINE:
        if getattr(now, key) is not None and getattr(then, key) is not None:
            assert metrics.kpi_display(getattr(now, key), unit) in told, key
    for sentence in story.moves:
        assert " ".join(sentence.split()) in pdf


def test_cohorts_and_drill_down_add_up_to_the_period_figures(partner: Any) -> None:
    figures = metrics.period_figures(PERIOD)
    for dimension in metrics.DIMENSIONS:
        rows = metrics.cohorts(dimension, PERIOD)
        assert sum(r.billed_cents for r in rows) == figures.moved.billed_cents, dimension
        assert sum(r.collected_cents for r in rows) == figures.moved.collected_cents
        assert sum(r.written_off_cents for r in rows) == figures.moved.written_off_cents
    for kind, cents in (
        ("billed", figures.moved.billed_cents),
        ("collected", figures.moved.collected_cents),
        ("written_off", figures.moved.written_off_cents),
        ("ar", metrics.ar_balance(PERIOD.end)),
    ):
        drilled = selectors.drill_rows(kind, PERIOD)
        assert sum(int(r["total"]) for r in drilled) == cents, kind


@pytest.mark.parametrize("own", [False, True])
def test_each_kpi_read_alone_equals_the_full_set(partner: Any, users: dict[str, Any], own: bool):
    """``PeriodKpis`` (the home page's panels, the trend lines) computes a KPI from the parts it
    needs only, with the functions ``kpis`` uses: each KPI read on its own, in a fresh object,
    is the full set's value, and a panel's three KPIs read fewer statements than all of them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    filters = metrics.Filters(attorney_id=users["PARTNER"].pk) if own else metrics.ALL
    for period in (PERIOD, BASELINE):
        full = metrics.kpis(period, filters, target_days=60)
        for key in metrics.KPI_KEYS + metrics.MONEY_KEYS:
            alone = metrics.PeriodKpis(period, filters, target_days=60)
            assert getattr(alone, key) == getattr(full, key), (period, key)
    with CaptureQueriesContext(connection) as every:
        metrics.kpis(PERIOD, filters, target_days=60)
    lazy = metrics.PeriodKpis(PERIOD, filters, target_days=60)
    with CaptureQueriesContext(connection) as three:
        for key in ("dso_paid_days", "collection_rate_30d", "realization"):
            getattr(lazy, key)
            getattr(lazy, key)  # read again: no statement
    assert 0 < len(three.captured_queries) < len(every.captured_queries)


def test_staff_time_on_billing_reads_the_time_entries_alone(partner: Any) -> None:
    """The billing and operations panels show staff time on billing: it reads the time entries
    (and the invoices issued, per invoice), not the reconciliations or collections tasks the
    operations dashboard shows beside it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lazy = metrics.PeriodKpis(PERIOD, metrics.ALL, target_days=60)
    with CaptureQueriesContext(connection) as ctx:
        hours, per_invoice = lazy.billing_hours, lazy.billing_minutes_per_invoice
    sqls = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "billing_timeentry" in sqls
    assert "banking_reconciliation" not in sqls
    assert "collections_collectionactivity" not in sqls
    full = metrics.kpis(PERIOD, metrics.ALL, target_days=60)
    assert (hours, per_invoice) == (full.billing_hours, full.billing_minutes_per_invoice)
