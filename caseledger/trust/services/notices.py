"""Client notices about trust activity."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext

from caseledger.clients.models import Client
from caseledger.core import outbox
from caseledger.core.amounts import firm_money
from caseledger.core.i18n import client_language, long_date
from caseledger.core.selectors import firm_get
from caseledger.trust import links
from caseledger.trust.labels import METHODS, REQUEST_KINDS
from caseledger.trust.models import (
    TrustDeposit,
    TrustRequest,
)


def _client_email(client: Client) -> str:
    from caseledger.clients.selectors import client_billing_email

    return client_billing_email(client) or client.email


NOTICE_RECEIPT_KIND = "trust.receipt"
NOTICE_REQUEST_KIND = "trust.request"


def _notice_queue(
    *,
    key: str,
    kind: str,
    to_email: str,
    subject: str,
    body: str,
    related: models.Model,
    now: datetime,
) -> None:
    """A trust email to the client through the one outbox, in the caller's transaction: keyed
    per deposit (receipt) or request, so it leaves at most once, and it is retried until it does
    (a crash after the claim is recovered and resent with the same Message-ID)."""
    outbox.enqueue(
        key=key, kind=kind, to=[to_email], subject=subject, body=body, related=related, now=now
    )


def _request_notice(request: TrustRequest, *, pay_url: str) -> dict[str, str]:
    """A trust request's email, in the client's language."""
    client = request.client
    with client_language(client):
        kind = REQUEST_KINDS.get(request.kind, request.get_kind_display().lower())
        return {
            "subject": gettext("%(firm)s: %(kind)s %(number)s")
            % {"firm": firm_get().name, "kind": kind, "number": request.number},
            "body": gettext(
                "Dear %(client)s,\n\nPlease deposit %(amount)s into our client trust account "
                "for %(matter)s by %(date)s.\nThese funds stay yours in trust until fees are "
                "earned and invoiced.\n\nPay online: %(url)s\n"
            )
            % {
                "client": client.name,
                "amount": firm_money(request.amount_cents),
                "matter": request.matter,
                "date": long_date(request.due_date),
                "url": pay_url,
            },
        }


def _receipt_notice(deposit: TrustDeposit, *, url: str) -> dict[str, str]:
    """The notice of a receipt into trust, in the client's language, with the receipt's link."""
    client = deposit.client
    with client_language(client):
        method = str(METHODS.get(deposit.method, deposit.get_method_display()))
        if deposit.reference:
            method = f"{method}, {deposit.reference}"
        values = {
            "client": client.name,
            "amount": firm_money(deposit.amount_cents),
            "payer": deposit.payer,
            "date": long_date(deposit.received_date),
            "method": method,
            "matter": deposit.matter,
            "receipt": deposit.receipt_number,
            "days": links.RECEIPT_LINK_DAYS,
            "url": url,
        }
        clears = (
            gettext("The funds clear on %(date)s.") % {"date": long_date(deposit.clears_on)}
            if deposit.clears_on
            else gettext("The funds clear when the card processor settles them.")
        )
        body = (
            gettext(
                "Dear %(client)s,\n\nWe received %(amount)s from %(payer)s on %(date)s "
                "(%(method)s) and deposited it in our client trust account for %(matter)s."
            )
            % values
            + "\n"
            + clears
            + "\n\n"
            + gettext(
                "Your receipt %(receipt)s (PDF, no sign-in needed; the link works for %(days)s "
                "days):"
            )
            % values
            + f"\n{url}\n"
        )
        return {
            "subject": gettext("%(firm)s: trust receipt %(receipt)s")
            % {"firm": firm_get().name, "receipt": deposit.receipt_number},
            "body": body,
        }
