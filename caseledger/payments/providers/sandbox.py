"""The built-in sandbox provider: a hosted-style pay page inside CaseLedger that simulates a
card processor (success, decline, delayed settlement). For the demo and the tests only: it moves
no real money, and its pay page marks a checkout paid for whoever holds the link."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

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
        return CreatedCheckout(
            provider_session_id=session_id,
            url=reverse("payments:sandbox_checkout", args=[session_id]),
        )

    def event_parse(self, *, payload: bytes, signature_header: str, now: datetime) -> PaymentEvent:
        raise NotImplementedError("the sandbox delivers its events in process (sandbox_event)")

    def refund_create(self, payment: Payment, amount_cents: int) -> str:
        return f"sbx_re_{uuid.uuid4().hex[:16]}"


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
