"""Reminder letter PDF: the stage's message on the firm's letterhead (same style as the invoice
and credit note PDFs)."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from caseledger.billing.pdf import FONT, INK, MARGIN, MUTED
from caseledger.credits.pdf import render_letter_header

PAGE_W, PAGE_H = LETTER


def _wrap(text: str, size: float, width: float) -> list[str]:
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}".strip()
            if stringWidth(trial, FONT, size) <= width:
                current = trial
            else:
                out.append(current)
                current = word
        out.append(current)
    return out


def render_reminder_letter(reminder: Any) -> bytes:
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=LETTER)
    c.setTitle(reminder.subject or "Payment reminder")
    y = render_letter_header(
        c, title=reminder.stage.name, subtitle=f"{reminder.run_date:%B %d, %Y}"
    )
    client = reminder.invoice.client
    c.setFillColor(INK)
    c.setFont(FONT, 10)
    c.drawString(MARGIN, y, client.name)
    y -= 30
    c.setFont("Helvetica-Bold", 11)
    c.drawString(MARGIN, y, reminder.subject[:100])
    y -= 22
    c.setFont(FONT, 10)
    for line in _wrap(reminder.body, 10, PAGE_W - 2 * MARGIN):
        if y < MARGIN + 20:
            c.showPage()
            y = PAGE_H - MARGIN
            c.setFont(FONT, 10)
        c.drawString(MARGIN, y, line)
        y -= 14
    c.setFont(FONT, 7.5)
    c.setFillColor(MUTED)
    c.drawString(MARGIN, MARGIN - 10, f"Invoice {reminder.invoice.number}")
    c.showPage()
    c.save()
    return buffer.getvalue()
