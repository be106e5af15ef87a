"""What the billing pages share: the invoice a request may see, the fee lines waiting for the
firm's advance, and the firm's currency."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from caseledger.billing import selectors
from caseledger.billing.models import Invoice
from caseledger.core.actions import staff
from caseledger.core.permissions import require


def invoice_for(request: HttpRequest, pk: int, capability: str = "billing.view") -> Invoice:
    invoice = get_object_or_404(
        Invoice.objects.select_related("client", "matter", "responsible_partner"), pk=pk
    )
    require(staff(request), capability, invoice)
    return invoice


def unadvanced_by_invoice(invoice_ids: list[int]) -> dict[int, list[Any]]:
    """The government-fee lines of these invoices that issue refuses until the firm's advance
    of the fee is recorded (one query), by invoice."""
    by_invoice: dict[int, list[Any]] = {}
    for line in selectors.fee_lines_unadvanced(invoice_ids):
        by_invoice.setdefault(line.invoice_id, []).append(line)
    return by_invoice


def selectors_currency() -> str:
    from caseledger.billing.services.common import firm_currency

    return firm_currency()
