"""Reminder letter PDF: the stage's message on the firm's letterhead (``billing.pdf_layout``,
the style of the invoice and credit note), addressed as the invoice was, with the invoice's
facts (dates, terms, balance) and an absolute link to pay online. In the client's language:
the subject and body were written in it when the run made the reminder; the letter's frame and
a default stage's name are translated here (a renamed stage keeps the firm's name)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
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
from caseledger.core.i18n import client_language
from caseledger.core.money import Money
from caseledger.payments.links import invoice_pay_url


def render_reminder_letter(reminder: Any) -> bytes:
    """The letter for one reminder step (``reminder`` with its invoice, client and stage)."""
    with client_language(reminder.invoice.client):
        return _letter(reminder)


def _letter(reminder: Any) -> bytes:
    firm = Firm.current()
    stage_name = _(reminder.stage.name) if reminder.stage.name else ""
    invoice = reminder.invoice
    facts = [(_("Date"), pdf_date(reminder.run_date)), (_("Invoice no."), invoice.number or "")]
    if invoice.issue_date:
        facts.append((_("Invoice date"), pdf_date(invoice.issue_date)))
    if invoice.due_date:
        facts.append((_("Due date"), pdf_date(invoice.due_date)))
    terms = payment_terms_label(issue_date=invoice.issue_date, due_date=invoice.due_date)
    if terms:
        facts.append((_("Terms"), terms))
    facts.append((_("Balance due"), Money(reminder.balance_cents, invoice.currency).format()))
    story: list[Flowable] = [*letterhead(firm, stage_name.upper(), facts)]
    story.append(para(invoice.bill_to_name or invoice.client.name, STRONG))
    if invoice.bill_to_address:
        story.append(para(invoice.bill_to_address, BODY))
    story.append(Spacer(1, 22))
    if reminder.subject:
        story += [para(_("Re: %(subject)s") % {"subject": reminder.subject}, STRONG), Spacer(1, 10)]
    for paragraph in reminder.body.split("\n\n"):
        if paragraph.strip():
            story += [para(paragraph.strip(), BODY_LARGE), Spacer(1, 8)]
    story += [
        Spacer(1, 10),
        para(_("Pay online"), STRONG),
        para(invoice_pay_url(invoice.pk), BODY),
        Spacer(1, 18),
        para(
            _(
                "This letter concerns invoice %(invoice)s of %(issued)s for matter %(matter)s. "
                "If you have paid since %(date)s, thank you; please disregard it."
            )
            % {
                "invoice": invoice.number,
                "issued": long_date(invoice.issue_date),
                "matter": invoice.matter.number,
                "date": long_date(reminder.run_date),
            },
            SMALL,
        )
        if invoice.issue_date
        else Spacer(1, 1),
    ]
    return render(
        firm=firm,
        title=_("%(stage)s · invoice %(number)s") % {"stage": stage_name, "number": invoice.number},
        subject=_("Invoice %(number)s") % {"number": invoice.number},
        story=story,
    )
