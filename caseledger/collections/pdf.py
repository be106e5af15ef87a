"""Reminder letter PDF: the stage's message on the firm's letterhead (``billing.pdf_layout``,
the style of the invoice and credit note), addressed as the invoice was, with the invoice's
facts (dates, terms, balance) and an absolute link to pay online."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from caseledger.billing.calc import payment_terms_label
from caseledger.billing.pdf_layout import (
    BODY,
    BODY_LARGE,
    SMALL,
    STRONG,
    Firm,
    letterhead,
    long_date,
    para,
    pdf_date,
    render,
)
from caseledger.core.money import Money
from caseledger.payments.links import invoice_pay_url


def render_reminder_letter(reminder: Any) -> bytes:
    """The letter for one reminder step (``reminder`` with its invoice, client and stage)."""
    firm = Firm.current()
    invoice = reminder.invoice
    facts = [("Date", pdf_date(reminder.run_date)), ("Invoice no.", invoice.number or "")]
    if invoice.issue_date:
        facts.append(("Invoice date", pdf_date(invoice.issue_date)))
    if invoice.due_date:
        facts.append(("Due date", pdf_date(invoice.due_date)))
    terms = payment_terms_label(issue_date=invoice.issue_date, due_date=invoice.due_date)
    if terms:
        facts.append(("Terms", terms))
    facts.append(("Balance due", Money(reminder.balance_cents, invoice.currency).format()))
    story: list[Flowable] = [*letterhead(firm, reminder.stage.name.upper(), facts)]
    story.append(para(invoice.bill_to_name or invoice.client.name, STRONG))
    if invoice.bill_to_address:
        story.append(para(invoice.bill_to_address, BODY))
    story.append(Spacer(1, 22))
    if reminder.subject:
        story += [para(f"Re: {reminder.subject}", STRONG), Spacer(1, 10)]
    for paragraph in reminder.body.split("\n\n"):
        if paragraph.strip():
            story += [para(paragraph.strip(), BODY_LARGE), Spacer(1, 8)]
    story += [
        Spacer(1, 10),
        para("Pay online", STRONG),
        para(invoice_pay_url(invoice.pk), BODY),
        Spacer(1, 18),
        para(
            f"This letter concerns invoice {invoice.number} of {long_date(invoice.issue_date)} "
            f"for matter {invoice.matter.number}. If you have paid since "
            f"{long_date(reminder.run_date)}, thank you; please disregard it.",
            SMALL,
        )
        if invoice.issue_date
        else Spacer(1, 1),
    ]
    return render(
        firm=firm,
        title=f"{reminder.stage.name} · invoice {invoice.number}",
        subject=f"Invoice {invoice.number}",
        story=story,
    )
