"""The provider interface. A provider opens hosted checkouts and turns its (verified) webhook
payloads into ``PaymentEvent``s; it never touches the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from caseledger.payments.models import Payment

EventKind = Literal[
    "paid",
    "processing",
    "failed",
    "expired",
    "refunded",
    "dispute_created",
    "dispute_closed",
    "ignored",
]


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
class RefundInfo:
    """One refund of a charge, as the provider reports it."""

    refund_id: str
    amount_cents: int
    status: str  # the provider's word: succeeded, pending, failed, canceled...
    # CaseLedger's idempotency key when CaseLedger asked for the refund (Stripe metadata).
    idempotency_key: str = ""


@dataclass(frozen=True)
class PaymentEvent:
    """A verified provider event, mapped. Text is as the provider sent it (not yet cut to any
    column: the services cut it where it lands); ``payload`` is the verified body, kept whole
    with the processed event."""

    event_id: str
    event_type: str
    kind: EventKind
    provider_session_id: str = ""
    amount_cents: int = 0  # cents the payer paid (refunded / disputed for those kinds)
    fee_cents: int = 0  # cents the processor keeps
    currency: str = "USD"
    charge_ref: str = ""  # provider payment id (Stripe PaymentIntent), kept as the reference
    payer: str = ""
    payload: str = ""
    # charge.refunded: the cumulative refunded amount and the refunds listed on the charge
    # (Stripe lists them only when the endpoint expands ``refunds``).
    charge_id: str = ""
    amount_refunded_cents: int = 0
    refunds: tuple[RefundInfo, ...] = ()
    # charge.dispute.*: the dispute and where it stands.
    dispute_id: str = ""
    dispute_status: str = ""
    dispute_reason: str = ""


class PaymentProvider(Protocol):
    name: str

    def checkout_create(self, request: CheckoutRequest) -> CreatedCheckout: ...

    def event_parse(
        self, *, payload: bytes, signature_header: str, now: datetime
    ) -> PaymentEvent: ...

    def refund_create(self, payment: Payment, amount_cents: int, *, idempotency_key: str) -> str:
        """Refund ``amount_cents`` of ``payment`` at the provider; returns the provider's refund
        id. The same ``idempotency_key`` sent again returns the first refund, never a second.
        Raises ProviderError (``retryable`` when the outcome is unknown)."""
        ...
