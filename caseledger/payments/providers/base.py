"""The provider interface. A provider opens hosted checkouts and turns its (verified) webhook
payloads into ``PaymentEvent``s; it never touches the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from caseledger.payments.models import Payment

EventKind = Literal["paid", "processing", "failed", "expired", "ignored"]


@dataclass(frozen=True)
class CheckoutRequest:
    token: str  # our CheckoutSession.token
    amount_cents: int
    currency: str
    description: str
    customer_email: str
    return_url: str  # where the payer comes back to (the pay page)


@dataclass(frozen=True)
class CreatedCheckout:
    provider_session_id: str
    url: str


@dataclass(frozen=True)
class PaymentEvent:
    event_id: str
    event_type: str
    kind: EventKind
    provider_session_id: str = ""
    amount_cents: int = 0  # cents the payer paid
    fee_cents: int = 0  # cents the processor keeps
    currency: str = "USD"
    charge_ref: str = ""  # provider payment id, kept as the payment reference
    payer: str = ""


class PaymentProvider(Protocol):
    name: str

    def checkout_create(self, request: CheckoutRequest) -> CreatedCheckout: ...

    def event_parse(self, *, payload: bytes, signature_header: str) -> PaymentEvent: ...

    def refund_create(self, payment: Payment, amount_cents: int) -> str: ...
