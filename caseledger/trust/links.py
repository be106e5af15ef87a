"""Signed, expiring client links to a trust receipt PDF (the link in the receipt email).

The token carries only the deposit's id, signed with the site's SECRET_KEY, a receipt-specific
salt and the moment the receipt was issued: a token for one deposit never opens another, and
no other signed link (pay links, password resets) is accepted here. The age is checked against
the wall clock when the link is opened, as Django's TimestampSigner does."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import signing

from caseledger.core.links import absolute_reverse
from caseledger.trust.exceptions import ReceiptLinkError, ReceiptLinkExpired
from caseledger.trust.models import TrustDeposit

RECEIPT_SALT = "caseledger.trust.receipt-link"
# How long a receipt link opens the PDF; after that the client asks the firm (who can always
# print it from the deposit's page) or uses a trust statement.
RECEIPT_LINK_DAYS = 180
RECEIPT_LINK_INVALID = "link: this receipt link is not valid"
RECEIPT_LINK_EXPIRED = (
    f"link: this receipt link is older than {RECEIPT_LINK_DAYS} days and has expired; "
    "ask the firm for a copy of the receipt"
)


class _Signer(signing.TimestampSigner):
    """A TimestampSigner whose timestamp is the given moment (services take ``now``)."""

    def __init__(self, at: datetime | None = None) -> None:
        super().__init__(salt=RECEIPT_SALT)
        self._at = at

    def timestamp(self) -> str:
        if self._at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._at.timestamp()))


def receipt_token(*, deposit: TrustDeposit, at: datetime) -> str:
    return _Signer(at).sign(str(deposit.pk))


def receipt_url(*, deposit: TrustDeposit, at: datetime) -> str:
    """The absolute client link to ``deposit``'s receipt PDF, valid for RECEIPT_LINK_DAYS
    from ``at``."""
    return absolute_reverse("trust:client_receipt", receipt_token(deposit=deposit, at=at))


def receipt_deposit(*, token: str) -> TrustDeposit:
    """The deposit a receipt link names. Raises ReceiptLinkExpired when older than
    RECEIPT_LINK_DAYS, ReceiptLinkError when forged, altered or naming no deposit."""
    try:
        value = _Signer().unsign(token, max_age=timedelta(days=RECEIPT_LINK_DAYS))
    except signing.SignatureExpired as exc:
        raise ReceiptLinkExpired(RECEIPT_LINK_EXPIRED, field="link") from exc
    except signing.BadSignature as exc:
        raise ReceiptLinkError(RECEIPT_LINK_INVALID, field="link") from exc
    deposit = (
        TrustDeposit.objects.select_related("client", "matter", "trust_request")
        .filter(pk=int(value) if value.isdigit() else -1)
        .first()
    )
    if deposit is None:
        raise ReceiptLinkError(RECEIPT_LINK_INVALID, field="link")
    return deposit
