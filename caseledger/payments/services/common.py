"""Helpers shared by the payments services (not part of the public API): the refusals
several of them raise, the ``Allocation`` of a payment to an invoice, document numbers, the
checks of allocations against LOCKED settlements and of a LOCKED payment's credit, and the steps
that post money received and record its allocations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.models import User
from caseledger.core.numbering import counter_next
from caseledger.ledger import accounts
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine
from caseledger.matters.models import Matter
from caseledger.payments.choices import PaymentStatus
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    DocumentCounter,
    InvoiceSettlement,
    Payment,
    PaymentAllocation,
)
from caseledger.payments.services.settlements import settlement_apply

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


def _refuse_unless_positive(amount_cents: int) -> None:
    """Raise PaymentError (field ``amount``) unless ``amount_cents`` is more than zero."""
    if amount_cents <= 0:
        raise PaymentError(
            AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )


def _refuse_unless_received(payment: Payment) -> None:
    """Raise PaymentError (field ``payment``) unless the LOCKED payment is RECEIVED: only money
    posted as received has credit to apply, refund or get back."""
    if payment.status != PaymentStatus.RECEIVED:
        raise PaymentError(
            PAYMENT_NOT_RECEIVED.format(
                payment=payment, status=payment.get_status_display().lower()
            ),
            field="payment",
        )


def _spendable_cents(payment: Payment) -> int:
    """A LOCKED payment's unapplied credit less what a card refund at the processor holds."""
    return payment.unapplied_cents - payment.refund_pending_cents


def _refuse_over_spendable(payment: Payment, total_cents: int, *, field: str) -> None:
    """Raise PaymentError (on ``field``) when ``total_cents`` exceeds the LOCKED payment's
    spendable credit: credit held for a card refund at the processor is not there to spend."""
    spendable = _spendable_cents(payment)
    if total_cents > spendable:
        raise PaymentError(
            ALLOC_OVER_UNAPPLIED.format(
                total=firm_money(total_cents), payment=payment, unapplied=firm_money(spendable)
            ),
            field=field,
        )


def _receipt_lines(
    *,
    client: Client,
    matter: Matter | None,
    amount_cents: int,
    fee_cents: int,
    allocations: Sequence[Allocation],
    unapplied_cents: int,
) -> list[PostingLine]:
    """The lines of money received: operating gets the amount less the processor fee (expensed
    to CARD_PROCESSING_FEES), each allocation credits its invoice's receivable, the rest is
    unapplied client credit. Zero lines are left out."""
    lines = [PostingLine(accounts.OPERATING_BANK, amount_cents - fee_cents)]
    if fee_cents:
        lines.append(PostingLine(accounts.CARD_PROCESSING_FEES, fee_cents))
    for alloc in allocations:
        lines.append(
            PostingLine(
                accounts.ACCOUNTS_RECEIVABLE,
                -alloc.amount_cents,
                client=client,
                matter=alloc.invoice.matter,
                invoice=alloc.invoice,
            )
        )
    if unapplied_cents:
        lines.append(
            PostingLine(
                accounts.UNAPPLIED_CLIENT_CREDITS, -unapplied_cents, client=client, matter=matter
            )
        )
    return [line for line in lines if line.amount_cents != 0]


def _allocations_record(
    *,
    payment: Payment,
    allocations: Sequence[Allocation],
    settlements: dict[int, InvoiceSettlement],
    applied_date: date,
    entry: JournalEntry,
    actor: User | None,
    now: datetime,
    from_credit: bool = False,
) -> list[PaymentAllocation]:
    """Write one PaymentAllocation per allocation and add it to its invoice's LOCKED settlement
    (in the caller's transaction, after ``entry`` posted the money)."""
    created = []
    for alloc in allocations:
        created.append(
            PaymentAllocation.objects.create(
                payment=payment,
                invoice=alloc.invoice,
                amount_cents=alloc.amount_cents,
                applied_date=applied_date,
                from_credit=from_credit,
                entry=entry,
                created_by=actor,
                created_at=now,
            )
        )
        settlement_apply(
            settlement=settlements[alloc.invoice.pk], paid_cents=alloc.amount_cents, now=now
        )
    return created
