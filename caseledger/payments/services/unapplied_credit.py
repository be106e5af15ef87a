"""Unapplied client credit: applied to invoices (``payment_allocate``, ``unapplied_credit_apply``)
or to a receivable above payments, and given back to a payment by a credit note."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core import audit, clock
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.models import User
from caseledger.core.text import fit_to_field
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.matters.models import Matter
from caseledger.payments import locks
from caseledger.payments.choices import (
    PaymentStatus,
)
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    Payment,
    PaymentAllocation,
)
from caseledger.payments.services.common import (
    ALLOC_NOT_POSITIVE,
    ALLOC_OVER_BALANCE,
    Allocation,
    _allocations_record,
    _check_invoices_payable,
    _refuse_over_spendable,
    _refuse_unless_positive,
    _refuse_unless_received,
    _validate_allocations,
)

ALLOC_EMPTY = "allocations: choose at least one invoice and amount"
CREDIT_NONE = "client: {client} has no unapplied credit"
CREDIT_ADD_CURRENCY = "currency: payment {payment} is in {expected}; the credit is in {got}"
CREDIT_ADD_OTHER_CLIENT = "client: payment {payment} belongs to {owner}, not {client}"
CREDIT_ADD_OVER_PAYMENT = (
    "amount: {amount} would raise the unapplied credit of payment {payment} to {total}, more "
    "than the payment itself ({paid})"
)
CREDIT_ADD_REASON_REQUIRED = "reason: say why the credit goes back to the payment"
ALLOC_RECEIVABLE_OTHER_CLIENT = (
    "matter: {matter} does not belong to {client}, payment {payment}'s client"
)


def _credit_applied_lines(
    *, payment: Payment, total_cents: int, allocations: Sequence[Allocation]
) -> list[PostingLine]:
    """Credit applied to invoices: Dr the payment's unapplied client credit by the total, Cr each
    invoice's receivable by its allocation."""
    lines = [
        PostingLine(
            accounts.UNAPPLIED_CLIENT_CREDITS,
            total_cents,
            client=payment.client,
            matter=payment.matter,
        )
    ]
    for alloc in allocations:
        lines.append(
            PostingLine(
                accounts.ACCOUNTS_RECEIVABLE,
                -alloc.amount_cents,
                client=payment.client,
                matter=alloc.invoice.matter,
                invoice=alloc.invoice,
            )
        )
    return lines


def payment_allocate(
    *, payment: Payment, allocations: Sequence[Allocation], actor: User | None, now: datetime
) -> list[PaymentAllocation]:
    """Apply part or all of a payment's unapplied credit to open invoices (one entry:
    Dr unapplied client credits, Cr accounts receivable)."""
    if not allocations:
        raise PaymentError(ALLOC_EMPTY, field="allocations")
    with transaction.atomic():
        invoices = [a.invoice for a in allocations]
        _check_invoices_payable(invoices)
        settlements = locks.lock_invoice_settlements(invoices)
        payment = locks.lock_payment(payment.pk)
        _refuse_unless_received(payment)
        total = _validate_allocations(
            client=payment.client, allocations=allocations, settlements=settlements
        )
        _refuse_over_spendable(payment, total, field="allocations")
        applied_date = clock.firm_date(now)
        entry = entry_post(
            kind=EntryKind.PAYMENT_APPLIED,
            entry_date=applied_date,
            memo=f"Unapplied credit of {payment.number} applied",
            lines=_credit_applied_lines(
                payment=payment, total_cents=total, allocations=allocations
            ),
            actor=actor,
            now=now,
        )
        Payment.objects.filter(pk=payment.pk).update(unapplied_cents=F("unapplied_cents") - total)
        created = _allocations_record(
            payment=payment,
            allocations=allocations,
            settlements=settlements,
            applied_date=applied_date,
            entry=entry,
            actor=actor,
            now=now,
            from_credit=True,
        )
        audit.record(
            actor=actor,
            action="payments.credit_applied",
            at=now,
            obj=payment,
            before={"unapplied_cents": payment.unapplied_cents},
            after={
                "unapplied_cents": payment.unapplied_cents - total,
                "allocations": {str(a.invoice): a.amount_cents for a in allocations},
                "entry": entry.pk,
            },
        )
    return created


def payment_credit_apply_to_receivable(
    *,
    payment: Payment,
    amount_cents: int,
    matter: Matter,
    reference: str,
    applied_date: date,
    actor: User | None,
    now: datetime,
    posting_scope: Callable[[], AbstractContextManager[Any]] | None = None,
) -> JournalEntry:
    """Apply part of a payment's unapplied credit to a receivable that is NOT a billing invoice
    (an apps-above receivable, e.g. an imported legacy invoice ``reference``): one entry, Dr
    unapplied client credits, Cr accounts receivable of the payment's client and ``matter``
    with no invoice. The caller owns the receivable's balance and must hold its lock;
    ``posting_scope`` wraps the posting (so the caller can name the A/R posting for aging
    without payments knowing the caller). Returns the entry."""
    if amount_cents <= 0:
        raise PaymentError(
            ALLOC_NOT_POSITIVE.format(invoice=reference, amount=firm_money(amount_cents)),
            field="amount",
        )
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        _refuse_unless_received(payment)
        if matter.client_id != payment.client_id:
            raise PaymentError(
                ALLOC_RECEIVABLE_OTHER_CLIENT.format(
                    matter=matter, client=payment.client, payment=payment
                ),
                field="matter",
            )
        _refuse_over_spendable(payment, amount_cents, field="amount")
        lines = [
            PostingLine(
                accounts.UNAPPLIED_CLIENT_CREDITS,
                amount_cents,
                client=payment.client,
                matter=payment.matter,
            ),
            PostingLine(
                accounts.ACCOUNTS_RECEIVABLE, -amount_cents, client=payment.client, matter=matter
            ),
        ]
        with posting_scope() if posting_scope is not None else nullcontext():
            entry = entry_post(
                kind=EntryKind.PAYMENT_APPLIED,
                entry_date=applied_date,
                memo=fit_to_field(
                    JournalEntry,
                    "memo",
                    f"Unapplied credit of {payment.number} applied to {reference}",
                ),
                lines=lines,
                actor=actor,
                now=now,
            )
        Payment.objects.filter(pk=payment.pk).update(
            unapplied_cents=F("unapplied_cents") - amount_cents
        )
        audit.record(
            actor=actor,
            action="payments.credit_applied",
            at=now,
            obj=payment,
            before={"unapplied_cents": payment.unapplied_cents},
            after={
                "unapplied_cents": payment.unapplied_cents - amount_cents,
                "allocations": {reference: amount_cents},
                "entry": entry.pk,
            },
        )
    return entry


