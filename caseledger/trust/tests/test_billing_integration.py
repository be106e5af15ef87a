"""Through billing's real issue service: the issue hook creates the settlement row and, for an
auto-apply client, pays the invoice from cleared trust in the issuing transaction."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.billing.tests.factories import build_world, issued_invoice
from caseledger.ledger.selectors import client_trust_balance
from caseledger.payments.models import InvoiceSettlement
from caseledger.payments.selectors import invoice_balance_due
from caseledger.trust.models import TrustSettings, TrustTransfer
from caseledger.trust.services import deposit_record

pytestmark = pytest.mark.django_db


def test_invoice_issue_runs_settlement_and_auto_apply(users, now):
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
    world = build_world(users, now=now)
    matter = world.matter
    matter.client.auto_apply_trust = True
    matter.client.save()
    deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Northwind",
        reference="FW-1",
        amount_cents=1_000_000,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )
    invoice = issued_invoice(world)
    assert invoice.total_cents > 0
    settlement = InvoiceSettlement.objects.get(invoice=invoice)
    assert settlement.total_cents == invoice.total_cents
    assert invoice_balance_due(invoice) == 0
    transfer = TrustTransfer.objects.get(invoice=invoice)
    assert transfer.automatic
    assert transfer.transfer_date == invoice.issue_date
    assert client_trust_balance(client=matter.client, matter=matter) == (
        1_000_000 - invoice.total_cents
    )


def test_invoice_issue_without_auto_apply_leaves_trust(users, now):
    world = build_world(users, now=now)
    matter = world.matter
    deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Northwind",
        reference="FW-1",
        amount_cents=1_000_000,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )
    invoice = issued_invoice(world)
    assert invoice_balance_due(invoice) == invoice.total_cents
    assert client_trust_balance(client=matter.client, matter=matter) == 1_000_000
