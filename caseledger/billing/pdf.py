"""Invoice PDF with ReportLab's canvas (no platypus: one page renders in a few milliseconds).

``render_invoice_pdf`` takes a plain ``InvoiceDocument`` (built by ``selectors.invoice_document``)
and returns the bytes; it reads nothing from the database, so the issued PDF depends only on the
frozen invoice. Letter size, firm letterhead, bill-to and matter, lines with UTBMS codes, legal
fees and government fees / costs in separate sections, totals, trust available, terms, pay link.
Every free text (firm, names, matter title, descriptions, terms, the link) wraps in its column;
nothing is cut. The payment terms printed are ``calc.payment_terms_label`` of the invoice's own
issue and due dates, so they cannot disagree with the due date.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _
from reportlab import rl_config
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from caseledger.core import i18n

# Compressed page streams stay binary (no ASCII85 wrapping: a third smaller and faster).
rl_config.useA85 = 0

BRAND = HexColor("#1f4e79")
INK = HexColor("#1b2330")
MUTED = HexColor("#718096")
RULE = HexColor("#cbd5e0")
BAND = HexColor("#f1f4f8")

PAGE_W, PAGE_H = LETTER
MARGIN = 54  # 0.75 inch
FONT = "Helvetica"
BOLD = "Helvetica-Bold"


@dataclass(frozen=True)
class PdfLine:
    description: str
    line_date: date | None
    codes: str  # "L120 / A103" or "E123"
    quantity: str  # "1.50" or "1"
    unit_price: str  # formatted money
    amount: str  # formatted money


@dataclass(frozen=True)
class InvoiceDocument:
    firm_name: str
    firm_address: str
    firm_email: str
    firm_phone: str
    title: str  # "Invoice 2026-000123" or "Draft invoice"
    number: str
    issue_date: date | None
    due_date: date | None
    bill_to_name: str
    bill_to_address: str
    matter_label: str
    case_type: str
    legal_lines: list[PdfLine]
    cost_lines: list[PdfLine]
    legal_subtotal: str
    cost_subtotal: str
    tax: str | None
    total: str
    trust_available: str
    terms: str
    notes: str
    payment_link: str
    watermark: str = ""
    extra_facts: list[tuple[str, str]] = field(default_factory=list)
    payment_terms: str = ""  # "Net 30" / "Due on receipt": calc.payment_terms_label
    beneficiary: str = ""  # who the case is for, when not the addressee


def pdf_date(day: date) -> str:
    """The date format of every client document: "Jun 2, 2026" ("2 jun. 2026" in Spanish)."""
    return i18n.short_date(day)


def long_date(day: date) -> str:
    """A date in running text: "June 2, 2026" ("2 de junio de 2026" in Spanish)."""
    return i18n.long_date(day)


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    """A word wider than the column (a long reference, a URL) in pieces that fit."""
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and stringWidth(current + char, font, size) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    pieces.append(current)
    return pieces


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` points, broken between words (inside a word
    only when the word alone is wider); line breaks in ``text`` are kept. Nothing is dropped."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}".strip()
            if stringWidth(trial, font, size) <= width:
                current = trial
                continue
            if current:
                lines.append(current)
            *full, current = _break_word(word, font, size, width)
            lines.extend(full)
        lines.append(current)
    return lines


class _BatchedCanvas:
    """The canvas calls the layout uses, with all of a page's text gathered in ONE text object
    drawn when the page ends (on top of the page's rules and bands). One BT/ET block instead of
    one per string makes the page several times cheaper to produce."""

    def __init__(self, canvas: Canvas, record: list[str] | None = None) -> None:
        self.canvas = canvas
        self.record = record
        self._new_text()

    def _new_text(self) -> None:
        self.text = self.canvas.beginText()
        self._font: tuple[str, float] | None = None
        self._want_font: tuple[str, float] = (FONT, 9)
        self._color: object = None
        self._want_color: object = INK

    def setFont(self, name: str, size: float) -> None:  # noqa: N802 - canvas API
        self._want_font = (name, size)

    def setFillColor(self, color: object) -> None:  # noqa: N802 - canvas API
        self._want_color = color

    def setStrokeColor(self, color: object) -> None:  # noqa: N802 - canvas API
        self.canvas.setStrokeColor(color)

    def rect(self, *args: float, **kwargs: int) -> None:
        self.canvas.setFillColor(self._want_color)
        self.canvas.rect(*args, **kwargs)

    def line(self, *args: float) -> None:
        self.canvas.line(*args)

    def linkURL(self, *args: object, **kwargs: object) -> None:  # noqa: N802 - canvas API
        self.canvas.linkURL(*args, **kwargs)

    def drawString(self, x: float, y: float, text: str) -> None:  # noqa: N802 - canvas API
        if self.record is not None:
            self.record.append(text)
        if self._font != self._want_font:
            self.text.setFont(*self._want_font)
            self._font = self._want_font
        if self._color is not self._want_color:
            self.text.setFillColor(self._want_color)
            self._color = self._want_color
        # The operators setTextOrigin + textOut would write, without their width bookkeeping.
        self.text._code.append(f"1 0 0 1 {fp_str(x, y)} Tm {self.text._formatText(text)}")

    def drawRightString(self, x: float, y: float, text: str) -> None:  # noqa: N802
        self.drawString(x - stringWidth(text, *self._want_font), y, text)

    def showPage(self) -> None:  # noqa: N802 - canvas API
        self.canvas.drawText(self.text)
        self.canvas.showPage()
        self._new_text()


class _Writer:
    """A cursor over pages: ``need(h)`` starts a new page when ``h`` points do not fit."""

    def __init__(
        self, canvas: Canvas, doc: InvoiceDocument, record: list[str] | None = None
    ) -> None:
        self.c = _BatchedCanvas(canvas, record)
        self.doc = doc
        self.y = PAGE_H - MARGIN
        self.page = 1

    def need(self, height: float, on_new_page: Callable[[], None] | None = None) -> None:
        if self.y - height < MARGIN + 30:
            self._footer()
            self.c.showPage()
            self.page += 1
            self.y = PAGE_H - MARGIN
            self.c.setFont(BOLD, 9)
            self.c.setFillColor(MUTED)
            continued = _("%(title)s — continued") % {"title": self.doc.title}
            self.c.drawString(MARGIN, self.y, continued)
            self.y -= 20
            if on_new_page:
                on_new_page()

    def _footer(self) -> None:
        c = self.c
        c.setFont(FONT, 7.5)
        c.setFillColor(MUTED)
        c.drawString(MARGIN, MARGIN - 18, f"{self.doc.firm_name} · {self.doc.title}")
        c.drawRightString(PAGE_W - MARGIN, MARGIN - 18, _("Page %(page)s") % {"page": self.page})

    def finish(self) -> None:
        self._footer()
        self.c.showPage()


COLS = {  # x positions of the line table
    "date": MARGIN,
    "desc": MARGIN + 64,
    "codes": MARGIN + 270,
    "qty": MARGIN + 345,  # right edge
    "rate": MARGIN + 425,  # right edge
    "amount": PAGE_W - MARGIN,
}


def _draw_lines(
    c: _BatchedCanvas, x: float, y: float, lines: list[str], font: str, size: float, leading: float
) -> float:
    """Draw ``lines`` downwards from ``y``; returns the baseline after the last one."""
    c.setFont(font, size)
    for text in lines:
        c.drawString(x, y, text)
        y -= leading
    return y


def _letterhead(w: _Writer) -> None:
    c, doc = w.c, w.doc
    c.setFillColor(BRAND)
    c.rect(0, PAGE_H - 8, PAGE_W, 8, stroke=0, fill=1)
    y = _draw_lines(c, MARGIN, w.y - 6, wrap_text(doc.firm_name, BOLD, 16, 300), BOLD, 16, 18)
    c.setFillColor(MUTED)
    y += 2
    for text in [*doc.firm_address.splitlines(), doc.firm_phone, doc.firm_email]:
        if text:
            y = _draw_lines(c, MARGIN, y, wrap_text(text, FONT, 8.5, 300), FONT, 8.5, 11)
    c.setFillColor(INK)
    c.setFont(BOLD, 20)
    c.drawRightString(PAGE_W - MARGIN, w.y - 6, _("INVOICE") if doc.number else _("DRAFT"))
    c.setFont(FONT, 9)
    facts = [
        (_("Invoice no."), doc.number or _("— (draft)")),
        (_("Issue date"), pdf_date(doc.issue_date) if doc.issue_date else "—"),
        (_("Due date"), pdf_date(doc.due_date) if doc.due_date else "—"),
        *([(_("Terms"), doc.payment_terms)] if doc.payment_terms else []),
        *doc.extra_facts,
    ]
    fy = w.y - 24
    for label, value in facts:
        c.setFillColor(MUTED)
        c.drawRightString(PAGE_W - MARGIN - 110, fy, label)
        c.setFillColor(INK)
        c.drawRightString(PAGE_W - MARGIN, fy, value)
        fy -= 12
    w.y = min(y, fy) - 14
    c.setStrokeColor(RULE)
    c.line(MARGIN, w.y, PAGE_W - MARGIN, w.y)
    w.y -= 18


def _parties(w: _Writer) -> None:
    """Bill-to and matter side by side; each column wraps in its width and is drawn whole
    before the other, so the text reads (and extracts) column by column."""
    c, doc = w.c, w.doc
    top = w.y
    right_x = MARGIN + 270
    right_w = PAGE_W - MARGIN - right_x
    c.setFont(BOLD, 8)
    c.setFillColor(MUTED)
    c.drawString(MARGIN, top, _("BILL TO"))
    c.setFillColor(INK)
    left_y = _draw_lines(
        c, MARGIN, top - 14, wrap_text(doc.bill_to_name, BOLD, 10, 250), BOLD, 10, 12.5
    )
    left_y = _draw_lines(
        c, MARGIN, left_y - 1, wrap_text(doc.bill_to_address, FONT, 9, 250), FONT, 9, 11
    )
    c.setFont(BOLD, 8)
    c.setFillColor(MUTED)
    c.drawString(right_x, top, _("MATTER"))
    c.setFillColor(INK)
    right_y = _draw_lines(
        c, right_x, top - 14, wrap_text(doc.matter_label, BOLD, 10, right_w), BOLD, 10, 12.5
    )
    right_y -= 1
    if doc.beneficiary:
        text = _("Beneficiary: %(name)s") % {"name": doc.beneficiary}
        right_y = _draw_lines(c, right_x, right_y, wrap_text(text, FONT, 9, right_w), FONT, 9, 11)
    if doc.case_type:
        c.setFillColor(MUTED)
        right_y = _draw_lines(
            c, right_x, right_y, wrap_text(doc.case_type, FONT, 9, right_w), FONT, 9, 11
        )
    w.y = min(left_y, right_y) - 16


def _table_head(w: _Writer) -> None:
    c = w.c
    c.setFillColor(BAND)
    c.rect(MARGIN, w.y - 5, PAGE_W - 2 * MARGIN, 16, stroke=0, fill=1)
    c.setFillColor(MUTED)
    c.setFont(BOLD, 7.5)
    c.drawString(COLS["date"] + 4, w.y, _("DATE"))
    c.drawString(COLS["desc"], w.y, _("DESCRIPTION"))
    c.drawString(COLS["codes"], w.y, _("CODES"))
    c.drawRightString(COLS["qty"], w.y, _("QTY"))
    c.drawRightString(COLS["rate"], w.y, _("RATE"))
    c.drawRightString(COLS["amount"] - 4, w.y, _("AMOUNT"))
    w.y -= 18


def _section(
    w: _Writer, title: str, subtotal_label: str, lines: list[PdfLine], subtotal: str
) -> None:
    if not lines:
        return
    c = w.c
    w.need(60)
    c.setFillColor(BRAND)
    c.setFont(BOLD, 10)
    c.drawString(MARGIN, w.y, title)
    w.y -= 16
    _table_head(w)
    desc_width = COLS["codes"] - COLS["desc"] - 8
    for line in lines:
        wrapped = wrap_text(line.description, FONT, 8.5, desc_width)
        w.need(12 * len(wrapped) + 4, on_new_page=lambda: _table_head(w))
        c.setFillColor(INK)
        c.setFont(FONT, 8.5)
        c.drawString(COLS["date"] + 4, w.y, pdf_date(line.line_date) if line.line_date else "")
        for i, text in enumerate(wrapped):
            c.drawString(COLS["desc"], w.y - 11 * i, text)
        c.setFont(FONT, 7.5)
        c.setFillColor(MUTED)
        c.drawString(COLS["codes"], w.y, line.codes)
        c.setFillColor(INK)
        c.setFont(FONT, 8.5)
        c.drawRightString(COLS["qty"], w.y, line.quantity)
        c.drawRightString(COLS["rate"], w.y, line.unit_price)
        c.drawRightString(COLS["amount"] - 4, w.y, line.amount)
        w.y -= 11 * len(wrapped) + 4
        c.setStrokeColor(BAND)
        c.line(MARGIN, w.y + 6, PAGE_W - MARGIN, w.y + 6)
    w.need(20)
    c.setFont(BOLD, 9)
    c.drawRightString(COLS["rate"], w.y - 2, subtotal_label)
    c.drawRightString(COLS["amount"] - 4, w.y - 2, subtotal)
    w.y -= 24


def _totals(w: _Writer) -> None:
    c, doc = w.c, w.doc
    rows = [
        (_("Legal fees"), doc.legal_subtotal),
        (_("Government fees and costs"), doc.cost_subtotal),
    ]
    if doc.tax is not None:
        rows.append((_("Tax"), doc.tax))
    w.need(18 * len(rows) + 60)
    w.y -= 4
    # The box is 200 points, wider when a label and its amount need more (Spanish labels
    # run longer): a label never runs into its amount.
    widest = max(stringWidth(label, FONT, 9) + stringWidth(value, FONT, 9) for label, value in rows)
    total_width = stringWidth(_("Total due"), BOLD, 11) + stringWidth(doc.total, BOLD, 11)
    x_label = PAGE_W - MARGIN - max(200.0, widest + 24, total_width + 24)
    c.setStrokeColor(RULE)
    c.line(x_label, w.y + 8, PAGE_W - MARGIN, w.y + 8)
    c.setFont(FONT, 9)
    for label, value in rows:
        c.setFillColor(MUTED)
        c.drawString(x_label, w.y - 4, label)
        c.setFillColor(INK)
        c.drawRightString(PAGE_W - MARGIN - 4, w.y - 4, value)
        w.y -= 15
    w.y -= 6
    c.setFillColor(BRAND)
    c.rect(x_label - 6, w.y - 12, PAGE_W - MARGIN - x_label + 6, 22, stroke=0, fill=1)
    c.setFillColor(HexColor("#ffffff"))
    c.setFont(BOLD, 11)
    c.drawString(x_label, w.y - 4, _("Total due"))
    c.drawRightString(PAGE_W - MARGIN - 4, w.y - 4, doc.total)
    w.y -= 30
    c.setFillColor(MUTED)
    c.setFont(FONT, 8.5)
    available = _("Trust funds available on this matter: %(amount)s") % {
        "amount": doc.trust_available
    }
    c.drawRightString(PAGE_W - MARGIN - 4, w.y, available)
    w.y -= 22


def terms_sentence(doc: InvoiceDocument) -> str:
    """The first line of the terms block, from the same dates as the facts block."""
    if not doc.payment_terms or doc.due_date is None:
        return ""
    if doc.payment_terms == _("Due on receipt"):
        return _("Due on receipt (%(date)s).") % {"date": long_date(doc.due_date)}
    return _("%(terms)s: payment is due by %(date)s.") % {
        "terms": doc.payment_terms,
        "date": long_date(doc.due_date),
    }


def _footer_blocks(w: _Writer) -> None:
    c, doc = w.c, w.doc
    terms = "\n".join(t for t in (terms_sentence(doc), doc.terms.strip()) if t)
    for title, text in ((_("Payment terms"), terms), (_("Notes"), doc.notes)):
        if not text.strip():
            continue
        wrapped = wrap_text(text, FONT, 8.5, PAGE_W - 2 * MARGIN)
        w.need(14 + 11 * min(len(wrapped), 3))
        c.setFillColor(INK)
        c.setFont(BOLD, 9)
        c.drawString(MARGIN, w.y, title)
        w.y -= 12
        for text_line in wrapped:
            w.need(11)
            c.setFont(FONT, 8.5)
            c.setFillColor(INK)
            c.drawString(MARGIN, w.y, text_line)
            w.y -= 11
        w.y -= 8
    if doc.payment_link:
        link_lines = wrap_text(doc.payment_link, FONT, 8, PAGE_W - 2 * MARGIN)
        w.need(26 + 10 * len(link_lines))
        c.setFillColor(BRAND)
        c.setFont(BOLD, 9.5)
        c.drawString(MARGIN, w.y, _("Pay online"))
        w.y -= 13
        top = w.y + 9
        w.y = _draw_lines(c, MARGIN, w.y, link_lines, FONT, 8, 10)
        c.linkURL(doc.payment_link, (MARGIN, w.y + 8, PAGE_W - MARGIN, top), relative=0)
        w.y -= 4


def render_invoice_pdf(doc: InvoiceDocument, record: list[str] | None = None) -> bytes:
    """The invoice as PDF bytes. Deterministic for a given document (``invariant`` mode).
    ``record``, when given, receives every string drawn (the benchmark's baseline uses it)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=True, pageCompression=1)
    canvas.setTitle(doc.title)
    canvas.setAuthor(doc.firm_name)
    canvas.setSubject(doc.matter_label)
    w = _Writer(canvas, doc, record)
    if doc.watermark:
        canvas.saveState()
        canvas.setFillColor(HexColor("#e2e8f0"))
        canvas.setFont(BOLD, 80)
        canvas.translate(PAGE_W / 2, PAGE_H / 2)
        canvas.rotate(35)
        canvas.drawCentredString(0, 0, doc.watermark)
        canvas.restoreState()
    _letterhead(w)
    _parties(w)
    _section(w, _("Legal fees"), _("Legal fees subtotal"), doc.legal_lines, doc.legal_subtotal)
    _section(
        w,
        _("Government fees and costs"),
        _("Government fees and costs subtotal"),
        doc.cost_lines,
        doc.cost_subtotal,
    )
    _totals(w)
    _footer_blocks(w)
    w.finish()
    canvas.save()
    return buffer.getvalue()


def render_bare_page(texts: list[str]) -> bytes:
    """The benchmark's baseline: ``texts`` (what an invoice page prints) drawn line after line
    on one Letter page with ``drawString`` (same font, same compression), with no layout."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=True, pageCompression=1)
    canvas.setFont(FONT, 8)
    y = PAGE_H - MARGIN
    for text in texts:
        canvas.drawString(MARGIN, y, text)
        y -= 9
        if y < MARGIN:
            y = PAGE_H - MARGIN
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
