"""Helpers shared by the credits services (not part of the public API): the invoice's unpaid
balance on its settlement row, and the check that an invoice is issued."""

from __future__ import annotations

from typing import Any

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.credits import exceptions as E


def settlement_balance(settlement: Any) -> int:
    return int(
        settlement.total_cents
        - settlement.paid_cents
        - settlement.credited_cents
        - settlement.written_off_cents
    )


def check_invoice_issued(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.ISSUED:
        raise E.CreditError(
            E.INVOICE_NOT_ISSUED.format(status=invoice.get_status_display().lower()),
            field="invoice",
        )
