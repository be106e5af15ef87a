"""Build Stripe webhook payloads and Stripe-Signature headers the way stripe's own test helpers
do: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" with the endpoint secret>``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

TEST_WEBHOOK_SECRET = "whsec_test_caseledger_0123456789abcdef"


def sign(payload: bytes, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def checkout_completed(
    *,
    session_id: str,
    amount_cents: int,
    currency: str = "usd",
    event_id: str | None = None,
    payment_status: str = "paid",
    event_type: str = "checkout.session.completed",
    payment_intent: str | None = None,
) -> bytes:
    event: dict[str, Any] = {
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
                "customer_details": {"name": "Maria Garcia", "email": "maria@example.com"},
            }
        },
    }
    return json.dumps(event).encode()
