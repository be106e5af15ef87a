"""PostgreSQL race (real threads, one connection each): issuing an invoice that shows its
government fees paid from trust while an approved disbursement of the same trust money posts.
The matter's trust holds the fees once: exactly one succeeds, every round, and trust never goes
below zero."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from caseledger.billing.models import Invoice
from caseledger.billing.services import invoice_issue
from caseledger.billing.tests.factories import build_world
from caseledger.ledger.selectors import client_trust_balance, ledger_verify
from caseledger.ledger.tests.test_concurrency import run_together
from caseledger.trust import selectors, services
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import Disbursement, TrustSettings
from caseledger.trust.tests.fee_promises import (
    approved_from_trust,
    fund_and_approve_other_disbursement,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_issue_with_fees_from_trust_racing_a_disbursement_of_the_same_money(
    require_postgres: Any, users: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    world = build_world(users)
    outcomes = {"issued": 0, "disbursed": 0}
    for _round in range(20):
        matter = world.new_matter(
            client=world.matter.client, beneficiary=world.matter.beneficiary, case_type=world.h1b
        )
        invoice, fees = approved_from_trust(world, matter)
        refund = fund_and_approve_other_disbursement(world, users, matter, fees)

        def post(pk: int = refund.pk) -> Any:
            return services.disbursement_post(
                disbursement=Disbursement.objects.get(pk=pk), actor=users["ATTORNEY"], now=world.now
            )

        results = run_together(
            [
                partial(
                    invoice_issue,
                    invoice=Invoice.objects.get(pk=invoice.pk),
                    actor=world.billing,
                    now=world.now,
                ),
                post,
            ]
        )
        ok = [r for r in results if not isinstance(r, Exception)]
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(ok) == 1, results
        assert len(failed) == 1, results
        assert isinstance(failed[0], TrustError), failed
        balance = client_trust_balance(client=matter.client, matter=matter)
        assert balance >= 0
        invoice.refresh_from_db()
        if isinstance(results[0], Exception):
            outcomes["disbursed"] += 1
            assert failed[0].message.startswith(
                f"invoice: approved invoice #{invoice.pk} shows the "
            )
            assert (invoice.status, balance) == ("APPROVED", 0)
        else:
            outcomes["issued"] += 1
            assert "not promised to USCIS" in failed[0].message
            assert (invoice.status, balance) == ("ISSUED", fees)
            assert sum(p.amount_cents for p in selectors.trust_fee_promises(matter)) == fees
    assert sum(outcomes.values()) == 20
    assert ledger_verify() == []
