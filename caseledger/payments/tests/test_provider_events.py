"""Refunds made in the Stripe Dashboard (``charge.refunded``) and disputes
(``charge.dispute.created`` / ``.closed``) through the signed webhook: operating money only,
once per refund or dispute id (replays and out-of-order deliveries record nothing more), the
invoices they paid due again, one balanced entry and an audit event each."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as A
from caseledger.ledger.selectors import account_balance, ledger_verify
from caseledger.matters.models import Task
from caseledger.payments import selectors, services
from caseledger.payments.choices import (
    CheckoutPurpose,
    DisputeStatus,
    PaymentMethod,
    Provider,
    RefundMethod,
)
from caseledger.payments.models import (
    CheckoutSession,
    Payment,
    PaymentDispute,
    PaymentReopening,
    ProcessedWebhookEvent,
    ProviderRefund,
)
from caseledger.payments.providers.sandbox import SandboxProvider
from caseledger.payments.tests import stripe_helpers as S
from caseledger.payments.tests.factories import MatterFactory, issued_invoice

pytestmark = pytest.mark.django_db

PI = "pi_test_paid_1"


@pytest.fixture
def stripe_settings(settings):
    settings.STRIPE_WEBHOOK_SECRET = S.TEST_WEBHOOK_SECRET
    settings.STRIPE_SECRET_KEY = ""
    return settings


def post(client, payload: bytes):
    return client.post(
        reverse("payments:stripe_webhook"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=S.sign(payload),
    )


def open_checkout(invoice, now, sid="cs_test_1"):
    return CheckoutSession.objects.create(
        provider="stripe",
        provider_session_id=sid,
        purpose=CheckoutPurpose.INVOICE,
        client=invoice.client,
        matter=invoice.matter,
        invoice=invoice,
        amount_cents=invoice.total_cents,
        created_at=now,
    )


def pay_online(client, invoice, now) -> Payment:
    open_checkout(invoice, now)
    payload = S.checkout_completed(
        session_id="cs_test_1", amount_cents=invoice.total_cents, payment_intent=PI
    )
    assert post(client, payload).status_code == 200
    return Payment.objects.get(checkout__provider_session_id="cs_test_1")


@pytest.fixture
def paid(client, now, stripe_settings):
    """An invoice of $750.00 paid in full online (payment intent ``PI``)."""
    invoice = issued_invoice(matter=MatterFactory(), cents=75_000, now=now)
    payment = pay_online(client, invoice, now)
    assert selectors.invoice_balance_due(invoice) == 0
    return invoice, payment


# --- charge.refunded -------------------------------------------------------------------------


def test_dashboard_refund_reopens_the_invoice_once(client, paid):
    invoice, payment = paid
    operating = account_balance(code=A.OPERATING_BANK)
    trust = account_balance(code=A.TRUST_BANK)
    payload = S.charge_refunded(
        payment_intent=PI,
        amount_cents=75_000,
        amount_refunded_cents=75_000,
        refunds=[("re_1", 75_000)],
        event_id="evt_refund_1",
    )
    response = post(client, payload)
    assert response.status_code == 200, response.content
    assert response.content.decode() == f"refund recorded on {payment.number}: re_1"
    refund = ProviderRefund.objects.get()
    assert (refund.provider_refund_id, refund.amount_cents, refund.reopened_cents) == (
        "re_1",
        75_000,
        75_000,
    )
    assert selectors.invoice_balance_due(invoice) == 75_000
    assert account_balance(code=A.OPERATING_BANK) == operating - 75_000
    assert account_balance(code=A.ACCOUNTS_RECEIVABLE) == 75_000
    assert account_balance(code=A.TRUST_BANK) == trust
    assert PaymentReopening.objects.get().invoice == invoice
    assert AuditEvent.objects.filter(action="payments.provider_refund_recorded").count() == 1
    assert ledger_verify() == []

    # The same event again, and another event reporting the same refund: nothing more.
    assert post(client, payload).content == b"duplicate event"
    again = S.charge_refunded(
        payment_intent=PI,
        amount_cents=75_000,
        amount_refunded_cents=75_000,
        refunds=[("re_1", 75_000)],
    )
    assert post(client, again).content.decode() == f"refunds of {payment.number} already recorded"
    assert ProviderRefund.objects.count() == 1
    assert selectors.invoice_balance_due(invoice) == 75_000
    assert ledger_verify() == []


def test_refund_takes_unapplied_credit_first_then_the_newest_invoice(client, now, stripe_settings):
    matter = MatterFactory()
    older = issued_invoice(matter=matter, cents=30_000, now=now, day=date(2026, 9, 1))
    newer = issued_invoice(matter=matter, cents=40_000, now=now, day=date(2026, 9, 2))
    payment = services.payment_record(
        client=matter.client,
        method=PaymentMethod.CARD,
        payer="Maria Garcia",
        amount_cents=80_000,
        received_date=date(2026, 10, 2),
        reference=PI,
        provider=Provider.STRIPE,
        actor=None,
        now=now,
    )
    assert payment.unapplied_cents == 10_000
    payload = S.charge_refunded(
        payment_intent=PI,
        amount_cents=80_000,
        amount_refunded_cents=25_000,
        refunds=[("re_part", 25_000)],
    )
    assert post(client, payload).status_code == 200
    payment.refresh_from_db()
    assert payment.unapplied_cents == 0
    assert selectors.invoice_balance_due(newer) == 15_000
    assert selectors.invoice_balance_due(older) == 0
    refund = ProviderRefund.objects.get()
    assert (refund.from_unapplied_cents, refund.reopened_cents) == (10_000, 15_000)
    assert ledger_verify() == []


def test_refunds_out_of_order_with_the_refunds_listed(client, paid):
    invoice, payment = paid
    second = S.charge_refunded(
        payment_intent=PI,
        amount_cents=75_000,
        amount_refunded_cents=50_000,
        refunds=[("re_a", 20_000), ("re_b", 30_000)],
    )
    first = S.charge_refunded(
        payment_intent=PI,
        amount_cents=75_000,
        amount_refunded_cents=20_000,
        refunds=[("re_a", 20_000)],
    )
    assert post(client, second).content.decode() == (
        f"refund recorded on {payment.number}: re_a, re_b"
    )
    assert post(client, first).content.decode() == f"refunds of {payment.number} already recorded"
    assert sorted(ProviderRefund.objects.values_list("provider_refund_id", flat=True)) == [
        "re_a",
        "re_b",
    ]
    assert selectors.invoice_balance_due(invoice) == 50_000
    assert ledger_verify() == []


def test_refunds_out_of_order_without_the_list_use_the_cumulative_amount(client, paid):
    invoice, payment = paid
    later = S.charge_refunded(payment_intent=PI, amount_cents=75_000, amount_refunded_cents=50_000)
    earlier = S.charge_refunded(
        payment_intent=PI, amount_cents=75_000, amount_refunded_cents=20_000
    )
    assert post(client, later).status_code == 200
    assert post(client, earlier).content.decode() == (
        f"refunds of {payment.number} already recorded"
    )
    assert list(ProviderRefund.objects.values_list("provider_refund_id", "amount_cents")) == [
        ("ch_test_1/50000", 50_000)
    ]
    rest = S.charge_refunded(payment_intent=PI, amount_cents=75_000, amount_refunded_cents=75_000)
    assert post(client, rest).status_code == 200
    assert ProviderRefund.objects.count() == 2
    assert selectors.invoice_balance_due(invoice) == 75_000
    assert ledger_verify() == []


def test_failed_refund_is_not_recorded(client, paid):
    invoice, _payment = paid
    payload = S.charge_refunded(
        payment_intent=PI,
        amount_cents=75_000,
        amount_refunded_cents=0,
        refunds=[("re_failed", 75_000)],
        refund_status="failed",
    )
    assert post(client, payload).status_code == 200
    assert not ProviderRefund.objects.exists()
    assert selectors.invoice_balance_due(invoice) == 0


def test_refund_before_its_payment_is_deferred_then_recorded(client, now, stripe_settings):
    invoice = issued_invoice(matter=MatterFactory(), cents=75_000, now=now)
    refund = S.charge_refunded(
        payment_intent=PI,
        amount_cents=75_000,
        amount_refunded_cents=75_000,
        refunds=[("re_1", 75_000)],
        event_id="evt_early_refund",
    )
    early = post(client, refund)
    assert early.status_code == 409
    assert early.json() == {
        "error": "not_ready",
        "field": "payment_intent",
        "message": f"payment_intent: no payment recorded for {PI} yet; deliver this event again "
        "later",
    }
    assert not ProcessedWebhookEvent.objects.filter(event_id="evt_early_refund").exists()
    pay_online(client, invoice, now)
    assert post(client, refund).status_code == 200  # Stripe's redelivery
    assert ProviderRefund.objects.count() == 1
    assert selectors.invoice_balance_due(invoice) == 75_000
    assert ledger_verify() == []


class _FixedRefund(SandboxProvider):
    """A processor that answers every refund with the same id."""

    def __init__(self, refund_id: str) -> None:
        self.refund_id = refund_id

    def refund_create(self, payment: Any, amount_cents: int, *, idempotency_key: str) -> str:
        return self.refund_id


def test_card_refund_caseledger_asked_for_is_not_recorded_twice(client, now, stripe_settings):
    matter = MatterFactory()
    invoice = issued_invoice(matter=matter, cents=30_000, now=now)
    payment = services.payment_record(
        client=matter.client,
        method=PaymentMethod.CARD,
        payer="Maria Garcia",
        amount_cents=50_000,
        received_date=date(2026, 10, 2),
        reference=PI,
        provider=Provider.STRIPE,
        actor=None,
        now=now,
    )
    from caseledger.payments.refunds import card_refund_process

    requested = services.unapplied_credit_refund(
        payment=payment, amount_cents=20_000, method=RefundMethod.CARD, actor=None, now=now
    )
    card_refund_process(refund_id=requested.pk, now=now, provider=_FixedRefund("re_ours"))
    payload = S.charge_refunded(
        payment_intent=PI,
        amount_cents=50_000,
        amount_refunded_cents=20_000,
        refunds=[("re_ours", 20_000)],
    )
    assert post(client, payload).content.decode() == f"refunds of {payment.number} already recorded"
    without_list = S.charge_refunded(
        payment_intent=PI, amount_cents=50_000, amount_refunded_cents=20_000
    )
    assert post(client, without_list).content.decode() == (
        f"refunds of {payment.number} already recorded"
    )
    assert not ProviderRefund.objects.exists()
    assert selectors.invoice_balance_due(invoice) == 0
    assert ledger_verify() == []


def test_refund_of_a_trust_deposit_never_touches_trust(client, now, stripe_settings):
    from caseledger.ledger.selectors import client_trust_balance
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
    CheckoutSession.objects.create(
        provider="stripe",
        provider_session_id="cs_trust",
        purpose=CheckoutPurpose.TRUST_REQUEST,
        client=matter.client,
        matter=matter,
        trust_request_id=req.pk,
        amount_cents=100_000,
        created_at=now,
    )
    paid = S.checkout_completed(session_id="cs_trust", amount_cents=100_000, payment_intent=PI)
    assert post(client, paid).status_code == 200
    assert client_trust_balance(client=matter.client, matter=matter) == 100_000
    operating = account_balance(code=A.OPERATING_BANK)
    for payload in (
        S.charge_refunded(
            payment_intent=PI,
            amount_cents=100_000,
            amount_refunded_cents=100_000,
            refunds=[("re_t", 100_000)],
        ),
        S.dispute(
            event_type="charge.dispute.created",
            payment_intent=PI,
            amount_cents=100_000,
            status="needs_response",
        ),
    ):
        response = post(client, payload)
        assert response.status_code == 200
        assert "not posted (the payment went to trust); task" in response.content.decode()
    assert client_trust_balance(client=matter.client, matter=matter) == 100_000
    assert account_balance(code=A.OPERATING_BANK) == operating
    assert not ProviderRefund.objects.exists()
    assert not PaymentDispute.objects.exists()
    tasks = Task.objects.filter(system_key__startswith="payments.", matter=matter)
    assert tasks.count() == 2
    assert set(tasks.values_list("assignee_role", flat=True)) == {"BILLING"}
    assert ledger_verify() == []


def test_unknown_charge_without_payment_intent_is_ignored(client, stripe_settings):
    payload = S.charge_refunded(payment_intent="", amount_cents=100, amount_refunded_cents=100)
    response = post(client, payload)
    assert response.status_code == 200
    assert response.content == b"ignored: the charge names no payment"


# --- disputes --------------------------------------------------------------------------------


def dispute(status: str, event_type: str, **kw):
    return S.dispute(
        event_type=event_type, payment_intent=PI, amount_cents=75_000, status=status, **kw
    )


def test_dispute_opened_holds_the_amount_and_tasks_billing_once(client, paid):
    invoice, payment = paid
    operating = account_balance(code=A.OPERATING_BANK)
    created = dispute("needs_response", "charge.dispute.created", event_id="evt_dp_1")
    response = post(client, created)
    assert (
        response.content.decode() == f"dispute dp_test_1 opened on {payment.number}: $750.00 held"
    )
    record = PaymentDispute.objects.get()
    assert (record.status, record.amount_cents, record.reason) == (
        DisputeStatus.OPEN,
        75_000,
        "fraudulent",
    )
    assert account_balance(code=A.OPERATING_BANK) == operating - 75_000
    assert account_balance(code=A.PROCESSOR_CLEARING) == 75_000
    assert record.task is not None
    assert record.task.assignee_role == "BILLING"
    assert record.task.matter == invoice.matter
    assert selectors.invoice_balance_due(invoice) == 0  # still paid while it is decided
    assert post(client, created).content == b"duplicate event"
    other_delivery = dispute("needs_response", "charge.dispute.created")
    assert post(client, other_delivery).content == b"dispute dp_test_1 already recorded"
    assert PaymentDispute.objects.count() == 1
    assert Task.objects.filter(system_key__startswith="payments.dispute").count() == 1
    assert AuditEvent.objects.filter(action="payments.dispute_opened").count() == 1
    assert ledger_verify() == []


def test_dispute_won_releases_the_amount(client, paid):
    invoice, _payment = paid
    operating = account_balance(code=A.OPERATING_BANK)
    post(client, dispute("needs_response", "charge.dispute.created"))
    closed = dispute("won", "charge.dispute.closed")
    assert post(client, closed).content == b"dispute dp_test_1 won: $750.00 released"
    record = PaymentDispute.objects.get()
    assert record.status == DisputeStatus.WON
    assert record.outcome_entry is not None
    assert account_balance(code=A.OPERATING_BANK) == operating
    assert account_balance(code=A.PROCESSOR_CLEARING) == 0
    assert selectors.invoice_balance_due(invoice) == 0
    again = dispute("won", "charge.dispute.closed")
    assert post(client, again).content == b"dispute dp_test_1 already won"
    assert AuditEvent.objects.filter(action="payments.dispute_closed").count() == 1
    assert ledger_verify() == []


def test_dispute_lost_takes_the_money_and_reopens_the_invoice(client, paid):
    invoice, _payment = paid
    operating = account_balance(code=A.OPERATING_BANK)
    post(client, dispute("needs_response", "charge.dispute.created"))
    assert post(client, dispute("lost", "charge.dispute.closed")).status_code == 200
    record = PaymentDispute.objects.get()
    assert record.status == DisputeStatus.LOST
    assert account_balance(code=A.OPERATING_BANK) == operating - 75_000
    assert account_balance(code=A.PROCESSOR_CLEARING) == 0
    assert selectors.invoice_balance_due(invoice) == 75_000
    assert PaymentReopening.objects.get().dispute == record
    assert ledger_verify() == []


def test_dispute_closed_before_created_and_a_late_created_changes_nothing(client, paid):
    invoice, _payment = paid
    operating = account_balance(code=A.OPERATING_BANK)
    response = post(client, dispute("lost", "charge.dispute.closed"))
    assert response.status_code == 200
    assert "opened" in response.content.decode()
    assert "lost" in response.content.decode()
    late = post(client, dispute("needs_response", "charge.dispute.created"))
    assert late.content == b"dispute dp_test_1 already recorded"
    assert PaymentDispute.objects.get().status == DisputeStatus.LOST
    assert account_balance(code=A.OPERATING_BANK) == operating - 75_000
    assert account_balance(code=A.PROCESSOR_CLEARING) == 0
    assert selectors.invoice_balance_due(invoice) == 75_000
    assert ledger_verify() == []


def test_dispute_closed_with_a_status_that_is_no_outcome_stays_open(client, paid):
    post(client, dispute("needs_response", "charge.dispute.created"))
    response = post(client, dispute("under_review", "charge.dispute.closed"))
    assert response.content == b"dispute dp_test_1 still open (under_review)"
    assert PaymentDispute.objects.get().status == DisputeStatus.OPEN
    assert ledger_verify() == []


def test_dispute_before_its_payment_is_deferred(client, now, stripe_settings):
    response = post(client, dispute("needs_response", "charge.dispute.created"))
    assert response.status_code == 409
    assert not PaymentDispute.objects.exists()
    assert not ProcessedWebhookEvent.objects.exists()


def test_payment_page_shows_the_dashboard_refund_and_the_dispute(client, paid, login, users):
    _invoice, payment = paid
    post(
        client,
        S.charge_refunded(
            payment_intent=PI,
            amount_cents=75_000,
            amount_refunded_cents=10_000,
            refunds=[("re_shown", 10_000)],
        ),
    )
    post(client, dispute("needs_response", "charge.dispute.created"))
    page = login(users["BILLING"]).get(reverse("payments:detail", args=[payment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Refunds made at Stripe" in html
    assert "re_shown" in html
    assert "due again $100.00" in html
    assert "Disputes" in html
    assert "dp_test_1" in html
    assert "fraudulent" in html


def test_the_webhook_confirms_a_requested_card_refund_once(
    client, now, stripe_settings, django_capture_on_commit_callbacks
):
    """Stripe refunded, the process died before phase 2: charge.refunded names the refund by
    CaseLedger's key and records it as phase 2 would; the retry job then records nothing more.
    While it is in flight, an event without the list records nothing either."""
    from datetime import timedelta

    from caseledger.payments.choices import RefundStatus
    from caseledger.payments.refunds import card_refunds_retry

    matter = MatterFactory()
    payment = services.payment_record(
        client=matter.client,
        method=PaymentMethod.CARD,
        payer="Maria Garcia",
        amount_cents=50_000,
        received_date=date(2026, 10, 2),
        reference=PI,
        provider=Provider.STRIPE,
        actor=None,
        now=now,
    )
    with django_capture_on_commit_callbacks(execute=False):
        requested = services.unapplied_credit_refund(
            payment=payment, amount_cents=20_000, method=RefundMethod.CARD, actor=None, now=now
        )
    without_list = S.charge_refunded(
        payment_intent=PI, amount_cents=50_000, amount_refunded_cents=20_000, event_id="evt_a"
    )
    assert post(client, without_list).content.decode() == (
        f"refunds of {payment.number} already recorded"
    )
    payload = S.charge_refunded(
        payment_intent=PI,
        amount_cents=50_000,
        amount_refunded_cents=20_000,
        refunds=[("re_ours", 20_000)],
        metadata={"re_ours": {"caseledger_refund": requested.idempotency_key}},
        event_id="evt_b",
    )
    assert post(client, payload).content.decode() == (
        f"refund recorded on {payment.number}: re_ours"
    )
    requested.refresh_from_db()
    assert (requested.status, requested.reference) == (RefundStatus.SUCCEEDED, "re_ours")
    assert card_refunds_retry(now=now + timedelta(minutes=5), provider=_FixedRefund("re_ours")) == 0
    assert not ProviderRefund.objects.exists()
    payment.refresh_from_db()
    assert (payment.unapplied_cents, payment.refund_pending_cents) == (30_000, 0)
    assert account_balance(code=A.UNAPPLIED_CLIENT_CREDITS) == 30_000
    assert ledger_verify() == []
