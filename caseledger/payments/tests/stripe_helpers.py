"""Build Stripe webhook payloads and sign them with Stripe's own SDK
(``stripe.WebhookSignature.generate_signature_header``): ``t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<payload>" with the endpoint secret>``, as Stripe documents. ``sign_by_hand`` computes the
same header without the SDK, to show the two agree."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import stripe

TEST_WEBHOOK_SECRET = "whsec_test_caseledger_0123456789abcdef"


def sign(payload: bytes, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode("utf-8", errors="surrogateescape"), secret, timestamp=t
    )


def sign_by_hand(
    payload: bytes, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None
) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def event(event_type: str, obj: Any, *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


def charge_refunded(
    *,
    payment_intent: str,
    amount_cents: int,
    amount_refunded_cents: int,
    refunds: list[tuple[str, int]] | None = None,
    refund_status: str = "succeeded",
    charge_id: str = "ch_test_1",
    currency: str = "usd",
    event_id: str | None = None,
    metadata: dict[str, dict[str, str]] | None = None,
) -> bytes:
    """A ``charge.refunded`` event: the Charge with its cumulative ``amount_refunded``; with
    ``refunds`` (id, cents) oldest first, the expanded ``refunds`` list (Stripe: newest first)."""
    charge: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": amount_cents,
        "amount_refunded": amount_refunded_cents,
        "currency": currency,
        "payment_intent": payment_intent,
        "refunded": amount_refunded_cents == amount_cents,
    }
    if refunds is not None:
        charge["refunds"] = {
            "object": "list",
            "data": [
                {
                    "id": rid,
                    "object": "refund",
                    "amount": cents,
                    "charge": charge_id,
                    "currency": currency,
                    "payment_intent": payment_intent,
                    "status": refund_status,
                    "metadata": (metadata or {}).get(rid, {}),
                }
                for rid, cents in reversed(refunds)
            ],
            "has_more": False,
        }
    return json.dumps(event("charge.refunded", charge, event_id=event_id)).encode()


def dispute(
    *,
    event_type: str,
    payment_intent: str,
    amount_cents: int,
    status: str,
    dispute_id: str = "dp_test_1",
    reason: str = "fraudulent",
    event_id: str | None = None,
) -> bytes:
    """A ``charge.dispute.*`` event (status: warning_needs_response, needs_response,
    under_review, won, lost, warning_closed...)."""
    obj = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount_cents,
        "charge": "ch_test_1",
        "currency": "usd",
        "payment_intent": payment_intent,
        "reason": reason,
        "status": status,
    }
    return json.dumps(event(event_type, obj, event_id=event_id)).encode()


def checkout_completed(
    *,
    session_id: str,
    amount_cents: int,
    currency: str = "usd",
    event_id: str | None = None,
    payment_status: str = "paid",
    event_type: str = "checkout.session.completed",
    payment_intent: str | None = None,
    customer_details: dict[str, Any] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "amount_total": amount_cents,
                "currency": currency,
                "payment_status": payment_status,
                "payment_intent": payment_intent or f"pi_{uuid.uuid4().hex[:24]}",
                "customer_details": (
                    {"name": "Maria Garcia", "email": "maria@example.com"}
                    if customer_details is None
                    else customer_details
                ),
            }
        },
    }
    return json.dumps(body).encode()
