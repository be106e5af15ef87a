"""An invoice that shows government fees "paid from trust" promises that trust money to USCIS:
it is issued only when the matter's cleared trust covers the fees, and until a disbursement
pays them no other disbursement or earned-fee transfer may spend it."""

from __future__ import annotations

from typing import Any

import pytest

from caseledger.billing import services as billing
from caseledger.billing.tests.factories import build_world
from caseledger.core.exceptions import ApplicationError
from caseledger.ledger.selectors import client_trust_balance, ledger_verify
from caseledger.trust import selectors, services
from caseledger.trust.choices import DisbursementMethod, DisbursementPurpose
from caseledger.trust.models import Disbursement, TrustSettings
from caseledger.trust.tests.fee_promises import (
    approved_from_trust,
    fund_and_approve_other_disbursement,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(users: Any, settings: Any) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    return build_world(users)


def test_an_invoice_cannot_promise_trust_money_the_matter_lacks(world: Any) -> None:
    invoice, fees = approved_from_trust(world, world.matter)
    with pytest.raises(ApplicationError) as exc:
        billing.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    assert exc.value.message.startswith(
        f"invoice: approved invoice #{invoice.pk} shows the I129 fee ("
    )
    assert "has $0.00 of cleared trust funds for " in exc.value.message
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("APPROVED", None)


def test_promised_trust_is_spent_only_on_the_promised_fee(world: Any, users: Any) -> None:
    invoice, fees = approved_from_trust(world, world.matter)
    refund = fund_and_approve_other_disbursement(world, users, world.matter, fees)
    invoice = billing.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    promises = selectors.trust_fee_promises(world.matter)
    assert sum(p.amount_cents for p in promises) == fees

    with pytest.raises(ApplicationError) as exc:
        services.disbursement_post(disbursement=refund, actor=users["ATTORNEY"], now=world.now)
    assert exc.value.message.startswith("amount: ")
    assert "not promised to USCIS" in exc.value.message
    assert f"on {invoice.number}" in exc.value.message

    # The filing fee itself may be paid: each fee code spends its own promise.
    for promise in promises:
        d = services.disbursement_request(
            matter=world.matter,
            payee="U.S. Department of Homeland Security",
            amount_cents=promise.amount_cents,
            purpose=DisbursementPurpose.FILING_FEE,
            method=DisbursementMethod.CHECK,
            fee_code=promise.fee_code,
            actor=users["PARALEGAL"],
            now=world.now,
        )
        services.disbursement_approve(disbursement=d, approver=users["ATTORNEY"], now=world.now)
        if d.required_approvals > 1:
            services.disbursement_approve(disbursement=d, approver=users["PARTNER"], now=world.now)
        services.disbursement_post(disbursement=d, actor=users["ATTORNEY"], now=world.now)
    assert selectors.trust_fee_promises(world.matter) == []
    assert client_trust_balance(client=world.matter.client, matter=world.matter) == 0
    assert Disbursement.objects.get(pk=refund.pk).status == "APPROVED"
    assert ledger_verify() == []
