"""Credit note PDF (ReportLab canvas), in the invoice PDF's style: the same palette, margins and
fonts as ``billing.pdf``; letterhead, credited-to block, reference to the invoice, reason,
lines, how the credit was applied (balance / client credit / refund)."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from caseledger.billing.pdf import BAND, BOLD, BRAND, FONT, INK, MARGIN, MUTED, RULE
from caseledger.core.money import format_money
from caseledger.core.selectors import firm_get

PAGE_W, PAGE_H = LETTER


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def render_letter_header(c: Canvas, *, title: str, subtitle: str) -> float:
    """Firm letterhead and the document title; returns the y below it."""
    firm = firm_get()
    y = PAGE_H - MARGIN
    c.setFillColor(BRAND)
    c.setFont(BOLD, 16)
    c.drawString(MARGIN, y, _fit(firm.name, BOLD, 16, 300))
    c.setFont(FONT, 8.5)
    c.setFillColor(MUTED)
    line_y = y - 14
    for line in [*firm.address.splitlines(), firm.email, firm.phone]:
        if line.strip():
            c.drawString(MARGIN, line_y, line.strip()[:80])
            line_y -= 11
    c.setFillColor(INK)
    c.setFont(BOLD, 18)
    c.drawRightString(PAGE_W - MARGIN, y, title)
    c.setFont(FONT, 9)
    c.setFillColor(MUTED)
    c.drawRightString(PAGE_W - MARGIN, y - 16, subtitle)
    y = min(line_y, y - 30) - 10
    c.setStrokeColor(RULE)
    c.line(MARGIN, y, PAGE_W - MARGIN, y)
    return y - 20


def render_credit_note_pdf(note: Any) -> bytes:
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=LETTER)
    c.setTitle(f"Credit note {note.number}")
    currency = note.currency
    y = render_letter_header(
        c,
        title=f"Credit note {note.number}",
        subtitle=f"Issued {note.issue_date:%B %d, %Y}",
    )
    c.setFillColor(MUTED)
    c.setFont(BOLD, 8)
    c.drawString(MARGIN, y, "CREDITED TO")
    c.drawString(PAGE_W / 2, y, "REFERENCE")
    c.setFillColor(INK)
    c.setFont(FONT, 10)
    c.drawString(MARGIN, y - 14, _fit(note.client.name, FONT, 10, PAGE_W / 2 - MARGIN - 10))
    c.drawString(PAGE_W / 2, y - 14, f"Invoice {note.invoice.number}")
    c.drawString(PAGE_W / 2, y - 28, _fit(f"Matter {note.matter}", FONT, 10, PAGE_W / 2 - MARGIN))
    reason = note.get_reason_code_display()
    if note.reason_text:
        reason = f"{reason}: {note.reason_text}"
    c.drawString(PAGE_W / 2, y - 42, _fit(f"Reason: {reason}", FONT, 10, PAGE_W / 2 - MARGIN))
    y -= 70
    # Lines table
    c.setFillColor(BAND)
    c.rect(MARGIN, y - 4, PAGE_W - 2 * MARGIN, 18, stroke=0, fill=1)
    c.setFillColor(INK)
    c.setFont(BOLD, 9)
    c.drawString(MARGIN + 6, y + 1, "Description")
    c.drawRightString(PAGE_W - MARGIN - 6, y + 1, "Amount")
    y -= 20
    c.setFont(FONT, 9.5)
    for line in note.lines.order_by("position", "id"):
        if y < MARGIN + 120:
            c.showPage()
            y = PAGE_H - MARGIN
            c.setFont(FONT, 9.5)
        c.drawString(MARGIN + 6, y, _fit(line.description, FONT, 9.5, PAGE_W - 2 * MARGIN - 110))
        c.drawRightString(PAGE_W - MARGIN - 6, y, format_money(line.amount_cents, currency))
        y -= 15
    c.setStrokeColor(RULE)
    c.line(MARGIN, y + 5, PAGE_W - MARGIN, y + 5)
    y -= 12
    rows = [("Total credited", note.amount_cents, True)]
    rows.append(("Taken off the invoice balance", note.balance_cents, False))
    rows.append(("Added to your account credit", note.client_credit_cents, False))
    if note.refund_cents:
        rows.append(
            (f"Refunded ({note.get_refund_method_display().lower()})", note.refund_cents, False)
        )
    for label, cents, bold in rows:
        c.setFont(BOLD if bold else FONT, 10 if bold else 9.5)
        c.drawRightString(PAGE_W - MARGIN - 120, y, label)
        c.drawRightString(PAGE_W - MARGIN - 6, y, format_money(cents, currency))
        y -= 15
    c.setFont(FONT, 7.5)
    c.setFillColor(MUTED)
    c.drawString(
        MARGIN,
        MARGIN - 10,
        f"Credit note {note.number} corrects invoice {note.invoice.number}; the invoice itself "
        "is unchanged.",
    )
    c.showPage()
    c.save()
    return buffer.getvalue()
