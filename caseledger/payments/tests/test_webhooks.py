"""The Stripe webhook against what arrives from outside, every body signed with Stripe's own SDK
(``stripe.WebhookSignature``): text longer than its column is recorded (cut, the stored event
keeps it whole); a signed body of an unexpected shape answers 400 with a JSON message, never
500; a timestamp more than five minutes off either way is refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from caseledger.payments.choices import CheckoutPurpose, CheckoutStatus, PaymentStatus
from caseledger.payments.exceptions import WebhookPayloadError, WebhookSignatureError
from caseledger.payments.models import CheckoutSession, Payment, ProcessedWebhookEvent
from caseledger.payments.providers.stripe import StripeProvider
from caseledger.payments.tests import stripe_helpers as S
from caseledger.payments.tests.factories import MatterFactory, issued_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_settings(settings):
    settings.STRIPE_WEBHOOK_SECRET = S.TEST_WEBHOOK_SECRET
    settings.STRIPE_SECRET_KEY = ""
    return settings


@pytest.fixture
def invoice_session(now):
    invoice = issued_invoice(matter=MatterFactory(), cents=75_000, now=now)
    CheckoutSession.objects.create(
        provider="stripe",
        provider_session_id="cs_test_1",
        purpose=CheckoutPurpose.INVOICE,
        client=invoice.client,
        matter=invoice.matter,
        invoice=invoice,
        amount_cents=75_000,
        created_at=now,
    )
    return invoice


def post(client, payload: bytes, signature: str | None = None):
    return client.post(
        reverse("payments:stripe_webhook"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=S.sign(payload) if signature is None else signature,
    )


def field_length(model: Any, name: str) -> int:
    return int(model._meta.get_field(name).max_length)


# --- text longer than its column -------------------------------------------------------------


def test_sdk_signature_is_the_documented_hmac():
    payload = S.checkout_completed(session_id="cs_x", amount_cents=100)
    assert S.sign(payload, timestamp=1_700_000_000) == S.sign_by_hand(
        payload, timestamp=1_700_000_000
    )


@pytest.mark.parametrize(
    ("details", "intent_length", "want_payer"),
    [
        ({"name": "N" * 2_000, "email": "maria@example.com"}, 27, "N" * 200),
        ({"name": None, "email": "e" * 1_990 + "@x.example"}, 27, "e" * 200),
        ({"name": "", "email": "m" * 1_990 + "@x.example"}, 27, "m" * 200),
        ({"name": "Maria Garcia", "email": None}, 1_200, "Maria Garcia"),
    ],
    ids=["name-10x", "email-10x-no-name", "email-10x-blank-name", "payment-intent-10x"],
)
def test_text_at_ten_times_its_column_is_recorded_cut_and_kept_whole_in_the_event(
    client, stripe_settings, invoice_session, details, intent_length, want_payer
):
    assert field_length(Payment, "payer") * 10 == 2_000
    assert field_length(Payment, "reference") * 10 == 1_200
    intent = "pi_" + "p" * (intent_length - 3)
    payload = S.checkout_completed(
        session_id="cs_test_1",
        amount_cents=75_000,
        payment_intent=intent,
        customer_details=details,
        event_id="evt_long_text",
    )
    response = post(client, payload)
    assert response.status_code == 200, response.content
    assert response.content.decode().startswith("recorded P-")
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.RECEIVED
    assert payment.payer == want_payer
    assert payment.reference == intent[:120]
    stored = ProcessedWebhookEvent.objects.get(event_id="evt_long_text")
    assert stored.payload == payload.decode()
    body = json.loads(stored.payload)["data"]["object"]
    assert body["customer_details"] == details
    assert body["payment_intent"] == intent
    session = CheckoutSession.objects.get()
    assert session.status == CheckoutStatus.PAID
    assert session.payment_ref == intent[:255]


def test_event_type_at_ten_times_its_column_is_acknowledged_and_stored_cut(
    client, stripe_settings, invoice_session
):
    long_type = "x" * (field_length(ProcessedWebhookEvent, "event_type") * 10)
    payload = json.dumps(S.event(long_type, {"id": "obj_1"}, event_id="evt_long_type")).encode()
    response = post(client, payload)
    assert response.status_code == 200
    assert response.content == b"ignored"
    stored = ProcessedWebhookEvent.objects.get(event_id="evt_long_type")
    assert stored.event_type == long_type[:100]
    assert json.loads(stored.payload)["type"] == long_type


def test_trust_request_payer_and_reference_at_ten_times_their_columns(client, now, stripe_settings):
    from caseledger.trust.models import TrustDeposit
    from caseledger.trust.services import trust_request_create

    matter = MatterFactory()
    req = trust_request_create(
        client=matter.client,
        matter=matter,
        kind="RETAINER",
        amount_cents=250_000,
        due_date=now.date(),
        actor=None,
        now=now,
        send=False,
    )
    CheckoutSession.objects.create(
        provider="stripe",
        provider_session_id="cs_trust_1",
        purpose=CheckoutPurpose.TRUST_REQUEST,
        client=matter.client,
        matter=matter,
        trust_request_id=req.pk,
        amount_cents=250_000,
        created_at=now,
    )
    intent = "pi_" + "t" * 2_547  # 10x the provider_ref column
    payload = S.checkout_completed(
        session_id="cs_trust_1",
        amount_cents=250_000,
        payment_intent=intent,
        customer_details={"name": "T" * 2_000, "email": None},
    )
    response = post(client, payload)
    assert response.status_code == 200, response.content
    deposit = TrustDeposit.objects.get()
    assert deposit.payer == "T" * 200
    assert deposit.reference == intent[:120]
    assert deposit.provider_ref == intent[:255]
    assert deposit.amount_cents == 250_000


# --- signed bodies of an unexpected shape ----------------------------------------------------


def _completed(**obj_changes: Any) -> dict[str, Any]:
    body = json.loads(S.checkout_completed(session_id="cs_test_1", amount_cents=75_000))
    body["data"]["object"].update(obj_changes)
    return body


def _without(key: str) -> dict[str, Any]:
    body = _completed()
    del body[key]
    return body


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


NOT_EVENT = "body: not a Stripe event (JSON object in UTF-8 expected)"
CENTS = "must be a whole number of cents between {low} and 999999999999 (got {got})"
TOTAL = "data.object.amount_total: " + CENTS
UNSTORABLE = "contains a NUL character or a lone surrogate"
LONE_SURROGATE = (
    b'{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": '
    b'{"id": "cs_test_1", "customer_details": {"name": "\\ud800"}}}}'
)
DISPUTE_NO_STATUS = S.event(
    "charge.dispute.created",
    {"id": "dp_1", "amount": 100, "currency": "usd", "payment_intent": "pi_1"},
)

BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "array": (b"[]", NOT_EVENT),
    "string": (b'"checkout.session.completed"', NOT_EVENT),
    "null": (b"null", NOT_EVENT),
    "number": (b"42", NOT_EVENT),
    "not-json": (b"{not json", NOT_EVENT),
    "deeply-nested": (b"[" * 100_000 + b"]" * 100_000, NOT_EVENT),
    "huge-number": (b'{"id": ' + b"9" * 5_000 + b"}", NOT_EVENT),
    "no-type": (_dumps(_without("type")), "type: required"),
    "type-not-text": (_dumps({**_completed(), "type": 7}), "type: must be a string"),
    "no-data": (_dumps(_without("data")), "data: required"),
    "data-null": (_dumps({**_completed(), "data": None}), "data: must be an object"),
    "object-null": (
        _dumps({**_completed(), "data": {"object": None}}),
        "data.object: must be an object",
    ),
    "object-string": (
        _dumps({**_completed(), "data": {"object": "cs_test_1"}}),
        "data.object: must be an object",
    ),
    "no-id": (_dumps(_without("id")), "id: required"),
    "id-1mb": (
        _dumps({**_completed(), "id": "evt_" + "x" * 1_000_000}),
        "id: at most 255 characters (got 1000004)",
    ),
    "amount-negative": (_dumps(_completed(amount_total=-100)), TOTAL.format(low=1, got=-100)),
    "amount-zero": (_dumps(_completed(amount_total=0)), TOTAL.format(low=1, got=0)),
    "amount-missing": (_dumps(_completed(amount_total=None)), TOTAL.format(low=1, got=None)),
    "amount-text": (
        _dumps(_completed(amount_total="75000")),
        TOTAL.format(low=1, got="'75000'"),
    ),
    "amount-float": (_dumps(_completed(amount_total=750.5)), TOTAL.format(low=1, got=750.5)),
    "amount-bool": (_dumps(_completed(amount_total=True)), TOTAL.format(low=1, got=True)),
    "amount-huge": (_dumps(_completed(amount_total=10**30)), TOTAL.format(low=1, got=10**30)),
    "currency-bad": (
        _dumps(_completed(currency="us dollars")),
        "data.object.currency: must be a three-letter ISO 4217 code (got 'us dollars')",
    ),
    "session-id-number": (_dumps(_completed(id=12)), "data.object.id: must be a string"),
    "customer-details-string": (
        _dumps(_completed(customer_details="Maria")),
        "data.object.customer_details: must be an object",
    ),
    "name-number": (
        _dumps(_completed(customer_details={"name": 5})),
        "data.object.customer_details.name: must be a string",
    ),
    "nul-in-name": (
        _dumps(_completed(customer_details={"name": "Maria\u0000Garcia"})),
        "data.object.customer_details.name: " + UNSTORABLE,
    ),
    "lone-surrogate": (LONE_SURROGATE, "data.object.customer_details.name: " + UNSTORABLE),
    "nul-in-key": (_dumps({**_completed(), "extra": {"a\u0000": 1}}), "extra key: " + UNSTORABLE),
    "refund-amount-negative": (
        S.charge_refunded(payment_intent="pi_1", amount_cents=100, amount_refunded_cents=-5),
        "data.object.amount_refunded: " + CENTS.format(low=0, got=-5),
    ),
    "dispute-no-status": (_dumps(DISPUTE_NO_STATUS), "data.object.status: required"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_signed_body_of_unexpected_shape_answers_400_json_and_records_nothing(
    client, stripe_settings, invoice_session, case
):
    payload, message = BAD_BODIES[case]
    response = post(client, payload, S.sign_by_hand(payload))
    assert response.status_code == 400, (case, response.content[:300])
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "bad_payload"
    assert body["message"] == message
    assert not Payment.objects.exists()
    assert not ProcessedWebhookEvent.objects.exists()
    assert CheckoutSession.objects.get().status == CheckoutStatus.OPEN


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(0, True), (-290, True), (290, True), (-3_600, False), (3_600, False)]
    + [(-305, False), (305, False)],
)
def test_signature_timestamp_within_five_minutes_either_way(
    client, stripe_settings, invoice_session, offset, accepted
):
    payload = S.checkout_completed(session_id="cs_test_1", amount_cents=75_000)
    t = int(timezone.now().timestamp()) + offset
    response = post(client, payload, S.sign(payload, timestamp=t))
    if accepted:
        assert response.status_code == 200, response.content
        assert Payment.objects.count() == 1
        return
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("Stripe-Signature: the signature's timestamp is ")
    assert message.endswith(" seconds from now; at most 300 are accepted")
    assert not Payment.objects.exists()
    assert not ProcessedWebhookEvent.objects.exists()


def test_provider_checks_the_timestamp_against_the_now_it_is_given():
    provider = StripeProvider(secret_key="", webhook_secret=S.TEST_WEBHOOK_SECRET)
    payload = S.checkout_completed(session_id="cs_x", amount_cents=100)
    now = timezone.now().replace(microsecond=0)
    header = S.sign(payload, timestamp=int(now.timestamp()) + 3_600)
    with pytest.raises(WebhookSignatureError) as refused:
        provider.event_parse(payload=payload, signature_header=header, now=now)
    assert refused.value.message == (
        "Stripe-Signature: the signature's timestamp is 3600 seconds from now; at most 300 "
        "are accepted"
    )
    later = now + timedelta(hours=1)
    assert provider.event_parse(payload=payload, signature_header=header, now=later).kind == "paid"
    with pytest.raises(WebhookPayloadError):
        provider.event_parse(payload=b"[]", signature_header=S.sign(b"[]"), now=now)


def test_unsigned_or_wrongly_signed_weird_bodies_are_signature_errors(
    client, stripe_settings, invoice_session
):
    for payload in (b"[]", b"\xff", b""):
        response = post(client, payload, "t=1,v1=00")
        assert response.status_code == 400
        assert response.json()["error"] == "bad_signature"
    # Not UTF-8: Stripe signs UTF-8 text, so such a body never verifies, even signed by hand.
    payload = b'{"id": "\xff\xfe"}'
    response = post(client, payload, S.sign_by_hand(payload))
    assert response.status_code == 400
    assert response.json()["error"] == "bad_signature"
    response = post(client, b"{}", "garbage")
    assert response.status_code == 400
    assert response.json()["message"] == "Stripe-Signature: the webhook signature does not verify"
