"""The scheduled report's words and PDF, from the hand-computed book."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.core.tests.pdf_text import pdf_text
from caseledger.reports import metrics, narrative
from caseledger.reports.metrics import Filters, Period
from caseledger.reports.tests.fixtures import PERIOD, book

pytestmark = pytest.mark.django_db

BASELINE = Period(date(2026, 9, 1), date(2026, 9, 30))


def test_moves_name_the_kpi_the_figures_and_the_direction(users: dict[str, Any]) -> None:
    book(users)
    current = metrics.kpis(PERIOD)
    baseline = metrics.kpis(BASELINE)
    moved, steady = narrative.moves(current, baseline)
    # September billed only C ($500), unpaid at its end: count-back DSO 30 days; the period's
    # A/R of $700 against $1,800 billed in October: 30 + 31 x 700/1,800 = 42.1 days.
    assert current.dso_countback_days == 42.1
    assert baseline.dso_countback_days == 30.0
    assert (
        "DSO (count-back) rose from 30.0 days to 42.1 days (12.1 days, worse than the baseline)."
        in moved
    )
    assert any(s.startswith("Average days to pay: no comparison") for s in steady)


def test_actions_list_the_matters_most_overdue(users: dict[str, Any]) -> None:
    b = book(users)
    lines = narrative.actions(date(2026, 12, 31), "USD")
    # B owes $400 (due Oct 15, 77 days past due); D owes $300 (due Oct 5, 87 days).
    assert lines == [
        f"Call {b.b.client.name} about matter {b.b.matter.number}: $400.00 overdue on 1 "
        "invoice, the oldest 77 days past due.",
        f"Call {b.other_partner.client.name} about matter {b.other_partner.matter.number}: "
        "$300.00 overdue on 1 invoice, the oldest 87 days past due.",
    ]


def test_drivers_name_the_cohort_with_the_most_written_off(users: dict[str, Any]) -> None:
    book(users)
    lines = narrative.drivers(PERIOD, None, Filters(), "USD")
    assert "By client type: Corporate had the most written off, $100.00." in lines


def test_the_pdf_reads_as_the_page(users: dict[str, Any], login: Callable[..., Any]) -> None:
    book(users)
    partner = login(users["PARTNER"])
    response = partner.get(f"/reports/?start={PERIOD.start}&end={PERIOD.end}&format=pdf")
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "KPI REPORT",
        "What moved",
        "Matters to call this week",
        "Billed $1,800.00",
        "Written off $100.00",
        "KPIs against the baseline",
        "Last twelve months",
    ):
        assert expected in text
