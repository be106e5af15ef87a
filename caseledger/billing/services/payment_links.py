"""Signed, expiring payment links printed on the invoice PDF and in its email (the email itself
goes through ``core.outbox``; see ``billing.messages``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import signing

from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import Invoice
from caseledger.billing.selectors import billing_settings_get
from caseledger.core.links import absolute_reverse

LINK_SALT = "caseledger.billing.payment-link"
LINK_INVALID = "link: this payment link is not valid"
LINK_EXPIRED = "link: this payment link has expired; ask the firm for a new one"


class _LinkSigner(signing.TimestampSigner):
    """A TimestampSigner whose timestamp is the given moment (services take ``now``)."""

    def __init__(self, at: datetime | None = None) -> None:
        super().__init__(salt=LINK_SALT)
        self._at = at

    def timestamp(self) -> str:
        if self._at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._at.timestamp()))


def payment_link_token(*, invoice: Invoice, at: datetime) -> str:
    return _LinkSigner(at).sign(str(invoice.pk))


def payment_link_for(*, invoice: Invoice) -> str:
    """The absolute link printed on the PDF and in the email, signed at the issue time."""
    at = invoice.issued_at or invoice.created_at
    token = payment_link_token(invoice=invoice, at=at)
    return absolute_reverse("billing:public_invoice", token)


def payment_link_resolve(*, token: str) -> Invoice:
    """The invoice a link points to; BillingError when forged or older than the firm's limit
    (checked against the wall clock, as TimestampSigner does)."""
    max_age = timedelta(days=billing_settings_get().payment_link_days)
    try:
        pk = _LinkSigner().unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BillingError(LINK_EXPIRED, field="link") from exc
    except signing.BadSignature as exc:
        raise BillingError(LINK_INVALID, field="link") from exc
    invoice = Invoice.objects.filter(pk=int(pk)).select_related("client", "matter").first()
    if invoice is None or invoice.number is None:
        raise BillingError(LINK_INVALID, field="link")
    return invoice
