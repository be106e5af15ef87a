"""Credit note PDF on the firm's letterhead (``billing.pdf_layout``, the invoice's palette):
credited to, the invoice and matter it corrects, the reason, the lines, and how the credit was
applied (invoice balance / account credit / refund). Names and descriptions wrap. In the
client's language (``Client.preferred_language``): the reason and refund method with the
client's wording below, not the staff labels of ``credits.choices``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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
from caseledger.core.i18n import client_language
from caseledger.core.money import format_money

# What the client reads for a reason code and a refund method.
REASONS = {
    "OVERPAYMENT": gettext_lazy("Overpayment"),
    "DUPLICATE_PAYMENT": gettext_lazy("Duplicate payment"),
    "SCOPE_CHANGE": gettext_lazy("Change in the scope of work"),
    "SCOPE_REDUCTION": gettext_lazy("Less work than agreed"),
    "BILLING_ERROR": gettext_lazy("Billing error"),
    "COURTESY_DISCOUNT": gettext_lazy("Courtesy discount"),
    "FEE_WAIVER": gettext_lazy("Fee waiver"),
    "OTHER": gettext_lazy("Other"),
}
REFUND_METHODS = {
    "CHECK": gettext_lazy("by check"),
    "TRANSFER": gettext_lazy("by bank transfer"),
    "CARD": gettext_lazy("back to your card"),
    "TRUST": gettext_lazy("through your trust account"),
}


def render_credit_note_pdf(note: Any) -> bytes:
    """The issued credit note as PDF bytes (``note`` with its invoice, client and matter), in
    its client's language."""
    with client_language(note.client):
        return _render(note)


def _render(note: Any) -> bytes:
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
        matter_block.append(para(_("Beneficiary: %(name)s") % {"name": beneficiary}, BODY))
    reason = str(REASONS.get(note.reason_code, note.get_reason_code_display()))
    if note.reason_text:
        reason = f"{reason}: {note.reason_text}"
    invoice_ref = _("Invoice %(number)s") % {"number": invoice.number}
    if invoice.issue_date:
        invoice_ref = _("Invoice %(number)s of %(date)s") % {
            "number": invoice.number,
            "date": pdf_date(invoice.issue_date),
        }
    rows = [
        [line.description, money(line.amount_cents)]
        for line in note.lines.order_by("position", "id")
    ]
    applied = [
        (_("Taken off the invoice balance"), money(note.balance_cents)),
        (_("Added to your account credit"), money(note.client_credit_cents)),
    ]
    if note.refund_cents:
        applied.append(
            (
                _("Refunded (%(method)s)")
                % {
                    "method": REFUND_METHODS.get(
                        note.refund_method, note.get_refund_method_display().lower()
                    )
                },
                money(note.refund_cents),
            )
        )
    facts = [
        (_("Credit note no."), note.number),
        (_("Corrects"), _("Invoice %(number)s") % {"number": invoice.number}),
    ]
    if note.issue_date:
        facts.insert(1, (_("Issue date"), pdf_date(note.issue_date)))
    story: list[Flowable] = [
        *letterhead(firm, _("CREDIT NOTE"), facts),
        blocks([(_("Credited to"), credited_to), (_("Matter"), matter_block)]),
        details([(_("Corrects"), invoice_ref), (_("Reason"), reason)], label_width=110),
        Spacer(1, 14),
        lines_table([_("Description"), _("Amount")], rows, widths=[400, 104], right=[1]),
        Spacer(1, 10),
        totals([], grand=(_("Total credited"), money(note.amount_cents))),
        Spacer(1, 8),
        totals(applied),
        Spacer(1, 18),
        para(
            _(
                "Credit note %(note)s corrects invoice %(invoice)s; the invoice itself is "
                "unchanged. Keep both for your records."
            )
            % {"note": note.number, "invoice": invoice.number},
            SMALL,
        ),
    ]
    return render(
        firm=firm,
        title=_("Credit note %(number)s") % {"number": note.number},
        subject=f"{note.client.name} · {matter.number}",
        story=story,
    )
