"""The letterhead and building blocks of the client documents other than the invoice: trust
receipts and statements, credit notes, reminder letters (ReportLab platypus).

The invoice (``billing.pdf``) is drawn on the canvas for speed; these documents are few and
carry free text (names, matter titles, descriptions, reasons), so they are laid out with
platypus: every text cell is a ``Paragraph`` that wraps inside its column and a table that runs
past the page continues on the next one with its header repeated. Nothing is ever cut or
ellipsised. Same palette, fonts and margins as the invoice, so a client's papers look like one
firm's.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from caseledger.billing.pdf import (  # noqa: F401 - pdf_date and long_date re-exported
    BAND,
    BOLD,
    BRAND,
    FONT,
    INK,
    MARGIN,
    MUTED,
    RULE,
    long_date,
    pdf_date,
)

PAGE_W, PAGE_H = LETTER
WIDTH = PAGE_W - 2 * MARGIN  # the text column: 504 points
WHITE = HexColor("#ffffff")


def _style(name: str, parent: ParagraphStyle | None = None, **kwargs: Any) -> ParagraphStyle:
    if parent is not None:
        return ParagraphStyle(name, parent=parent, **kwargs)
    base = {"fontName": FONT, "fontSize": 9, "leading": 11.5, "textColor": INK}
    return ParagraphStyle(name, **{**base, **kwargs})


BODY = _style("body")
BODY_LARGE = _style("body-large", fontSize=10, leading=14)
SMALL = _style("small", fontSize=8, leading=10, textColor=MUTED)
STRONG = _style("strong", fontName=BOLD, fontSize=10, leading=12.5)
LABEL = _style("label", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=MUTED)
FIRM = _style("firm", fontName=BOLD, fontSize=16, leading=19, textColor=BRAND)
TITLE = _style("title", fontName=BOLD, fontSize=18, leading=22, alignment=TA_RIGHT)
HEADING = _style("heading", fontName=BOLD, fontSize=11, leading=14, spaceBefore=4)
CELL = _style("cell", fontSize=8.5, leading=10.5)
CELL_RIGHT = _style("cell-right", fontSize=8.5, leading=10.5, alignment=TA_RIGHT)
HEAD = _style("head", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=MUTED)
HEAD_RIGHT = _style("head-right", parent=HEAD, alignment=TA_RIGHT)
FACT_LABEL = _style("fact-label", fontSize=8.5, leading=11, textColor=MUTED, alignment=TA_RIGHT)
FACT_LABEL_LEFT = _style("fact-label-left", fontSize=9, leading=11.5, textColor=MUTED)
FACT_VALUE = _style("fact-value", fontSize=8.5, leading=11, alignment=TA_RIGHT)
TOTAL = _style("total", fontName=BOLD, fontSize=10.5, leading=13, textColor=WHITE)
TOTAL_RIGHT = _style("total-right", parent=TOTAL, alignment=TA_RIGHT)


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """``text`` as a wrapping paragraph: markup-escaped, line breaks kept."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


@dataclass(frozen=True)
class Firm:
    name: str
    address: str
    phone: str
    email: str

    @classmethod
    def current(cls) -> Firm:
        """The firm's letterhead as set in the firm settings."""
        from caseledger.core.selectors import firm_get

        firm = firm_get()
        return cls(name=firm.name, address=firm.address, phone=firm.phone, email=firm.email)


def letterhead(firm: Firm, title: str, facts: Sequence[tuple[str, str]]) -> list[Flowable]:
    """The firm's name and address on the left, the document title and its facts (number,
    dates) on the right, then a rule."""
    left: list[Flowable] = [para(firm.name, FIRM), Spacer(1, 3)]
    for text in [*firm.address.splitlines(), firm.phone, firm.email]:
        if text.strip():
            left.append(para(text.strip(), SMALL))
    fact_rows = [[para(label, FACT_LABEL), para(value, FACT_VALUE)] for label, value in facts]
    right: list[Flowable] = [para(title, TITLE), Spacer(1, 6)]
    if fact_rows:
        right.append(
            Table(
                fact_rows,
                colWidths=[88, 132],
                hAlign="RIGHT",
                style=TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                        ("RIGHTPADDING", (0, 0), (0, -1), 8),
                        ("TOPPADDING", (0, 0), (-1, -1), 1),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                    ]
                ),
            )
        )
    head = Table(
        [[left, right]],
        colWidths=[WIDTH - 230, 230],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, -1), 0.75, RULE),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 12),
            ]
        ),
    )
    return [head, Spacer(1, 16)]


