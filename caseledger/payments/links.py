"""Signed public payment links. The token carries the document id, signed with the site's
SECRET_KEY and a purpose-specific salt, so a link for one invoice never opens another."""

from __future__ import annotations

from django.core import signing

from caseledger.core.links import absolute_reverse

INVOICE_SALT = "caseledger.pay.invoice"
TRUST_REQUEST_SALT = "caseledger.pay.trust-request"


def invoice_pay_token(invoice_id: int) -> str:
    return signing.dumps({"invoice": invoice_id}, salt=INVOICE_SALT, compress=True)


def invoice_from_token(token: str) -> int | None:
    try:
        data = signing.loads(token, salt=INVOICE_SALT)
    except signing.BadSignature:
        return None
    value = data.get("invoice") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def invoice_pay_url(invoice_id: int) -> str:
    return absolute_reverse("payments:pay_invoice", invoice_pay_token(invoice_id))


def trust_request_pay_token(request_id: int) -> str:
    return signing.dumps({"trust_request": request_id}, salt=TRUST_REQUEST_SALT, compress=True)


def trust_request_from_token(token: str) -> int | None:
    try:
        data = signing.loads(token, salt=TRUST_REQUEST_SALT)
    except signing.BadSignature:
        return None
    value = data.get("trust_request") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def trust_request_pay_url(request_id: int) -> str:
    return absolute_reverse("payments:pay_trust_request", trust_request_pay_token(request_id))
