"""The KPI report as a PDF (the page's export and the scheduled report's attachment): the
firm's letterhead, the narrative, the KPI table against the baseline, a trend chart per KPI
drawn with ReportLab's own graphics, and the matters to call."""

from __future__ import annotations

from typing import Any

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from caseledger.billing.pdf import BRAND, FONT, MUTED
from caseledger.billing.pdf_layout import (
    BODY,
    WIDTH,
    Firm,
    letterhead,
    lines_table,
    long_date,
    para,
    render,
    section,
)
from caseledger.core.money import format_money
from caseledger.reports.metrics import kpi_display
from caseledger.reports.narrative import Narrative
from caseledger.reports.selectors import Dashboard, Figure

CHART_W = WIDTH / 2 - 10
CHART_H = 110


def _trend(figure: Figure) -> Drawing:
    drawing = Drawing(CHART_W, CHART_H)
    drawing.add(String(0, CHART_H - 10, figure.title, fontName=FONT, fontSize=8, fillColor=MUTED))
    points = [(i, v) for i, (_, v) in enumerate(figure.trend) if v is not None]
    if len(points) < 2:
        drawing.add(
            String(0, CHART_H / 2, "Not enough months with data.", fontName=FONT, fontSize=8)
        )
        return drawing
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 30, 18, CHART_W - 40, CHART_H - 38
    plot.data = [points]
    plot.lines[0].strokeColor = BRAND
    plot.lines[0].strokeWidth = 1.5
    plot.xValueAxis.valueMin = 0
    plot.xValueAxis.valueMax = len(figure.trend) - 1
    plot.xValueAxis.valueSteps = [0, len(figure.trend) - 1]
    first, last = figure.trend[0][0], figure.trend[-1][0]
    plot.xValueAxis.labelTextFormat = lambda i: (first if i == 0 else last).strftime("%b %Y")
    plot.xValueAxis.labels.fontName = FONT
    plot.xValueAxis.labels.fontSize = 6.5
    plot.yValueAxis.labels.fontName = FONT
    plot.yValueAxis.labels.fontSize = 6.5
    if figure.unit == "share":
        fine = max(v for _, v in points) < 0.1
        plot.yValueAxis.labelTextFormat = lambda v: f"{v * 100:.1f}%" if fine else f"{v * 100:.0f}%"
    drawing.add(plot)
    return drawing


def _charts(figures: list[Figure]) -> Table:
    cells = [_trend(f) for f in figures]
    rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    if len(rows[-1]) == 1:
        rows[-1].append(Spacer(1, 1))
    return Table(
        rows,
        colWidths=[WIDTH / 2] * 2,
        style=TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        ),
    )


def _bullets(lines: list[str], empty: str) -> list[Flowable]:
    if not lines:
        return [para(empty, BODY)]
    return [para(f"• {line}", BODY) for line in lines]


def report_pdf(board: Dashboard, story_of: Narrative, *, currency: str, title: str) -> bytes:
    firm = Firm.current()
    period = board.period
    facts = [("Period", f"{long_date(period.start)} – {long_date(period.end)}")]
    base = board.baseline_period
    if base:
        facts.append(("Baseline", f"{long_date(base.start)} – {long_date(base.end)}"))
    money = board.current
    kpi_rows = [
        [f.title, kpi_display(f.current, f.unit), kpi_display(f.baseline, f.unit), f.formula]
        for f in board.figures
    ]
    totals_rows = [
        ["Billed", format_money(money.billed_cents, currency)],
        ["Collected", format_money(money.collected_cents, currency)],
        ["Credited", format_money(money.credited_cents, currency)],
        ["Written off", format_money(money.written_off_cents, currency)],
        ["A/R at period end", format_money(money.ar_cents, currency)],
    ]
    story: list[Any] = [
        *letterhead(firm, title.upper(), facts),
        section("What moved", *_bullets(story_of.moves, "No KPI moved past its threshold.")),
        Spacer(1, 6),
        section("What drove it", *_bullets(story_of.drivers, "No cohort stood out.")),
        Spacer(1, 6),
        section(
            "Matters to call this week",
            *_bullets(story_of.actions, "Nothing is more than 30 days past due."),
        ),
        Spacer(1, 10),
        section(
            "Money in the period", lines_table(["Figure", "Amount"], totals_rows, [3, 2], right=[1])
        ),
        Spacer(1, 10),
        section(
            "KPIs against the baseline",
            lines_table(
                ["KPI", "Current", "Baseline", "Formula"], kpi_rows, [3, 1.3, 1.3, 5], right=[1, 2]
            ),
        ),
        Spacer(1, 10),
        section("Last twelve months", _charts(board.figures)),
        Spacer(1, 6),
        section("Steady", *_bullets(story_of.steady, "—")),
    ]
    return render(
        firm=firm,
        title=title,
        subject=title,
        story=story,
        footer="Figures from the ledger's accounts receivable.",
    )