def blocks(columns: Sequence[tuple[str, Sequence[Paragraph]]]) -> Table:
    """Side-by-side labelled blocks ("BILL TO" / "MATTER"), each wrapping in its column."""
    cells = [[para(label.upper(), LABEL), Spacer(1, 3), *content] for label, content in columns]
    width = WIDTH / len(cells)
    return Table(
        [cells],
        colWidths=[width] * len(cells),
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 14),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 14),
            ]
        ),
    )


def details(rows: Sequence[tuple[str, str]], label_width: float = 150) -> Table:
    """A two-column list of label and value; long values wrap under themselves."""
    return Table(
        [[para(label, FACT_LABEL_LEFT), para(value, BODY)] for label, value in rows],
        colWidths=[label_width, WIDTH - label_width],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, BAND),
            ]
        ),
    )


def lines_table(
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    right: Sequence[int] = (),
) -> Table:
    """A table of document lines: a banded header repeated on every page, every cell a
    wrapping paragraph, columns listed in ``right`` aligned right (amounts)."""

    def cell(i: int, text: str, header: bool) -> Paragraph:
        if header:
            return para(text.upper(), HEAD_RIGHT if i in right else HEAD)
        return para(text, CELL_RIGHT if i in right else CELL)

    data = [[cell(i, t, True) for i, t in enumerate(head)]]
    data += [[cell(i, t, False) for i, t in enumerate(row)] for row in rows]
    scale = WIDTH / sum(widths)
    return Table(
        data,
        colWidths=[w * scale for w in widths],
        repeatRows=1,
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), BAND),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 5),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("LINEBELOW", (0, 1), (-1, -1), 0.5, BAND),
            ]
        ),
    )


def totals(rows: Sequence[tuple[str, str]], grand: tuple[str, str] | None = None) -> Table:
    """Right-aligned subtotal rows and, if given, the grand total on the brand band."""
    data = [[para(label, FACT_LABEL), para(value, FACT_VALUE)] for label, value in rows]
    style: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if grand is not None:
        data.append([para(grand[0], TOTAL_RIGHT), para(grand[1], TOTAL_RIGHT)])
        style += [
            ("BACKGROUND", (0, len(data) - 1), (-1, len(data) - 1), BRAND),
            ("TOPPADDING", (0, len(data) - 1), (-1, len(data) - 1), 6),
            ("BOTTOMPADDING", (0, len(data) - 1), (-1, len(data) - 1), 6),
        ]
    if rows:
        style.append(("LINEABOVE", (0, 0), (-1, 0), 0.75, RULE))
    return Table(data, colWidths=[190, 110], hAlign="RIGHT", style=TableStyle(style))


def section(title: str, *flowables: Flowable) -> KeepTogether:
    """A heading kept on the page of what follows it."""
    return KeepTogether([para(title, HEADING), Spacer(1, 4), *flowables])


def render(
    *, firm: Firm, title: str, subject: str, story: list[Flowable], footer: str = ""
) -> bytes:
    """The story on Letter pages with the brand band on top and, on every page, a footer with
    the firm, the document title and the page number. Deterministic for the same input."""
    buffer = io.BytesIO()

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(BRAND)
        canvas.rect(0, PAGE_H - 8, PAGE_W, 8, stroke=0, fill=1)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN - 22, f"{firm.name} · {title}"[:120])
        canvas.drawRightString(
            PAGE_W - MARGIN, MARGIN - 22, _("Page %(page)s") % {"page": doc.page}
        )
        if footer:
            canvas.drawString(MARGIN, MARGIN - 12, footer[:150])
        canvas.restoreState()

    # The page frame pads its content by 6 points: margins 6 points smaller put the text
    # column exactly at MARGIN, as on the invoice.
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN - 6,
        rightMargin=MARGIN - 6,
        topMargin=MARGIN - 6,
        bottomMargin=MARGIN,
        title=title,
        author=firm.name,
        subject=subject,
        invariant=1,
    )
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
