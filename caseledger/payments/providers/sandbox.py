"""The built-in sandbox provider: a hosted-style pay page inside CaseLedger that simulates a
card processor (success, decline, delayed settlement). For the demo and the tests only: it moves
no real money, and its pay page marks a checkout paid for whoever holds the link."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.urls import reverse

from caseledger.payments.providers.base import CheckoutRequest, CreatedCheckout, PaymentEvent

if TYPE_CHECKING:
    from caseledger.payments.models import CheckoutSession, Payment

# The sandbox charges what a typical US card processor does: 2.9% + 30 cents.
FEE_RATE = Decimal("0.029")
FEE_FIXED_CENTS = 30

OUTCOMES = ("success", "decline", "delayed", "settle", "fail_settlement")


def sandbox_fee(amount_cents: int) -> int:
    fee = int((Decimal(amount_cents) * FEE_RATE).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(fee + FEE_FIXED_CENTS, amount_cents)


class SandboxProvider:
    name = "sandbox"

    def checkout_create(self, request: CheckoutRequest) -> CreatedCheckout:
        session_id = f"sbx_cs_{uuid.UUID(request.token).hex}"
        url = reverse("payments:sandbox_checkout", args=[session_id])
        if request.return_url.startswith("/") and not request.return_url.startswith("//"):
            # A page of this site to come back to (the portal's invoices): the hosted page's
            # "Return" link goes there, as a real processor's success URL does.
            url += "?" + urlencode({"return": request.return_url})
        return CreatedCheckout(provider_session_id=session_id, url=url)

    def event_parse(self, *, payload: bytes, signature_header: str, now: datetime) -> PaymentEvent:
        raise NotImplementedError("the sandbox delivers its events in process (sandbox_event)")

    def refund_create(self, payment: Payment, amount_cents: int, *, idempotency_key: str) -> str:
        """Like a real processor: a key seen before returns its first refund, so a retry after
        a crash never refunds twice. Every refund is counted (``sandbox_refunds``)."""
        with _refunds_lock:
            known = _refunds.get(idempotency_key)
            if known is not None:
                return known.refund_id
            refund = SandboxRefund(
                refund_id=f"sbx_re_{uuid.uuid4().hex[:16]}",
                payment_id=payment.pk,
                amount_cents=amount_cents,
            )
            _refunds[idempotency_key] = refund
            return refund.refund_id


@dataclass(frozen=True)
class SandboxRefund:
    refund_id: str
    payment_id: int
    amount_cents: int


# The sandbox processor's own books, in memory: one refund per idempotency key. (It lives in
# the process, as a real processor lives outside CaseLedger's database: a rolled-back
# transaction does not undo a refund it made.)
_refunds: dict[str, SandboxRefund] = {}
_refunds_lock = threading.Lock()


def sandbox_refunds() -> dict[str, SandboxRefund]:
    """Every refund the sandbox made, by idempotency key (a copy)."""
    with _refunds_lock:
        return dict(_refunds)


def sandbox_refunds_clear() -> None:
    """Forget the sandbox's refunds (tests)."""
    with _refunds_lock:
        _refunds.clear()


def sandbox_event(*, session: CheckoutSession, outcome: str, payer: str = "") -> PaymentEvent:
    """The event the sandbox 'processor' sends for a button pressed on its pay page."""
    event_id = f"sbx_evt_{uuid.uuid4().hex}"
    base = {
        "event_id": event_id,
        "provider_session_id": session.provider_session_id or "",
        "currency": session.currency,
        "payer": payer,
    }
    if outcome == "success" or outcome == "settle":
        return PaymentEvent(
            event_type=f"sandbox.{outcome}",
            kind="paid",
            amount_cents=session.amount_cents,
            fee_cents=sandbox_fee(session.amount_cents),
            charge_ref=f"sbx_ch_{uuid.uuid4().hex[:16]}",
            **base,  # type: ignore[arg-type]
        )
    if outcome == "delayed":
        return PaymentEvent(event_type="sandbox.delayed", kind="processing", **base)  # type: ignore[arg-type]
    if outcome in {"decline", "fail_settlement"}:
        return PaymentEvent(event_type=f"sandbox.{outcome}", kind="failed", **base)  # type: ignore[arg-type]
    raise ValueError(f"outcome: must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
