"""The reports as files: CSV and XLSX (openpyxl, streamed write-only) of the KPI table and of
the rows behind a figure. Amounts are written as numbers in the firm's currency units, dates
as dates, so a spreadsheet can sum them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from caseledger.core.money import currency_exponent
from caseledger.reports.metrics import CohortRow
from caseledger.reports.selectors import Dashboard

KPI_HEADER = ["KPI", "Unit", "Current", "Baseline", "Change", "Formula"]
DRILL_HEADER = ["Invoice", "Issued", "Client", "Matter", "Amount"]
TIME_HEADER = ["Date", "Staff", "Matter", "Work", "Hours"]
COHORT_HEADER = [
    "Cohort",
    "Billed",
    "Collected",
    "Credited",
    "Written off",
    "Write-off rate",
    "Average days to pay",
]


def _units(cents: int, currency: str) -> Decimal:
    return Decimal(cents) / (10 ** currency_exponent(currency))


def kpi_rows(board: Dashboard) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for f in board.figures:
        rows.append([f.title, f.unit, f.current, f.baseline, f.change, f.formula])
    return rows


def drill_table(rows: Iterable[dict[str, Any]], currency: str) -> list[list[Any]]:
    return [
        [
            r["invoice__number"] or "",
            r["invoice__issue_date"],
            r["client__name"] or "",
            " ".join(x for x in (r["matter__number"], r["matter__title"]) if x),
            _units(int(r["total"] or 0), currency),
        ]
        for r in rows
    ]


def time_table(rows: Iterable[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["work_date"],
            " ".join(x for x in (r["timekeeper__first_name"], r["timekeeper__last_name"]) if x),
            " ".join(x for x in (r["matter__number"], r["matter__title"]) if x),
            r["narrative"],
            Decimal(r["minutes"]) / 60,
        ]
        for r in rows
    ]


def _safe(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


def as_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_safe(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cohort_table(rows: Iterable[CohortRow], currency: str) -> list[list[Any]]:
    return [
        [
            r.label,
            _units(r.billed_cents, currency),
            _units(r.collected_cents, currency),
            _units(r.credited_cents, currency),
            _units(r.written_off_cents, currency),
            r.write_off_rate,
            r.dso_paid_days,
        ]
        for r in rows
    ]
