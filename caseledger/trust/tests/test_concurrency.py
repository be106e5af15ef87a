"""Race tests on PostgreSQL through the trust and payments services, real threads, each on its
own connection: two approved disbursements that together exceed the balance (exactly one posts,
50 rounds), and the same Stripe webhook delivered twice at once (one payment)."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from caseledger.ledger.selectors import client_trust_balance, ledger_verify
from caseledger.ledger.tests.test_concurrency import run_together
from caseledger.payments.choices import CheckoutPurpose
from caseledger.payments.models import CheckoutSession, Payment, ProcessedWebhookEvent
from caseledger.payments.tests import stripe_helpers as S
from caseledger.payments.tests.factories import MatterFactory, issued_invoice
from caseledger.trust import services
from caseledger.trust.choices import DepositMethod, DisbursementMethod, DisbursementPurpose
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import Disbursement, TrustSettings

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_disbursements_exceeding_the_balance(require_postgres, now, users):
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    m = MatterFactory()
    for round_no in range(50):
        # Top the matter's trust up to $100.00 (it holds $20.00 after each round).
        services.deposit_record(
            client=m.client,
            matter=m,
            method=DepositMethod.WIRE,
            payer="Acme",
            reference="W",
            amount_cents=100_00 if round_no == 0 else 80_00,
            received_date=date(2026, 10, 1),
            actor=None,
            now=now,
        )
        ids = []
        for _ in range(2):
            d = services.disbursement_request(
                matter=m,
                payee="USCIS",
                amount_cents=80_00,
                purpose=DisbursementPurpose.FILING_FEE,
                method=DisbursementMethod.CHECK,
                actor=users["PARALEGAL"],
                now=now,
            )
            services.disbursement_approve(disbursement=d, approver=users["ATTORNEY"], now=now)
            ids.append(d.pk)

        def post(pk: int) -> Disbursement:
            return services.disbursement_post(
                disbursement=Disbursement.objects.get(pk=pk), actor=users["ATTORNEY"], now=now
            )

        first, second = ids
        results = run_together([partial(post, first), partial(post, second)])
        ok = [r for r in results if not isinstance(r, Exception)]
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(ok) == 1, results
        assert len(failed) == 1, failed
        assert isinstance(failed[0], TrustError), failed
        assert failed[0].message.startswith("amount: $80.00 exceeds the cleared trust funds")
        assert client_trust_balance(client=m.client, matter=m) == 20_00
    assert ledger_verify() == []


def test_same_webhook_delivered_twice_at_once(require_postgres, now, settings):
    settings.STRIPE_WEBHOOK_SECRET = S.TEST_WEBHOOK_SECRET
    settings.STRIPE_SECRET_KEY = ""
    for i in range(10):
        invoice = issued_invoice(matter=MatterFactory(), cents=30_000, now=now)
        CheckoutSession.objects.create(
            provider="stripe",
            provider_session_id=f"cs_race_{i}",
            purpose=CheckoutPurpose.INVOICE,
            client=invoice.client,
            matter=invoice.matter,
            invoice=invoice,
            amount_cents=30_000,
            created_at=now,
        )
        payload = S.checkout_completed(
            session_id=f"cs_race_{i}", amount_cents=30_000, event_id=f"evt_race_{i}"
        )
        header = S.sign(payload)

        def deliver(payload: bytes = payload, header: str = header) -> int:
            response = HttpClient().post(
                reverse("payments:stripe_webhook"),
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=header,
            )
            return response.status_code

        assert run_together([deliver, deliver]) == [200, 200]
        assert Payment.objects.filter(checkout__provider_session_id=f"cs_race_{i}").count() == 1
        assert ProcessedWebhookEvent.objects.filter(event_id=f"evt_race_{i}").count() == 1
    assert ledger_verify() == []
