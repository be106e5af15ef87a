"""The receipt email of an invoice payment made online: the Stripe webhook that records the card
payment enqueues it in the same transaction; it reaches a real SMTP server (aiosmtpd) after the
commit, once, in the client's language, however often Stripe redelivers the event."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from django.urls import reverse

from caseledger.clients.models import Client
from caseledger.core.models import OutboxMessage
from caseledger.core.selectors import firm_get
from caseledger.core.tests.smtp import smtp_server
from caseledger.payments.choices import CheckoutPurpose
from caseledger.payments.models import CheckoutInvoice, CheckoutSession, Payment
from caseledger.payments.receipts import RECEIPT_KIND
from caseledger.payments.tests import stripe_helpers as S
from caseledger.payments.tests.factories import MatterFactory, issued_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_settings(settings):
    settings.STRIPE_WEBHOOK_SECRET = S.TEST_WEBHOOK_SECRET
    settings.STRIPE_SECRET_KEY = ""
    return settings


def _two_invoices_checkout(now: Any, *, language: str) -> tuple[Any, Any]:
    """A checkout paying two invoices of one client at once (as the portal opens it): the
    first in full, the second in part."""
    matter = MatterFactory()
    Client.objects.filter(pk=matter.client_id).update(
        preferred_language=language, email="ap@acme.example"
    )
    first = issued_invoice(matter=matter, cents=30_000, now=now)
    second = issued_invoice(matter=matter, cents=45_000, now=now)
    session = CheckoutSession.objects.create(
        provider="stripe",
        provider_session_id="cs_test_receipt",
        purpose=CheckoutPurpose.INVOICE,
        client=first.client,
        matter=matter,
        invoice=first,
        amount_cents=50_000,
        created_at=now,
    )
    CheckoutInvoice.objects.create(session=session, invoice=first, amount_cents=30_000)
    CheckoutInvoice.objects.create(session=session, invoice=second, amount_cents=20_000)
    return first, second


def _deliver(client: Any, payload: bytes, capture: Any) -> str:
    with capture(execute=True):
        answer = client.post(
            reverse("payments:stripe_webhook"),
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=S.sign(payload),
        )
    assert answer.status_code == 200, answer.content
    return answer.content.decode()


def _subject(message: Message) -> str:
    return str(make_header(decode_header(str(message["Subject"]))))


def _body(message: Message) -> str:
    part = message.get_payload(decode=True) if not message.is_multipart() else None
    if part is None:
        part = message.get_payload(0).get_payload(decode=True)  # type: ignore[union-attr]
    assert isinstance(part, bytes)
    return part.decode("utf-8")


def test_the_client_gets_one_receipt_in_spanish_however_often_the_event_comes(
    client, settings, stripe_settings, now, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://firm.example/"
    first, second = _two_invoices_checkout(now, language="es")
    payload = S.checkout_completed(
        session_id="cs_test_receipt", amount_cents=50_000, event_id="evt_receipt_1"
    )
    with smtp_server(settings) as (inbox, _port):
        outcome = _deliver(client, payload, django_capture_on_commit_callbacks)
        assert outcome.startswith("recorded P-")
        assert len(inbox.messages) == 1
        # Stripe redelivers the same event, then sends another event for the same session.
        assert _deliver(client, payload, django_capture_on_commit_callbacks) == "duplicate event"
        other = S.checkout_completed(
            session_id="cs_test_receipt", amount_cents=50_000, event_id="evt_receipt_2"
        )
        assert _deliver(client, other, django_capture_on_commit_callbacks).startswith(
            "checkout already"
        )
    payment = Payment.objects.get()
    assert len(inbox.messages) == 1
    (message,) = inbox.messages
    assert message["To"] == "ap@acme.example"
    assert _subject(message) == f"{firm_get().name}: recibo de pago {payment.number}"
    body = _body(message)
    assert "Recibimos su pago con tarjeta de $500.00" in body
    assert f"(recibo {payment.number})" in body
    assert f"Aplicado a la factura {first.number}: $300.00" in body
    assert f"Aplicado a la factura {second.number}: $200.00" in body
    assert f"Saldo pendiente de la factura {second.number}: $250.00" in body
    assert first.number not in body.split("Saldo pendiente")[1]
    portal = "https://firm.example/portal/invoices/"
    assert f"historial de sus pagos en su portal de cliente: {portal}" in body
    row = OutboxMessage.objects.get(kind=RECEIPT_KIND)
    assert row.key == f"payments.receipt:{payment.pk}"
    assert row.related_id == payment.pk
    assert message["Message-ID"] == row.message_id


def test_in_english_a_receipt_that_pays_everything_says_so(
    client, settings, stripe_settings, now, django_capture_on_commit_callbacks
):
    first, second = _two_invoices_checkout(now, language="en")
    CheckoutInvoice.objects.filter(invoice=second).update(amount_cents=45_000)
    CheckoutSession.objects.update(amount_cents=75_000)
    payload = S.checkout_completed(session_id="cs_test_receipt", amount_cents=75_000)
    with smtp_server(settings) as (inbox, _port):
        _deliver(client, payload, django_capture_on_commit_callbacks)
    (message,) = inbox.messages
    assert _subject(message).endswith(f": payment receipt {Payment.objects.get().number}")
    body = _body(message)
    assert body.startswith(f"Dear {first.client.name},")
    assert "We received your card payment of $750.00" in body
    assert "Nothing is left to pay on these invoices." in body
    assert "Still due" not in body
    link = settings.SITE_URL.rstrip("/") + reverse("portal:invoices")
    assert f"payment history are in your client portal: {link}\r\n" in body


def test_no_receipt_leaves_when_the_payment_is_not_recorded(
    client, settings, stripe_settings, now, django_capture_on_commit_callbacks
):
    """A payment of another amount than asked is held for review: nothing is received yet, so
    no receipt (it leaves when staff release it)."""
    _two_invoices_checkout(now, language="en")
    payload = S.checkout_completed(session_id="cs_test_receipt", amount_cents=49_000)
    with smtp_server(settings) as (inbox, _port):
        assert _deliver(client, payload, django_capture_on_commit_callbacks).startswith("held")
    assert inbox.messages == []
    assert not OutboxMessage.objects.filter(kind=RECEIPT_KIND).exists()


def test_a_held_payment_released_by_staff_sends_its_receipt(
    client, settings, stripe_settings, users, now, django_capture_on_commit_callbacks
):
    from caseledger.payments.services import held_payment_release

    _two_invoices_checkout(now, language="en")
    payload = S.checkout_completed(session_id="cs_test_receipt", amount_cents=49_000)
    assert _deliver(client, payload, django_capture_on_commit_callbacks).startswith("held")
    held = Payment.objects.get()
    with smtp_server(settings) as (inbox, _port):
        with django_capture_on_commit_callbacks(execute=True):
            held_payment_release(payment=held, actor=users["BILLING"], now=now)
    (message,) = inbox.messages
    assert "We received your card payment of $490.00" in _body(message)
    assert OutboxMessage.objects.filter(kind=RECEIPT_KIND).count() == 1
    # The receipt entry is posted before the payment names it: the payments hook moves it to
    # the payment's method in the reports' cash summary (ADR 020), as verify recomputes it.
    from caseledger.reports import summary
    from caseledger.reports.models import KpiCashDay

    assert summary.verify() == []
    assert set(KpiCashDay.objects.filter(postings__gt=0).values_list("method", "cents")) == {
        ("CARD", -49_000)
    }
