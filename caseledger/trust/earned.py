"""The check trust registers with the ledger for earned-fee transfers out of trust
(``ledger.hooks.register_earned_transfer_check``): every line's invoice is issued, was issued on
or before the entry date, and a trust line's client and matter are the invoice's. The ledger sits
below billing and knows no invoices; trust, which moves earned fees, knows both."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.ledger.exceptions import TrustViolation
from caseledger.ledger.hooks import EarnedLine
from caseledger.ledger.services import (
    TRUST_TRANSFER_BEFORE_INVOICE,
    TRUST_TRANSFER_INVOICE_NOT_ISSUED,
    TRUST_TRANSFER_OTHER_CLIENT,
)


def _pk(obj: Any) -> int:
    return int(getattr(obj, "pk", obj) or 0)


def earned_transfer_check(*, entry_date: date, lines: Sequence[EarnedLine]) -> None:
    # Read status and dates fresh from the database: a caller's instance may be stale.
    ids = {_pk(line.invoice) for _, _, line in lines}
    invoices = {inv.pk: inv for inv in Invoice.objects.filter(pk__in=ids)}
    for index, is_trust, line in lines:
        invoice = invoices.get(_pk(line.invoice))
        label = str(invoice) if invoice is not None else str(_pk(line.invoice))
        if invoice is None or invoice.status != InvoiceStatus.ISSUED:
            raise TrustViolation(
                TRUST_TRANSFER_INVOICE_NOT_ISSUED.format(
                    index=index, invoice=label, status=getattr(invoice, "status", "MISSING")
                ),
                f"lines[{index}].invoice",
            )
        if invoice.issue_date is None or entry_date < invoice.issue_date:
            raise TrustViolation(
                TRUST_TRANSFER_BEFORE_INVOICE.format(
                    entry_date=entry_date.isoformat(),
                    invoice=label,
                    issue_date=invoice.issue_date.isoformat() if invoice.issue_date else "never",
                ),
                "entry_date",
            )
        if is_trust and (
            _pk(line.client) != invoice.client_id or _pk(line.matter) != invoice.matter_id
        ):
            raise TrustViolation(
                TRUST_TRANSFER_OTHER_CLIENT.format(index=index, invoice=label),
                f"lines[{index}].invoice",
            )