def unapplied_credit_apply(
    *,
    client: Client,
    invoice: Invoice,
    actor: User | None,
    now: datetime,
    amount_cents: int | None = None,
) -> list[PaymentAllocation]:
    """Apply the client's unapplied credit (oldest payment first) to ``invoice``, up to
    ``amount_cents`` (default: as much as both allow)."""
    from caseledger.payments.selectors import client_unapplied_cents

    with transaction.atomic():
        _check_invoices_payable([invoice])
        settlement = locks.lock_invoice_settlement(invoice)
        available = client_unapplied_cents(client)
        if available <= 0:
            raise PaymentError(CREDIT_NONE.format(client=client), field="client")
        want = (
            settlement.balance_due_cents
            if amount_cents is None
            else amount_check(amount_cents, field="amount")
        )
        if want <= 0:
            raise PaymentError(
                ALLOC_NOT_POSITIVE.format(invoice=invoice, amount=firm_money(want)),
                field="allocations",
            )
        if want > settlement.balance_due_cents:
            raise PaymentError(
                ALLOC_OVER_BALANCE.format(
                    amount=firm_money(want),
                    invoice=invoice,
                    balance=firm_money(settlement.balance_due_cents),
                ),
                field="allocations",
            )
        created: list[PaymentAllocation] = []
        remaining = min(want, available)
        payment_ids = list(
            Payment.objects.filter(
                client=client,
                status=PaymentStatus.RECEIVED,
                unapplied_cents__gt=F("refund_pending_cents"),
            )
            .order_by("received_date", "id")
            .values_list("id", flat=True)
        )
        for payment in locks.lock_payments(payment_ids):
            if remaining <= 0:
                break
            take = min(remaining, payment.unapplied_cents - payment.refund_pending_cents)
            if take <= 0:
                continue
            created.extend(
                payment_allocate(
                    payment=payment, allocations=[Allocation(invoice, take)], actor=actor, now=now
                )
            )
            remaining -= take
    return created


def payment_unapplied_credit_add(
    *,
    payment: Payment,
    amount_cents: int,
    currency: str,
    client: Client,
    reason: str,
    actor: User | None,
    now: datetime,
) -> Payment:
    """Return ``amount_cents`` of credit to a payment's unapplied balance (a credit note gives
    back money this payment paid on an invoice; the caller posts the ledger entry, Cr unapplied
    client credits, in the same transaction).

    Locks the payment (``payments.locks.lock_payment``; a caller holding the matter, trust or
    settlement locks takes this after them, per the global order), checks it and records
    ``payments.unapplied_credit_added``. Refuses, changing nothing (PaymentError naming the
    field): a non-positive amount, a currency other than the firm's (payments are in the firm's
    currency), a client other than the payment's, a payment that is not RECEIVED, an unapplied
    balance that would exceed what the payment brought in, a blank reason."""
    from caseledger.core.selectors import firm_get

    _refuse_unless_positive(amount_cents)
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError(CREDIT_ADD_REASON_REQUIRED, field="reason")
    expected = firm_get().currency
    if (currency or "").upper() != expected.upper():
        raise PaymentError(
            CREDIT_ADD_CURRENCY.format(payment=payment, expected=expected, got=currency),
            field="currency",
        )
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        if payment.client_id != client.pk:
            raise PaymentError(
                CREDIT_ADD_OTHER_CLIENT.format(
                    payment=payment, owner=payment.client, client=client
                ),
                field="client",
            )
        _refuse_unless_received(payment)
        total = payment.unapplied_cents + amount_cents
        if total > payment.amount_cents:
            raise PaymentError(
                CREDIT_ADD_OVER_PAYMENT.format(
                    amount=firm_money(amount_cents, expected),
                    payment=payment,
                    total=firm_money(total, expected),
                    paid=firm_money(payment.amount_cents, expected),
                ),
                field="amount",
            )
        Payment.objects.filter(pk=payment.pk).update(
            unapplied_cents=F("unapplied_cents") + amount_cents
        )
        audit.record(
            actor=actor,
            action="payments.unapplied_credit_added",
            at=now,
            obj=payment,
            before={"unapplied_cents": payment.unapplied_cents},
            after={"unapplied_cents": total, "reason": reason[:300]},
        )
        payment.unapplied_cents = total
    return payment
