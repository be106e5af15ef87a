"""The settlement row of an issued invoice (its paid and credited running totals), created on
first use. Below the services: the locks lock it and the services move money through it."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.core import clock
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import InvoiceSettlement

INVOICE_NOT_ISSUED_FOR_SETTLEMENT = "invoice: {invoice} is not issued; it has no settlement"


def settlement_for(invoice: Invoice) -> InvoiceSettlement:
    """The settlement row of an issued (or since voided) invoice, created on first use (billing's
    issue hook creates it in the issuing transaction; a lock taken first creates it too)."""
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
