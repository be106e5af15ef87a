"""Race tests on PostgreSQL with real threads, each on its own connection: concurrent payments
for one client with the default oldest-first allocation are all recorded (the balances are read
only after they are locked); one refund and one dispute reported by many events at once are
each recorded once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from caseledger.ledger.selectors import ledger_verify
from caseledger.ledger.tests.test_concurrency import run_together
from caseledger.payments import selectors, services
from caseledger.payments.choices import CheckoutPurpose, PaymentMethod
from caseledger.payments.models import (
    CheckoutSession,
    InvoiceSettlement,
    Payment,
    PaymentAllocation,
    PaymentDispute,
    ProviderRefund,
)
from caseledger.payments.tests import stripe_helpers as S
from caseledger.payments.tests.factories import MatterFactory, issued_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_payments_for_one_client_are_all_recorded(require_postgres, now):
    matter = MatterFactory()
    client = matter.client
    invoices = [
        issued_invoice(matter=matter, cents=cents, now=now, day=date(2026, 9, day))
        for day, cents in ((1, 7_000), (2, 11_000), (3, 13_000))
    ]
    owed = sum(i.total_cents for i in invoices)  # 31,000 cents

    def pay(n: int) -> Payment:
        return services.payment_record(
            client=client,
            method=PaymentMethod.ACH,
            payer=client.name,
            amount_cents=2_000,
            received_date=date(2026, 10, 5),
            reference=f"ach-{n}",
            actor=None,
            now=now,
        )

    results = run_together([partial(pay, n) for n in range(20)])

    refused = [r for r in results if isinstance(r, Exception)]
    assert refused == []
    assert Payment.objects.filter(client=client).count() == 20
    for invoice in invoices:
        settlement = InvoiceSettlement.objects.get(invoice=invoice)
        assert settlement.paid_cents == invoice.total_cents  # paid in full, never more
        allocated = sum(
            PaymentAllocation.objects.filter(invoice=invoice).values_list("amount_cents", flat=True)
        )
        assert allocated == invoice.total_cents
    assert selectors.client_unapplied_cents(client) == 20 * 2_000 - owed
    assert ledger_verify() == []


def test_one_dashboard_refund_and_one_dispute_reported_at_once_by_many_events(
    require_postgres, now, settings
):
    """Ten deliveries with distinct event ids reporting the same refund, and ten reporting the
    same dispute, all at once: each is recorded once, every delivery answers 200."""
    settings.STRIPE_WEBHOOK_SECRET = S.TEST_WEBHOOK_SECRET
    settings.STRIPE_SECRET_KEY = ""
    invoice = issued_invoice(matter=MatterFactory(), cents=60_000, now=now)
    CheckoutSession.objects.create(
        provider="stripe",
        provider_session_id="cs_race_refund",
        purpose=CheckoutPurpose.INVOICE,
        client=invoice.client,
        matter=invoice.matter,
        invoice=invoice,
        amount_cents=60_000,
        created_at=now,
    )
    paid = S.checkout_completed(
        session_id="cs_race_refund", amount_cents=60_000, payment_intent="pi_race"
    )
    assert deliver(paid, S.sign(paid)) == 200

    refunds = [
        S.charge_refunded(
            payment_intent="pi_race",
            amount_cents=60_000,
            amount_refunded_cents=25_000,
            refunds=[("re_race", 25_000)],
        )
        for _ in range(10)
    ]
    disputes = [
        S.dispute(
            event_type="charge.dispute.created",
            payment_intent="pi_race",
            amount_cents=35_000,
            status="needs_response",
            dispute_id="dp_race",
        )
        for _ in range(10)
    ]
    deliveries: list[Callable[[], Any]] = [
        partial(deliver, p, S.sign(p)) for p in refunds + disputes
    ]
    assert run_together(deliveries) == [200] * 20
    assert ProviderRefund.objects.count() == 1
    assert PaymentDispute.objects.count() == 1
    assert selectors.invoice_balance_due(invoice) == 25_000
    assert ledger_verify() == []


def deliver(payload: bytes, header: str) -> int:
    response = HttpClient().post(
        reverse("payments:stripe_webhook"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    return response.status_code


def test_card_refunds_retried_by_many_workers_at_once_refund_and_record_once(
    require_postgres, now, monkeypatch
):
    """Two card refunds committed REQUESTED by a process that then died; eight retry jobs and
    two direct phase-2 runs race on them: the processor is asked with one key per refund, so
    it refunds each once; the books record each once."""
    from datetime import timedelta

    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.models import JournalEntry
    from caseledger.payments import refunds
    from caseledger.payments.choices import Provider, RefundStatus
    from caseledger.payments.providers.sandbox import sandbox_refunds, sandbox_refunds_clear

    sandbox_refunds_clear()
    matter = MatterFactory()
    payment = services.payment_record(
        client=matter.client,
        method=PaymentMethod.CARD,
        payer="Maria Garcia",
        reference="sbx_ch_race",
        amount_cents=50_000,
        received_date=date(2026, 10, 20),
        provider=Provider.SANDBOX,
        actor=None,
        now=now,
    )
    monkeypatch.setattr(refunds, "_process_after_commit", lambda refund_id: None)  # killed
    first = refunds.card_refund_request(payment=payment, amount_cents=20_000, actor=None, now=now)
    second = refunds.card_refund_request(payment=payment, amount_cents=10_000, actor=None, now=now)
    later = now + timedelta(minutes=5)
    runs: list[Callable[[], Any]] = [partial(refunds.card_refunds_retry, now=later)] * 8
    runs += [
        partial(refunds.card_refund_process, refund_id=r.pk, now=later) for r in (first, second)
    ]
    results = run_together(runs)
    assert [r for r in results if isinstance(r, Exception)] == []
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (RefundStatus.SUCCEEDED, RefundStatus.SUCCEEDED)
    assert sorted(sandbox_refunds()) == sorted([first.idempotency_key, second.idempotency_key])
    assert JournalEntry.objects.filter(kind=EntryKind.REFUND).count() == 2
    payment.refresh_from_db()
    assert (payment.unapplied_cents, payment.refund_pending_cents) == (20_000, 0)
    assert ledger_verify() == []
    sandbox_refunds_clear()
