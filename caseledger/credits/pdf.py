"""Credit note PDF on the firm's letterhead (``billing.pdf_layout``, the invoice's palette):
credited to, the invoice and matter it corrects, the reason, the lines, and how the credit was
applied (invoice balance / account credit / refund). Names and descriptions wrap."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from caseledger.billing.pdf_layout import (
    BODY,
    SMALL,
    STRONG,
    Firm,
    blocks,
    details,
    letterhead,
    lines_table,
    para,
    pdf_date,
    render,
    totals,
)
from caseledger.core.money import format_money


def render_credit_note_pdf(note: Any) -> bytes:
    """The issued credit note as PDF bytes (``note`` with its invoice, client and matter)."""
    firm = Firm.current()
    currency = note.currency
    invoice = note.invoice
    matter = note.matter

    def money(cents: int) -> str:
        return format_money(cents, currency)

    credited_to = [para(invoice.bill_to_name or note.client.name, STRONG)]
    if invoice.bill_to_address:
        credited_to.append(para(invoice.bill_to_address, BODY))
    matter_block = [para(f"{matter.number} · {matter.title}", STRONG)]
    beneficiary = matter.beneficiary_name
    if beneficiary and beneficiary != note.client.name:
        matter_block.append(para(f"Beneficiary: {beneficiary}", BODY))
    reason = note.get_reason_code_display()
    if note.reason_text:
        reason = f"{reason}: {note.reason_text}"
    invoice_ref = f"Invoice {invoice.number}"
    if invoice.issue_date:
        invoice_ref += f" of {pdf_date(invoice.issue_date)}"
    rows = [
        [line.description, money(line.amount_cents)]
        for line in note.lines.order_by("position", "id")
    ]
    applied = [
        ("Taken off the invoice balance", money(note.balance_cents)),
        ("Added to your account credit", money(note.client_credit_cents)),
    ]
    if note.refund_cents:
        applied.append(
            (f"Refunded ({note.get_refund_method_display().lower()})", money(note.refund_cents))
        )
    facts = [("Credit note no.", note.number), ("Corrects", f"Invoice {invoice.number}")]
    if note.issue_date:
        facts.insert(1, ("Issue date", pdf_date(note.issue_date)))
    story: list[Flowable] = [
        *letterhead(firm, "CREDIT NOTE", facts),
        blocks([("Credited to", credited_to), ("Matter", matter_block)]),
        details([("Corrects", invoice_ref), ("Reason", reason)], label_width=110),
        Spacer(1, 14),
        lines_table(["Description", "Amount"], rows, widths=[400, 104], right=[1]),
        Spacer(1, 10),
        totals([], grand=("Total credited", money(note.amount_cents))),
        Spacer(1, 8),
        totals(applied),
        Spacer(1, 18),
        para(
            f"Credit note {note.number} corrects invoice {invoice.number}; the invoice itself "
            "is unchanged. Keep both for your records.",
            SMALL,
        ),
    ]
    return render(
        firm=firm,
        title=f"Credit note {note.number}",
        subject=f"{note.client.name} · {matter.number}",
        story=story,
    )
