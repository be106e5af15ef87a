"""The receipt a client gets by email for an invoice payment made online (the client portal's
checkout, or a payment link): what was received, which invoices it paid and what is still due,
in the client's language (``Client.preferred_language``).

It is enqueued on the one outbox (``core.outbox``) in the transaction that records the payment,
keyed ``payments.receipt:<payment id>``: it leaves only after that transaction commits, and at
most once per payment however often the provider redelivers its webhook (a redelivered event
is refused before anything is recorded; a second enqueue of the key keeps the first row)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.translation import gettext

from caseledger.billing.models import Invoice
from caseledger.core import outbox
from caseledger.core.amounts import firm_money
from caseledger.core.i18n import client_language, long_date
from caseledger.core.links import absolute_reverse
from caseledger.core.models import OutboxMessage
from caseledger.core.selectors import firm_get
from caseledger.payments.models import Payment

RECEIPT_KIND = "payments.receipt"


def receipt_key(payment: Payment) -> str:
    return f"payments.receipt:{payment.pk}"


def _recipient(payment: Payment) -> str:
    from caseledger.clients.selectors import client_billing_email

    return client_billing_email(payment.client) or payment.client.email


def receipt_text(payment: Payment, invoices: Sequence[Invoice]) -> dict[str, str]:
    """The receipt's subject and body, in the client's language: the amount and date, each
    invoice it was applied to, the balance left on each (or that they are paid in full), and
    any part kept as a credit on the client's account, and the link to the client portal's
    invoices page (by URL name, on ``SITE_URL``: payments does not import the portal)."""
    from caseledger.payments.selectors import invoice_money

    client = payment.client
    applied = {
        a.invoice_id: a.amount_cents
        for a in payment.allocations.all()  # the allocations written with the payment
    }
    money = invoice_money(list(invoices), as_of=payment.received_date)
    with client_language(client):
        values = {
            "client": client.name,
            "amount": firm_money(payment.amount_cents),
            "date": long_date(payment.received_date),
            "number": payment.number,
        }
        lines = [
            gettext("Dear %(client)s,") % values,
            "",
            gettext(
                "Thank you. We received your card payment of %(amount)s on %(date)s "
                "(receipt %(number)s)."
            )
            % values,
            "",
        ]
        for invoice in invoices:
            cents = applied.get(invoice.pk, 0)
            if cents:
                lines.append(
                    gettext("Applied to invoice %(invoice)s: %(amount)s")
                    % {"invoice": invoice.number, "amount": firm_money(cents)}
                )
        if payment.unapplied_cents:
            lines.append(
                gettext("Kept as a credit on your account: %(amount)s")
                % {"amount": firm_money(payment.unapplied_cents)}
            )
        lines.append("")
        due = [(inv, money[inv.pk].balance_due_cents) for inv in invoices]
        still = [(inv, cents) for inv, cents in due if cents > 0]
        if still:
            for invoice, cents in still:
                lines.append(
                    gettext("Still due on invoice %(invoice)s: %(amount)s")
                    % {"invoice": invoice.number, "amount": firm_money(cents)}
                )
        else:
            lines.append(gettext("Nothing is left to pay on these invoices."))
        lines += [
            "",
            gettext("Please keep this email as your receipt."),
            gettext("Your invoices and payment history are in your client portal: %(link)s")
            % {"link": absolute_reverse("portal:invoices")},
            "",
            firm_get().name,
            "",
        ]
        subject = gettext("%(firm)s: payment receipt %(number)s") % {
            "firm": firm_get().name,
            "number": payment.number,
        }
    return {"subject": subject, "body": "\n".join(lines)}


def payment_receipt_queue(
    *, payment: Payment, invoices: Sequence[Invoice], now: datetime
) -> OutboxMessage | None:
    """Enqueue the receipt of an online invoice payment (in the caller's transaction, which
    records the payment). None when the client has no email address to send it to."""
    to = _recipient(payment)
    if not to:
        return None
    text = receipt_text(payment, invoices)
    return outbox.enqueue(
        key=receipt_key(payment),
        kind=RECEIPT_KIND,
        to=[to],
        subject=text["subject"],
        body=text["body"],
        related=payment,
        now=now,
    )
