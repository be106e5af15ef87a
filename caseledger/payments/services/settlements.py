"""Invoice settlements: the paid/credited running totals of an issued invoice."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.core import clock
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    InvoiceSettlement,
)

INVOICE_NOT_ISSUED_FOR_SETTLEMENT = "invoice: {invoice} is not issued; it has no settlement"


def settlement_for(invoice: Invoice) -> InvoiceSettlement:
    """The settlement row of an issued (or since voided) invoice, created on first use."""
    if (
        invoice.status not in {InvoiceStatus.ISSUED, InvoiceStatus.VOID}
        or invoice.issue_date is None
    ):
        raise PaymentError(
            INVOICE_NOT_ISSUED_FOR_SETTLEMENT.format(invoice=invoice), field="invoice"
        )
    settlement = InvoiceSettlement.objects.filter(invoice_id=invoice.pk).first()
    if settlement is not None:
        return settlement
    try:
        with transaction.atomic():
            return InvoiceSettlement.objects.create(
                invoice=invoice, total_cents=invoice.total_cents, updated_at=clock.now()
            )
    except IntegrityError:
        return InvoiceSettlement.objects.get(invoice_id=invoice.pk)


def settlement_apply(*, settlement: InvoiceSettlement, paid_cents: int, now: datetime) -> None:
    """Add ``paid_cents`` to a LOCKED settlement (payments and trust transfers)."""
    InvoiceSettlement.objects.filter(pk=settlement.pk).update(
        paid_cents=F("paid_cents") + paid_cents, updated_at=now
    )
    settlement.refresh_from_db()


def invoice_issued_listener(invoice: Invoice) -> None:
    """Billing issue hook: create the settlement row in the issuing transaction."""
    settlement_for(invoice)
