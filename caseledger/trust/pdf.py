"""Trust documents as PDF (ReportLab): a deposit receipt and a client trust statement."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from caseledger.clients.models import Client
from caseledger.core.amounts import firm_money
from caseledger.core.selectors import firm_get
from caseledger.trust.models import TrustDeposit
from caseledger.trust.selectors import StatementLine


def _header(pdf: canvas.Canvas, title: str) -> float:
    firm = firm_get()
    width, height = LETTER
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(inch, height - inch, firm.name)
    pdf.setFont("Helvetica", 9)
    y = height - inch - 14
    for line in (firm.address or "").splitlines()[:4]:
        pdf.drawString(inch, y, line)
        y -= 11
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawRightString(width - inch, height - inch, title)
    return y - 20


def receipt_pdf(deposit: TrustDeposit) -> bytes:
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER)
    pdf.setTitle(f"Trust receipt {deposit.receipt_number}")
    y = _header(pdf, "Trust receipt")
    pdf.setFont("Helvetica", 11)
    rows = [
        ("Receipt", deposit.receipt_number),
        ("Client", deposit.client.name),
        ("Matter", str(deposit.matter)),
        ("Received from", deposit.payer),
        ("Date received", deposit.received_date.strftime("%B %d, %Y")),
        (
            "Method",
            deposit.get_method_display() + (f" {deposit.reference}" if deposit.reference else ""),
        ),
        ("Amount credited to your trust account", firm_money(deposit.amount_cents)),
        (
            "Funds clear",
            deposit.clears_on.strftime("%B %d, %Y") if deposit.clears_on else "on card settlement",
        ),
    ]
    if deposit.trust_request_id:
        rows.append(("Trust request", str(deposit.trust_request)))
    for label, value in rows:
        pdf.drawString(inch, y, label)
        pdf.drawString(3.6 * inch, y, value)
        y -= 18
    pdf.setFont("Helvetica-Oblique", 9)
    pdf.drawString(
        inch,
        y - 12,
        "Held in our client trust (IOLTA) account. "
        "Card fees are paid by the firm, never from trust.",
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def statement_pdf(client: Client, lines: list[StatementLine], as_of: date) -> bytes:
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER)
    pdf.setTitle(f"Trust statement {client.name}")
    width, height = LETTER
    y = _header(pdf, "Client trust statement")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(inch, y, f"{client.name} — as of {as_of:%B %d, %Y}")
    y -= 24

    def columns(yy: float) -> float:
        pdf.setFont("Helvetica-Bold", 9)
        for x, text in ((inch, "Date"), (1.8 * inch, "Matter"), (2.9 * inch, "Description")):
            pdf.drawString(x, yy, text)
        pdf.drawRightString(width - 1.9 * inch, yy, "Amount")
        pdf.drawRightString(width - inch, yy, "Balance")
        pdf.setFont("Helvetica", 9)
        return yy - 14

    y = columns(y)
    balance = 0
    for line in lines:
        if y < inch:
            pdf.showPage()
            y = columns(height - inch)
        pdf.drawString(inch, y, line.day.isoformat())
        pdf.drawString(1.8 * inch, y, line.matter.number[:16])
        pdf.drawString(2.9 * inch, y, f"{line.description} {line.reference}"[:52])
        pdf.drawRightString(width - 1.9 * inch, y, firm_money(line.amount_cents))
        pdf.drawRightString(width - inch, y, firm_money(line.balance_cents))
        balance = line.balance_cents
        y -= 13
    if not lines:
        pdf.drawString(inch, y, "No trust activity.")
        y -= 13
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawRightString(width - inch, y - 10, f"Balance held in trust: {firm_money(balance)}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
