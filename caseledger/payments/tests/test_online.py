"""Online payments: pay pages behind signed links, the sandbox processor, the Stripe webhook
(signed with a test secret through the real ``stripe`` library), once-only event handling and
amount mismatches held for review."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from caseledger.ledger.models import JournalEntry
from caseledger.payments import links, selectors, services
from caseledger.payments.choices import CheckoutPurpose, CheckoutStatus, PaymentStatus
from caseledger.payments.exceptions import WebhookSignatureError
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


def stripe_session(invoice, now, amount=None, sid="cs_test_1"):
    return CheckoutSession.objects.create(
        provider="stripe",
        provider_session_id=sid,
        purpose=CheckoutPurpose.INVOICE,
        client=invoice.client,
        matter=invoice.matter,
        invoice=invoice,
        amount_cents=amount or invoice.total_cents,
        created_at=now,
    )


def post_webhook(client, payload: bytes, signature: str):
    return client.post(
        reverse("payments:stripe_webhook"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def test_stripe_webhook_signed_with_test_secret_records_payment_once(client, now, stripe_settings):
    invoice = issued_invoice(matter=MatterFactory(), cents=75_000, now=now)
    stripe_session(invoice, now)
    payload = S.checkout_completed(session_id="cs_test_1", amount_cents=75_000, event_id="evt_1")
    first = post_webhook(client, payload, S.sign(payload))
    assert first.status_code == 200, first.content
    assert first.content.decode().startswith("recorded P-")
    again = post_webhook(client, payload, S.sign(payload))
    assert again.status_code == 200
    assert again.content == b"duplicate event"
    assert Payment.objects.count() == 1
    assert selectors.invoice_balance_due(invoice) == 0
    assert CheckoutSession.objects.get().status == CheckoutStatus.PAID


def test_stripe_webhook_bad_signature_400_nothing_recorded(client, now, stripe_settings):
    invoice = issued_invoice(matter=MatterFactory(), cents=75_000, now=now)
    stripe_session(invoice, now)
    payload = S.checkout_completed(session_id="cs_test_1", amount_cents=75_000)
    response = post_webhook(client, payload, S.sign(payload, secret="whsec_wrong"))
    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_signature",
        "field": "Stripe-Signature",
        "message": "Stripe-Signature: the webhook signature does not verify",
    }
    assert not Payment.objects.exists()
    assert not ProcessedWebhookEvent.objects.exists()
    tampered = payload.replace(b"75000", b"75")
    response = post_webhook(client, tampered, S.sign(payload))
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_stripe_amount_mismatch_is_held_not_applied(client, now, stripe_settings, users):
    invoice = issued_invoice(matter=MatterFactory(), cents=75_000, now=now)
    stripe_session(invoice, now)
    payload = S.checkout_completed(session_id="cs_test_1", amount_cents=70_000)
    entries = JournalEntry.objects.count()
    assert post_webhook(client, payload, S.sign(payload)).status_code == 200
    held = Payment.objects.get()
    assert held.status == PaymentStatus.HELD
    assert (
        held.held_reason == "amount: the provider reported $700.00, the checkout asked for $750.00"
    )
    assert JournalEntry.objects.count() == entries
    assert selectors.invoice_balance_due(invoice) == 75_000
    services.held_payment_release(payment=held, actor=users["BILLING"], now=now)
    held.refresh_from_db()
    assert held.status == PaymentStatus.RECEIVED
    assert selectors.invoice_balance_due(invoice) == 5_000


def test_stripe_delayed_payment_then_async_success(client, now, stripe_settings):
    invoice = issued_invoice(matter=MatterFactory(), cents=10_000, now=now)
    stripe_session(invoice, now)
    pending = S.checkout_completed(
        session_id="cs_test_1", amount_cents=10_000, payment_status="unpaid"
    )
    assert post_webhook(client, pending, S.sign(pending)).content == b"awaiting settlement"
    assert not Payment.objects.exists()
    paid = S.checkout_completed(
        session_id="cs_test_1",
        amount_cents=10_000,
        event_type="checkout.session.async_payment_succeeded",
    )
    assert post_webhook(client, paid, S.sign(paid)).status_code == 200
    assert Payment.objects.get().status == PaymentStatus.RECEIVED


def test_stripe_provider_fee_goes_to_card_fees():
    provider = StripeProvider(
        secret_key="", webhook_secret=S.TEST_WEBHOOK_SECRET, fee_lookup=lambda pi: 2_205
    )
    payload = S.checkout_completed(session_id="cs_x", amount_cents=75_000, payment_intent="pi_1")
    event = provider.event_parse(
        payload=payload, signature_header=S.sign(payload), now=timezone.now()
    )
    assert (event.kind, event.amount_cents, event.fee_cents, event.charge_ref) == (
        "paid",
        75_000,
        2_205,
        "pi_1",
    )
    with pytest.raises(WebhookSignatureError):
        provider.event_parse(payload=payload, signature_header="t=1,v1=00", now=timezone.now())


def test_pay_page_shows_balance_and_sandbox_success_pays(client, now):
    invoice = issued_invoice(matter=MatterFactory(), cents=42_000, now=now)
    url = reverse("payments:pay_invoice", args=[links.invoice_pay_token(invoice.pk)])
    page = client.get(url)
    assert page.status_code == 200
    assert "$420.00" in page.content.decode()
    start = client.post(url)
    assert start.status_code == 302
    session = CheckoutSession.objects.get()
    # The hosted page comes back to the page that opened it (the "return" the provider keeps).
    assert start["Location"] == reverse(
        "payments:sandbox_checkout", args=[session.provider_session_id]
    ) + "?" + urlencode({"return": url})
    done = client.post(start["Location"], {"outcome": "success", "payer": "Maria"})
    assert done.status_code == 302
    assert f'href="{url}?checkout=done"' in client.get(done["Location"]).content.decode()
    payment = Payment.objects.get()
    assert payment.fee_cents == 1_248  # 2.9% + 30c
    assert selectors.invoice_balance_due(invoice) == 0
    assert "Paid in full" in client.get(url).content.decode()


def test_sandbox_decline_and_delayed_settlement(client, now):
    invoice = issued_invoice(matter=MatterFactory(), cents=10_000, now=now)
    url = reverse("payments:pay_invoice", args=[links.invoice_pay_token(invoice.pk)])
    sandbox = client.post(url)["Location"]
    client.post(sandbox, {"outcome": "decline"})
    assert CheckoutSession.objects.get().status == CheckoutStatus.DECLINED
    assert not Payment.objects.exists()
    sandbox = client.post(url)["Location"]
    client.post(sandbox, {"outcome": "delayed"})
    assert CheckoutSession.objects.order_by("-id").first().status == CheckoutStatus.PROCESSING
    assert not Payment.objects.exists()
    client.post(sandbox, {"outcome": "settle"})
    assert Payment.objects.count() == 1
    assert selectors.invoice_balance_due(invoice) == 0


def test_forged_or_foreign_pay_link_404(client, now):
    invoice = issued_invoice(matter=MatterFactory(), cents=10_000, now=now)
    token = links.invoice_pay_token(invoice.pk)
    assert client.get(reverse("payments:pay_invoice", args=[token[:-2] + "xx"])).status_code == 404
    trust_token = links.trust_request_pay_token(invoice.pk)
    assert client.get(reverse("payments:pay_invoice", args=[trust_token])).status_code == 404


def test_void_invoice_pay_page_takes_no_payment(client, now):
    from caseledger.billing.models import Invoice

    invoice = issued_invoice(matter=MatterFactory(), cents=10_000, now=now)
    Invoice.objects.filter(pk=invoice.pk).update(status="VOID")
    url = reverse("payments:pay_invoice", args=[links.invoice_pay_token(invoice.pk)])
    assert "cancelled; there is nothing to pay" in client.get(url).content.decode()
    client.post(url)
    assert not CheckoutSession.objects.exists()


def test_trust_request_link_pays_into_trust_only(client, now, django_capture_on_commit_callbacks):
    from caseledger.ledger import accounts as A
    from caseledger.ledger.selectors import account_balance, client_trust_balance
    from caseledger.trust.services import trust_request_create

    matter = MatterFactory()
    issued_invoice(matter=matter, cents=5_000, now=now)  # an open invoice the money must NOT pay
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
    url = reverse("payments:pay_trust_request", args=[links.trust_request_pay_token(req.pk)])
    assert "$2,500.00" in client.get(url).content.decode()
    sandbox = client.post(url)["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(sandbox, {"outcome": "success"})
    assert client_trust_balance(client=matter.client, matter=matter) == 250_000
    assert account_balance(code=A.ACCOUNTS_RECEIVABLE) == 5_000
    assert not Payment.objects.exists()
    req.refresh_from_db()
    assert req.status == "PAID"
    from caseledger.core.models import OutboxMessage

    assert OutboxMessage.objects.filter(key=f"trust.receipt:{req.deposits.get().pk}").exists()


def test_held_trust_request_payment_released_into_trust(now, users):
    from caseledger.ledger.selectors import client_trust_balance
    from caseledger.payments.providers.base import PaymentEvent
    from caseledger.trust.models import TrustDeposit
    from caseledger.trust.services import trust_request_create

    matter = MatterFactory()
    req = trust_request_create(
        client=matter.client,
        matter=matter,
        kind="RETAINER",
        amount_cents=100_000,
        due_date=now.date(),
        actor=None,
        now=now,
        send=False,
    )
    session = services.checkout_create(
        purpose=CheckoutPurpose.TRUST_REQUEST,
        client=matter.client,
        matter=matter,
        trust_request_id=req.pk,
        amount_cents=100_000,
        now=now,
        description="x",
        return_url="/",
    )
    event = PaymentEvent(
        event_id="evt_t1",
        event_type="sandbox.success",
        kind="paid",
        provider_session_id=session.provider_session_id or "",
        amount_cents=90_000,
        fee_cents=2_640,
    )
    assert services.checkout_event_process(event=event, provider="sandbox", now=now).startswith(
        "held"
    )
    held = Payment.objects.get()
    assert client_trust_balance(client=matter.client, matter=matter) == 0
    services.held_payment_release(payment=held, actor=users["BILLING"], now=now)
    held.refresh_from_db()
    assert held.status == PaymentStatus.TO_TRUST
    assert held.entry is None
    deposit = TrustDeposit.objects.get()
    assert (deposit.amount_cents, deposit.fee_cents) == (90_000, 2_640)
    assert client_trust_balance(client=matter.client, matter=matter) == 90_000
    req.refresh_from_db()
    assert req.status == "PARTIAL"


def test_paid_checkout_of_cancelled_trust_request_still_lands_in_trust(client, now, users):
    from caseledger.ledger.selectors import client_trust_balance
    from caseledger.trust.models import TrustDeposit
    from caseledger.trust.services import trust_request_cancel, trust_request_create

    matter = MatterFactory()
    req = trust_request_create(
        client=matter.client,
        matter=matter,
        kind="RETAINER",
        amount_cents=50_000,
        due_date=now.date(),
        actor=None,
        now=now,
        send=False,
    )
    url = reverse("payments:pay_trust_request", args=[links.trust_request_pay_token(req.pk)])
    sandbox = client.post(url)["Location"]
    trust_request_cancel(request=req, actor=users["BILLING"], now=now)
    client.post(sandbox, {"outcome": "success"})
    deposit = TrustDeposit.objects.get()
    assert deposit.trust_request is None
    assert client_trust_balance(client=matter.client, matter=matter) == 50_000
