"""Stripe: Checkout Sessions through the ``stripe`` SDK and signed webhooks verified with
``stripe.Webhook.construct_event``. Network calls happen outside database transactions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import stripe

from caseledger.core.links import absolute_url
from caseledger.payments.exceptions import ProviderError, WebhookSignatureError
from caseledger.payments.providers.base import CheckoutRequest, CreatedCheckout, PaymentEvent

if TYPE_CHECKING:
    from caseledger.payments.models import Payment

SIGNATURE_INVALID = "Stripe-Signature: the webhook signature does not verify"
PAYLOAD_INVALID = "body: not a Stripe event"
SECRET_MISSING = "STRIPE_WEBHOOK_SECRET: not configured; webhooks cannot be verified"
KEY_MISSING = "STRIPE_SECRET_KEY: not configured; cannot open a Stripe checkout"
STRIPE_FAILED = "provider: Stripe refused the request ({detail})"

_KINDS = {
    "checkout.session.async_payment_succeeded": "paid",
    "checkout.session.async_payment_failed": "failed",
    "checkout.session.expired": "expired",
}


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

    def event_parse(self, *, payload: bytes, signature_header: str) -> PaymentEvent:
        """Verify the signature and map the event. Raises WebhookSignatureError."""
        if not self.webhook_secret:
            raise WebhookSignatureError(SECRET_MISSING, field="Stripe-Signature")
        try:
            stripe.Webhook.construct_event(payload, signature_header, self.webhook_secret)
            # Verified: read the exact bytes that were signed as plain JSON.
            event = json.loads(payload)
        except stripe.SignatureVerificationError as exc:
            raise WebhookSignatureError(SIGNATURE_INVALID, field="Stripe-Signature") from exc
        except ValueError as exc:
            raise WebhookSignatureError(PAYLOAD_INVALID, field="body") from exc
        event_type = str(event["type"])
        obj = event["data"]["object"]
        if event_type == "checkout.session.completed":
            kind = (
                "paid"
                if obj.get("payment_status") in {"paid", "no_payment_required"}
                else "processing"
            )
        else:
            kind = _KINDS.get(event_type, "ignored")
        if kind == "ignored":
            return PaymentEvent(event_id=str(event["id"]), event_type=event_type, kind="ignored")
        intent = obj.get("payment_intent") or ""
        if not isinstance(intent, str):
            intent = intent.get("id", "")
        details = obj.get("customer_details") or {}
        amount = int(obj.get("amount_total") or 0)
        return PaymentEvent(
            event_id=str(event["id"]),
            event_type=event_type,
            kind=kind,  # type: ignore[arg-type]
            provider_session_id=str(obj.get("id") or ""),
            amount_cents=amount,
            fee_cents=self.fee_for(intent) if kind == "paid" else 0,
            currency=str(obj.get("currency") or "usd").upper(),
            charge_ref=intent,
            payer=str(details.get("name") or details.get("email") or ""),
        )

    def refund_create(self, payment: Payment, amount_cents: int) -> str:
        if not self.secret_key:
            raise ProviderError(KEY_MISSING)
        try:
            refund = stripe.Refund.create(
                api_key=self.secret_key, payment_intent=payment.reference, amount=amount_cents
            )
        except stripe.StripeError as exc:
            raise ProviderError(STRIPE_FAILED.format(detail=exc.user_message or exc)) from exc
        return str(refund.id)
