"""Test data for payments and trust: issued invoices posted to the ledger the way billing issues
them (Dr A/R, Cr fee revenue) and announced through the billing issue hook."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from caseledger.billing import hooks
from caseledger.billing.models import Invoice
from caseledger.clients.tests.factories import CompanyClientFactory as ClientFactory
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import InvoiceFactory
from caseledger.matters.tests.factories import make_matter as MatterFactory

__all__ = ["ClientFactory", "MatterFactory", "issued_invoice"]


def issued_invoice(
    *, matter: Any, cents: int, now: datetime, day: date | None = None, due: date | None = None
) -> Invoice:
    """An issued invoice of ``cents`` on ``matter`` with its ledger entry and settlement row."""
    issue_day = day or date(2026, 10, 1)
    invoice = cast(
        Invoice,
        InvoiceFactory(
            matter=matter,
            client=matter.client,
            total_cents=cents,
            subtotal_cents=cents,
            issue_date=issue_day,
            due_date=due or issue_day,
        ),
    )
    H.issue_invoice(invoice=invoice, cents=cents, now=now, day=issue_day)
    hooks.invoice_issued(invoice)
    return invoice
