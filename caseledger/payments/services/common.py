"""Helpers shared by the payments services (not part of the public API): the refusals
several of them raise, the ``Allocation`` of a payment to an invoice, document numbers, and the
checks of allocations against LOCKED settlements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.numbering import counter_next
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    DocumentCounter,
    InvoiceSettlement,
)

AMOUNT_NOT_POSITIVE = "amount: must be positive (got {amount})"
PAYMENT_NOT_RECEIVED = "payment: {payment} is {status}; only received payments can be applied"
ALLOC_NOT_POSITIVE = "allocations: the amount for invoice {invoice} must be positive (got {amount})"
ALLOC_OVER_BALANCE = (
    "allocations: {amount} exceeds the balance due on invoice {invoice} ({balance})"
)
ALLOC_OVER_UNAPPLIED = (
    "allocations: total {total} exceeds the unapplied credit of payment {payment} ({unapplied})"
)
ALLOC_INVOICE_TWICE = "allocations: invoice {invoice} is listed twice"
ALLOC_OTHER_CLIENT = "allocations: invoice {invoice} belongs to another client"
ALLOC_INVOICE_VOID = "allocations: invoice {invoice} is void; nothing can be paid on it"
ALLOC_INVOICE_NOT_ISSUED = "allocations: invoice {invoice} is not issued"


@dataclass(frozen=True)
class Allocation:
    invoice: Invoice
    amount_cents: int


def _next_number(name: str, prefix: str) -> str:
    """Gapless: the counter row is bumped with F()+1 inside the caller's transaction."""
    return f"{prefix}-{counter_next(DocumentCounter, name=name):06d}"


def _validate_allocations(
    *,
    client: Client,
    allocations: Sequence[Allocation],
    settlements: dict[int, InvoiceSettlement],
    typed: bool = True,
) -> int:
    """Check each allocation against its LOCKED settlement (and, when someone typed it, the
    firm's ceiling); returns the total."""
    seen: set[int] = set()
    total = 0
    for alloc in allocations:
        invoice = alloc.invoice
        if invoice.pk in seen:
            raise PaymentError(ALLOC_INVOICE_TWICE.format(invoice=invoice), field="allocations")
        seen.add(invoice.pk)
        if invoice.client_id != client.pk:
            raise PaymentError(ALLOC_OTHER_CLIENT.format(invoice=invoice), field="allocations")
        if typed:
            amount_check(alloc.amount_cents, field="allocations")
        if alloc.amount_cents <= 0:
            raise PaymentError(
                ALLOC_NOT_POSITIVE.format(invoice=invoice, amount=firm_money(alloc.amount_cents)),
                field="allocations",
            )
        balance = settlements[invoice.pk].balance_due_cents
        if alloc.amount_cents > balance:
            raise PaymentError(
                ALLOC_OVER_BALANCE.format(
                    amount=firm_money(alloc.amount_cents),
                    invoice=invoice,
                    balance=firm_money(balance),
                ),
                field="allocations",
            )
        total += alloc.amount_cents
    return total


def _check_invoices_payable(invoices: Sequence[Invoice]) -> None:
    for invoice in invoices:
        invoice.refresh_from_db(fields=["status"])
        if invoice.status == InvoiceStatus.VOID:
            raise PaymentError(ALLOC_INVOICE_VOID.format(invoice=invoice), field="allocations")
        if invoice.status != InvoiceStatus.ISSUED:
            raise PaymentError(
                ALLOC_INVOICE_NOT_ISSUED.format(invoice=invoice), field="allocations"
            )
