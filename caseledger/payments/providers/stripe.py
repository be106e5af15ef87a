"""Stripe: Checkout Sessions through the ``stripe`` SDK and signed webhooks verified with
``stripe.Webhook.construct_event``. Network calls happen outside database transactions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import stripe

from caseledger.core.links import absolute_url
from caseledger.payments.exceptions import (
    ProviderError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from caseledger.payments.providers.base import (
    CheckoutRequest,
    CreatedCheckout,
    PaymentEvent,
    RefundInfo,
)

if TYPE_CHECKING:
    from caseledger.payments.models import Payment

SIGNATURE_INVALID = "Stripe-Signature: the webhook signature does not verify"
TIMESTAMP_OUTSIDE = (
    "Stripe-Signature: the signature's timestamp is {seconds} seconds from now; at most "
    "{tolerance} are accepted"
)
PAYLOAD_INVALID = "body: not a Stripe event (JSON object in UTF-8 expected)"
FIELD_MISSING = "{path}: required"
FIELD_NOT_OBJECT = "{path}: must be an object"
FIELD_NOT_TEXT = "{path}: must be a string"
FIELD_TOO_LONG = "{path}: at most {limit} characters (got {length})"
FIELD_EMPTY = "{path}: must not be empty"
FIELD_NOT_STORABLE = "{path}: contains a NUL character or a lone surrogate"
FIELD_NOT_CENTS = "{path}: must be a whole number of cents between {low} and {high} (got {value})"
CURRENCY_INVALID = "{path}: must be a three-letter ISO 4217 code (got {value})"
SECRET_MISSING = "STRIPE_WEBHOOK_SECRET: not configured; webhooks cannot be verified"
# The refund's metadata carries CaseLedger's idempotency key, so charge.refunded can tell a
# refund CaseLedger asked for from one made in the Stripe dashboard.
REFUND_METADATA_KEY = "caseledger_refund"
KEY_MISSING = "STRIPE_SECRET_KEY: not configured; cannot open a Stripe checkout"
STRIPE_FAILED = "provider: Stripe refused the request ({detail})"

# Stripe's own default: a signature more than 5 minutes from now (either way) is refused.
TOLERANCE_SECONDS = 300
# Stripe amounts have at most 12 digits (in the smallest unit) in any currency.
AMOUNT_MAX_CENTS = 999_999_999_999
# The event id is the idempotency key: never cut, so longer is refused (its column's length).
EVENT_ID_MAX = 255

_KINDS = {
    "checkout.session.async_payment_succeeded": "paid",
    "checkout.session.async_payment_failed": "failed",
    "checkout.session.expired": "expired",
    "charge.refunded": "refunded",
    "charge.dispute.created": "dispute_created",
    "charge.dispute.closed": "dispute_closed",
}


def _refuse(template: str, **kw: Any) -> WebhookPayloadError:
    return WebhookPayloadError(template.format(**kw), field=str(kw.get("path") or "body"))


def _storable_everywhere(event: Any) -> None:
    """Refuse a NUL character or a lone surrogate anywhere in the event (keys and values):
    neither can be stored in PostgreSQL text, so they would fail at the database instead."""
    stack: list[tuple[str, Any]] = [("event", event)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if not _is_storable(key):
                    raise _refuse(FIELD_NOT_STORABLE, path=f"{path} key")
                stack.append((f"{path}.{key}" if path != "event" else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, str) and not _is_storable(value):
            raise _refuse(FIELD_NOT_STORABLE, path=path)


def _is_storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _signed_at(header: str) -> int:
    """The ``t=`` of a Stripe-Signature header that has verified (so it is well formed)."""
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            return int(value)
    raise WebhookSignatureError(SIGNATURE_INVALID, field="Stripe-Signature")


def _object(parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = parent.get(key)
    if value is None and key not in parent:
        raise _refuse(FIELD_MISSING, path=path)
    if not isinstance(value, dict):
        raise _refuse(FIELD_NOT_OBJECT, path=path)
    return value


def _text(
    parent: dict[str, Any], key: str, path: str, *, required: bool = False, limit: int = 0
) -> str:
    """A string field: None/absent is "" unless required; other types are refused; ``limit``
    refuses longer values (ids that are keys; free text is cut where it lands instead)."""
    value = parent.get(key)
    if value is None:
        if required:
            raise _refuse(FIELD_MISSING, path=path)
        return ""
    if not isinstance(value, str):
        raise _refuse(FIELD_NOT_TEXT, path=path)
    if required and not value:
        raise _refuse(FIELD_EMPTY, path=path)
    if limit and len(value) > limit:
        raise _refuse(FIELD_TOO_LONG, path=path, limit=limit, length=len(value))
    return value


def _id_or_object(parent: dict[str, Any], key: str, path: str) -> str:
    """An expandable field: Stripe sends an id, or the object itself when expanded."""
    value = parent.get(key)
    if isinstance(value, dict):
        return _text(value, "id", f"{path}.id")
    return _text(parent, key, path)


def _cents(parent: dict[str, Any], key: str, path: str, *, low: int = 1) -> int:
    value = parent.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= AMOUNT_MAX_CENTS
    ):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        raise _refuse(FIELD_NOT_CENTS, path=path, low=low, high=AMOUNT_MAX_CENTS, value=shown)
    return value


def _currency(parent: dict[str, Any], path: str) -> str:
    value = parent.get("currency")
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isalpha():
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        raise _refuse(CURRENCY_INVALID, path=path, value=shown)
    return value.upper()


def _absolute(url: str) -> str:
    return absolute_url(url)


class StripeProvider:
    name = "stripe"

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        fee_lookup: Callable[[str], int] | None = None,
    ) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self._fee_lookup = fee_lookup

    def checkout_create(self, request: CheckoutRequest) -> CreatedCheckout:
        if not self.secret_key:
            raise ProviderError(KEY_MISSING)
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_cents,
                        "product_data": {"name": request.description[:250]},
                    },
                }
            ],
            "client_reference_id": request.token,
            "metadata": {"caseledger_checkout": request.token},
            "success_url": _absolute(request.return_url) + "?checkout=done",
            "cancel_url": _absolute(request.return_url) + "?checkout=cancelled",
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        try:
            session = stripe.checkout.Session.create(api_key=self.secret_key, **params)
        except stripe.StripeError as exc:
            raise ProviderError(STRIPE_FAILED.format(detail=exc.user_message or exc)) from exc
        return CreatedCheckout(provider_session_id=session.id, url=session.url or "")

    def fee_for(self, payment_intent_id: str) -> int:
        """The processor fee of a payment, from its charge's balance transaction (cents)."""
        if self._fee_lookup is not None:
            return self._fee_lookup(payment_intent_id)
        if not self.secret_key or not payment_intent_id:
            return 0
        try:
            intent = stripe.PaymentIntent.retrieve(
                payment_intent_id,
                api_key=self.secret_key,
                expand=["latest_charge.balance_transaction"],
            )
            charge = intent.latest_charge
            txn = getattr(charge, "balance_transaction", None)
            return int(getattr(txn, "fee", 0) or 0)
        except stripe.StripeError:
            # The payment is real either way; a missing fee shows as 0 and the bank
            # reconciliation surfaces the difference. Never lose the payment over it.
            return 0

    def event_parse(self, *, payload: bytes, signature_header: str, now: datetime) -> PaymentEvent:
        """Verify the signature (Stripe's own ``WebhookSignature``) and that its timestamp is
        within ``TOLERANCE_SECONDS`` of ``now`` either way, then read the event.

        Raises WebhookSignatureError (bad or stale signature) or WebhookPayloadError (a signed
        body that is not an event of the expected shape); nothing is recorded on either."""
        if not self.webhook_secret:
            raise WebhookSignatureError(SECRET_MISSING, field="Stripe-Signature")
        # Stripe signs UTF-8 text; a body that is not UTF-8 cannot carry its signature (the
        # replacement characters make sure it does not verify).
        text = payload.decode("utf-8", errors="replace")
        try:
            stripe.WebhookSignature.verify_header(text, signature_header, self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookSignatureError(SIGNATURE_INVALID, field="Stripe-Signature") from exc
        # The SDK refuses only old timestamps; refuse those from the future too, against the
        # caller's clock.
        offset = _signed_at(signature_header) - now.timestamp()
        if abs(offset) > TOLERANCE_SECONDS:
            raise WebhookSignatureError(
                TIMESTAMP_OUTSIDE.format(seconds=round(offset), tolerance=TOLERANCE_SECONDS),
                field="Stripe-Signature",
            )
        try:
            event = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise WebhookPayloadError(PAYLOAD_INVALID, field="body") from exc
        if not isinstance(event, dict):
            raise WebhookPayloadError(PAYLOAD_INVALID, field="body")
        _storable_everywhere(event)
        return self._event_map(event, text)

    def _event_map(self, event: dict[str, Any], text: str) -> PaymentEvent:
        event_id = _text(event, "id", "id", required=True, limit=EVENT_ID_MAX)
        event_type = _text(event, "type", "type", required=True)
        data = _object(event, "data", "data")
        obj = _object(data, "object", "data.object")
        if event_type == "checkout.session.completed":
            kind = (
                "paid"
                if obj.get("payment_status") in {"paid", "no_payment_required"}
                else "processing"
            )
        else:
            kind = _KINDS.get(event_type, "ignored")
        base: dict[str, Any] = {"event_id": event_id, "event_type": event_type, "payload": text}
        if kind == "ignored":
            return PaymentEvent(kind="ignored", **base)
        if kind == "refunded":
            return self._refund_event(obj, base)
        if kind in {"dispute_created", "dispute_closed"}:
            return PaymentEvent(
                kind=kind,  # type: ignore[arg-type]
                dispute_id=_text(obj, "id", "data.object.id", required=True),
                amount_cents=_cents(obj, "amount", "data.object.amount"),
                currency=_currency(obj, "data.object.currency"),
                charge_id=_id_or_object(obj, "charge", "data.object.charge"),
                charge_ref=_id_or_object(obj, "payment_intent", "data.object.payment_intent"),
                dispute_status=_text(obj, "status", "data.object.status", required=True),
                dispute_reason=_text(obj, "reason", "data.object.reason"),
                **base,
            )
        session_id = _text(obj, "id", "data.object.id", required=True)
        if kind in {"failed", "expired"}:
            return PaymentEvent(kind=kind, provider_session_id=session_id, **base)  # type: ignore[arg-type]
        amount = _cents(obj, "amount_total", "data.object.amount_total")
        currency = _currency(obj, "data.object.currency")
        intent = _id_or_object(obj, "payment_intent", "data.object.payment_intent")
        details = obj.get("customer_details")
        if details is None:
            details = {}
        elif not isinstance(details, dict):
            raise _refuse(FIELD_NOT_OBJECT, path="data.object.customer_details")
        name = _text(details, "name", "data.object.customer_details.name")
        email = _text(details, "email", "data.object.customer_details.email")
        return PaymentEvent(
            kind=kind,  # type: ignore[arg-type]
            provider_session_id=session_id,
            amount_cents=amount,
            fee_cents=min(self.fee_for(intent), amount) if kind == "paid" else 0,
            currency=currency,
            charge_ref=intent,
            payer=(name or email).strip(),
            **base,
        )

    def _refund_event(self, obj: dict[str, Any], base: dict[str, Any]) -> PaymentEvent:
        """charge.refunded: ``amount_refunded`` is cumulative; ``refunds.data`` lists each
        refund when the endpoint expands it (Stripe API 2022-11-15 and later omit it)."""
        refunds: list[RefundInfo] = []
        listed = obj.get("refunds")
        if isinstance(listed, dict) and isinstance(listed.get("data"), list):
            for i, item in enumerate(listed["data"]):
                path = f"data.object.refunds.data[{i}]"
                if not isinstance(item, dict):
                    raise _refuse(FIELD_NOT_OBJECT, path=path)
                metadata = item.get("metadata")
                refunds.append(
                    RefundInfo(
                        refund_id=_text(item, "id", f"{path}.id", required=True),
                        amount_cents=_cents(item, "amount", f"{path}.amount"),
                        status=_text(item, "status", f"{path}.status"),
                        idempotency_key=_text(
                            metadata, REFUND_METADATA_KEY, f"{path}.metadata.{REFUND_METADATA_KEY}"
                        )
                        if isinstance(metadata, dict)
                        else "",
                    )
                )
        elif listed is not None and not isinstance(listed, dict):
            raise _refuse(FIELD_NOT_OBJECT, path="data.object.refunds")
        return PaymentEvent(
            kind="refunded",
            charge_id=_text(obj, "id", "data.object.id", required=True),
            charge_ref=_id_or_object(obj, "payment_intent", "data.object.payment_intent"),
            amount_cents=_cents(obj, "amount", "data.object.amount"),
            amount_refunded_cents=_cents(
                obj, "amount_refunded", "data.object.amount_refunded", low=0
            ),
            currency=_currency(obj, "data.object.currency"),
            refunds=tuple(refunds),
            **base,
        )

    def refund_create(self, payment: Payment, amount_cents: int, *, idempotency_key: str) -> str:
        if not self.secret_key:
            raise ProviderError(KEY_MISSING)
        try:
            refund = stripe.Refund.create(
                api_key=self.secret_key,
                payment_intent=payment.reference,
                amount=amount_cents,
                idempotency_key=idempotency_key,
                metadata={REFUND_METADATA_KEY: idempotency_key},
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            # No answer or Stripe's own failure: the refund may exist. Same key next time.
            raise ProviderError(
                STRIPE_FAILED.format(detail=exc.user_message or exc), retryable=True
            ) from exc
        except stripe.StripeError as exc:
            raise ProviderError(STRIPE_FAILED.format(detail=exc.user_message or exc)) from exc
        return str(refund.id)
