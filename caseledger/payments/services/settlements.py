"""Invoice settlements: the paid/credited running totals of an issued invoice (the row itself is
made by ``payments.settlements.settlement_for``, below the services, so the locks and selectors
use it without importing the services)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F

from caseledger.billing.models import Invoice
from caseledger.payments.models import InvoiceSettlement
from caseledger.payments.settlements import (
    INVOICE_NOT_ISSUED_FOR_SETTLEMENT,
    settlement_for,
)

__all__ = [
    "INVOICE_NOT_ISSUED_FOR_SETTLEMENT",
    "invoice_issued_listener",
    "settlement_apply",
    "settlement_for",
]


def settlement_apply(*, settlement: InvoiceSettlement, paid_cents: int, now: datetime) -> None:
    """Add ``paid_cents`` to a LOCKED settlement (payments and trust transfers)."""
    InvoiceSettlement.objects.filter(pk=settlement.pk).update(
        paid_cents=F("paid_cents") + paid_cents, updated_at=now
    )
    settlement.refresh_from_db()


def invoice_issued_listener(invoice: Invoice) -> None:
    """Billing issue hook: create the settlement row in the issuing transaction."""
    settlement_for(invoice)
