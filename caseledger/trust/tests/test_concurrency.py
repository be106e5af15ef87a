"""Race tests on PostgreSQL through the trust and payments services, real threads, each on its
own connection: two approved disbursements that together exceed the balance (exactly one posts,
50 rounds), the same Stripe webhook delivered twice at once (one payment), and a deposit's
reversal racing a disbursement of the same money (exactly one succeeds)."""

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


def test_issue_with_auto_apply_and_a_trust_transfer_on_one_matter(require_postgres, users, now):
    """Issuing invoice A (the client auto-applies trust) while trust pays invoice B of the same
    matter: the issue takes the matter's trust lock before the invoice (billing's issue-lock
    hook), so neither waits on the other in a cycle and both commit, every round."""
    from caseledger.billing.services import invoice_issue
    from caseledger.billing.tests.factories import approved_draft, build_world
    from caseledger.billing.tests.factories import issued_invoice as billed
    from caseledger.payments.selectors import invoice_balance_due

    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    world = build_world(users, now=now)
    matter = world.matter
    matter.client.auto_apply_trust = True
    matter.client.save()
    for _round in range(10):
        unpaid = billed(world)  # trust is empty: nothing auto-applied
        draft = approved_draft(world)  # the same template: the same total once issued
        services.deposit_record(
            client=matter.client,
            matter=matter,
            method=DepositMethod.WIRE,
            payer="Northwind",
            reference="W",
            amount_cents=2 * unpaid.total_cents,
            received_date=date(2026, 10, 1),  # cleared by now
            actor=None,
            now=now,
        )
        results = run_together(
            [
                partial(invoice_issue, invoice=draft, actor=world.billing, now=now),
                partial(
                    services.trust_apply_to_invoice, invoice=unpaid, actor=world.billing, now=now
                ),
            ]
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        assert invoice_balance_due(unpaid) == 0
        draft.refresh_from_db()
        assert draft.total_cents == unpaid.total_cents
        assert invoice_balance_due(draft) == 0
        assert client_trust_balance(client=matter.client, matter=matter) == 0
    assert ledger_verify() == []


def test_deposit_reversal_racing_a_disbursement_from_it(require_postgres, now, users):
    """Reversing a $100 deposit while an approved $80 disbursement of the same money posts:
    both lock the matter's trust row first and check the balance after it, so exactly one
    succeeds, every round, and the matter's trust never goes below zero."""
    from caseledger.trust import corrections

    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    outcomes = {"reversed": 0, "disbursed": 0}
    for _round in range(20):
        m = MatterFactory()
        deposit = services.deposit_record(
            client=m.client,
            matter=m,
            method=DepositMethod.WIRE,
            payer="Acme",
            reference="W",
            amount_cents=100_00,
            received_date=date(2026, 10, 1),
            actor=None,
            now=now,
        )
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

        def reverse(pk: int = deposit.pk) -> object:
            from caseledger.trust.models import TrustDeposit

            return corrections.deposit_reversal_request(
                deposit=TrustDeposit.objects.get(pk=pk),
                reason="check returned",
                actor=users["BILLING"],
                now=now,
            )

        def post(pk: int = d.pk) -> object:
            return services.disbursement_post(
                disbursement=Disbursement.objects.get(pk=pk), actor=users["ATTORNEY"], now=now
            )

        results = run_together([reverse, post])
        ok = [r for r in results if not isinstance(r, Exception)]
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(ok) == 1, results
        assert len(failed) == 1, results
        assert isinstance(failed[0], TrustError), failed
        balance = client_trust_balance(client=m.client, matter=m)
        if isinstance(results[0], Exception):
            outcomes["disbursed"] += 1
            assert failed[0].message == (
                f"deposit: cannot be reversed, $80.00 of it was disbursed ({d.number} to USCIS)"
            )
            assert balance == 20_00
        else:
            outcomes["reversed"] += 1
            assert failed[0].message.startswith("amount: $80.00 exceeds the cleared trust funds")
            assert balance == 0
    assert sum(outcomes.values()) == 20
    assert ledger_verify() == []
