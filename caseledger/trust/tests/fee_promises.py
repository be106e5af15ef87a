"""Shared setup of the fee-promise tests: an approved invoice whose government fees are shown
paid from trust, the matter's trust holding exactly those fees, and an approved disbursement of
the same money for something else."""

from __future__ import annotations

from datetime import date
from typing import Any

from caseledger.billing import services as billing
from caseledger.billing.choices import FeePath
from caseledger.trust import services
from caseledger.trust.choices import DepositMethod, DisbursementMethod, DisbursementPurpose


def approved_from_trust(world: Any, matter: Any) -> tuple[Any, int]:
    """An approved draft of ``matter`` with its government fees paid from trust, and their sum."""
    draft = billing.invoice_draft_create(
        matter=matter,
        actor=world.billing,
        now=world.now,
        template=world.template,
        fee_path=FeePath.FROM_TRUST,
    )
    fees = sum(
        draft.lines.filter(fee_path=FeePath.FROM_TRUST).values_list("fee_amount_cents", flat=True)
    )
    assert fees > 0
    billing.invoice_submit(invoice=draft, actor=world.billing, now=world.now)
    approved = billing.invoice_approve(invoice=draft, actor=world.partner, now=world.now)
    return approved, fees


def fund_and_approve_other_disbursement(world: Any, users: Any, matter: Any, cents: int) -> Any:
    """Deposit ``cents`` (cleared) and approve a refund of all of it to the client."""
    services.deposit_record(
        client=matter.client,
        matter=matter,
        method=DepositMethod.WIRE,
        payer="Northwind",
        reference="W",
        amount_cents=cents,
        received_date=date(2026, 10, 1),
        actor=None,
        now=world.now,
    )
    d = services.disbursement_request(
        matter=matter,
        payee=matter.client.name,
        amount_cents=cents,
        purpose=DisbursementPurpose.REFUND,
        method=DisbursementMethod.CHECK,
        actor=users["PARALEGAL"],
        now=world.now,
    )
    services.disbursement_approve(disbursement=d, approver=users["ATTORNEY"], now=world.now)
    if d.required_approvals > 1:
        services.disbursement_approve(disbursement=d, approver=users["PARTNER"], now=world.now)
    return d
