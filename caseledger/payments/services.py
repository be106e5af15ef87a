"""Payments: record, allocate, apply and refund unapplied credit, and online checkout events.

Every write runs in one transaction, takes its locks through ``payments.locks`` in the global
order (matter -> trust balance -> invoice -> payment), posts exactly one balanced journal entry
through ``ledger.services.entry_post`` and records one audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core import audit, clock
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.models import User
from caseledger.core.numbering import counter_next
from caseledger.core.text import fit_to_field
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.matters.models import Matter
from caseledger.payments import locks
from caseledger.payments.choices import (
    CheckoutPurpose,
    CheckoutStatus,
    PaymentMethod,
    PaymentStatus,
    Provider,
    RefundMethod,
    RefundStatus,
)
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    CheckoutInvoice,
    CheckoutSession,
    CreditRefund,
    DocumentCounter,
    FormSubmission,
    InvoiceSettlement,
    Payment,
    PaymentAllocation,
    ProcessedWebhookEvent,
)
from caseledger.payments.providers.base import PaymentEvent
from caseledger.payments.receipts import payment_receipt_queue

AMOUNT_NOT_POSITIVE = "amount: must be positive (got {amount})"
CHECKOUT_LINES_MISMATCH = (
    "invoices: the checkout's invoice must be the first of its invoices and its amount their sum"
)
FEE_INVALID = "fee: must be between 0 and the payment amount {amount} (got {fee})"
PAYER_REQUIRED = "payer: who paid is required"
CHECK_NUMBER_REQUIRED = "reference: a check payment needs the check number"
WIRE_REFERENCE_REQUIRED = "reference: a wire payment needs the wire reference"
METHOD_INVALID = "method: must be one of {methods} (got {method!r})"
DATE_IN_FUTURE = "received_date: cannot be after today ({today}) (got {date})"
MATTER_OTHER_CLIENT = "matter: {matter} belongs to another client"
ALLOC_INVOICE_TWICE = "allocations: invoice {invoice} is listed twice"
ALLOC_OTHER_CLIENT = "allocations: invoice {invoice} belongs to another client"
ALLOC_INVOICE_VOID = "allocations: invoice {invoice} is void; nothing can be paid on it"
ALLOC_INVOICE_NOT_ISSUED = "allocations: invoice {invoice} is not issued"
ALLOC_NOT_POSITIVE = "allocations: the amount for invoice {invoice} must be positive (got {amount})"
ALLOC_OVER_BALANCE = (
    "allocations: {amount} exceeds the balance due on invoice {invoice} ({balance})"
)
ALLOC_OVER_PAYMENT = "allocations: total {total} exceeds the payment amount {amount}"
ALLOC_OVER_UNAPPLIED = (
    "allocations: total {total} exceeds the unapplied credit of payment {payment} ({unapplied})"
)
ALLOC_EMPTY = "allocations: choose at least one invoice and amount"
PAYMENT_NOT_RECEIVED = "payment: {payment} is {status}; only received payments can be applied"
CREDIT_NONE = "client: {client} has no unapplied credit"
REFUND_OVER_UNAPPLIED = (
    "amount: refund {amount} exceeds the unapplied credit of payment {payment} ({unapplied})"
)
REFUND_METHOD_INVALID = "method: must be one of {methods} (got {method!r})"
CREDIT_ADD_CURRENCY = "currency: payment {payment} is in {expected}; the credit is in {got}"
CREDIT_ADD_OTHER_CLIENT = "client: payment {payment} belongs to {owner}, not {client}"
CREDIT_ADD_OVER_PAYMENT = (
    "amount: {amount} would raise the unapplied credit of payment {payment} to {total}, more "
    "than the payment itself ({paid})"
)
CREDIT_ADD_REASON_REQUIRED = "reason: say why the credit goes back to the payment"
HOLD_NOT_HELD = "payment: {payment} is not held for review"
INVOICE_NOT_ISSUED_FOR_SETTLEMENT = "invoice: {invoice} is not issued; it has no settlement"


@dataclass(frozen=True)
class Allocation:
    invoice: Invoice
    amount_cents: int


def _next_number(name: str, prefix: str) -> str:
    """Gapless: the counter row is bumped with F()+1 inside the caller's transaction."""
    return f"{prefix}-{counter_next(DocumentCounter, name=name):06d}"


# --- one-time form tokens ----------------------------------------------------------------------


def form_token_consume(token: str, user: object, path: str, now: datetime) -> bool:
    """Record a money form's one-time token (``core.forms.handle_form`` calls this inside the
    write's transaction). False when it was already used: the first submit recorded the money,
    this one must record nothing. On PostgreSQL a concurrent second insert waits for the first
    transaction and then fails on the unique key."""
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            FormSubmission.objects.create(
                token=token[:64], user_id=user_id, path=path[:300], created_at=now
            )
    except IntegrityError:
        return False
    return True


# --- settlements -----------------------------------------------------------------------------


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


# --- validation ------------------------------------------------------------------------------


def _validate_common(
    *,
    method: str,
    payer: str,
    reference: str,
    amount_cents: int,
    fee_cents: int,
    received_date: date,
    now: datetime,
    typed: bool = True,
) -> None:
    if typed:
        # Money a processor reports as received is recorded whatever its size.
        amount_check(amount_cents)
        amount_check(fee_cents, field="fee")
    if method not in PaymentMethod.values:
        raise PaymentError(
            METHOD_INVALID.format(methods=", ".join(PaymentMethod.values), method=method),
            field="method",
        )
    if amount_cents <= 0:
        raise PaymentError(
            AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )
    if fee_cents < 0 or fee_cents > amount_cents:
        raise PaymentError(
            FEE_INVALID.format(amount=firm_money(amount_cents), fee=firm_money(fee_cents)),
            field="fee",
        )
    if not payer.strip():
        raise PaymentError(PAYER_REQUIRED, field="payer")
    if method == PaymentMethod.CHECK and not reference.strip():
        raise PaymentError(CHECK_NUMBER_REQUIRED, field="reference")
    if method == PaymentMethod.WIRE and not reference.strip():
        raise PaymentError(WIRE_REFERENCE_REQUIRED, field="reference")
    clock.date_check(received_date, field="received_date")
    today = clock.firm_date(now)
    if received_date > today:
        raise PaymentError(
            DATE_IN_FUTURE.format(today=today, date=received_date), field="received_date"
        )


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


def _oldest_first_locked(
    *, client: Client, matter: Matter | None, amount_cents: int
) -> tuple[list[Allocation], dict[int, InvoiceSettlement]]:
    """Oldest-first allocations computed from LOCKED balances.

    The candidate invoices are read first (which invoices may be open), then every candidate's
    settlement is locked in invoice-id order, and only then are the balances read: a concurrent
    payment for the same client waits here and sees what the first one left, instead of
    allocating from a stale balance and being refused at validation. Candidates that a
    concurrent write paid in full or voided meanwhile are skipped."""
    from caseledger.payments.selectors import open_invoices_for

    candidates = open_invoices_for(client, matter)
    settlements = locks.lock_invoice_settlements(candidates)
    result: list[Allocation] = []
    remaining = amount_cents
    for invoice in candidates:
        if remaining <= 0:
            break
        invoice.refresh_from_db(fields=["status"])
        if invoice.status != InvoiceStatus.ISSUED:
            continue
        take = min(remaining, settlements[invoice.pk].balance_due_cents)
        if take > 0:
            result.append(Allocation(invoice, take))
            remaining -= take
    return result, settlements


# --- payments --------------------------------------------------------------------------------


def payment_record(
    *,
    client: Client,
    method: str,
    payer: str,
    amount_cents: int,
    received_date: date,
    actor: User | None,
    now: datetime,
    matter: Matter | None = None,
    reference: str = "",
    allocations: Sequence[Allocation] | None = None,
    fee_cents: int = 0,
    provider: str = Provider.MANUAL,
    checkout: CheckoutSession | None = None,
    memo: str = "",
) -> Payment:
    """Record money received into operating and post it in one entry.

    ``allocations`` None: oldest open invoices first (of ``matter`` when given); an empty list:
    nothing allocated. The rest becomes unapplied client credit. A processor fee is expensed to
    CARD_PROCESSING_FEES in the same entry (operating receives amount - fee).
    Raises PaymentError (nothing recorded) on any invalid input.
    """
    _validate_common(
        method=method,
        payer=payer,
        reference=reference,
        amount_cents=amount_cents,
        fee_cents=fee_cents,
        received_date=received_date,
        now=now,
        typed=checkout is None,
    )
    if matter is not None and matter.client_id != client.pk:
        raise PaymentError(MATTER_OTHER_CLIENT.format(matter=matter), field="matter")
    payer = fit_to_field(Payment, "payer", payer.strip())
    reference = fit_to_field(Payment, "reference", reference.strip())
    memo = fit_to_field(Payment, "memo", memo)
    with transaction.atomic():
        if allocations is None:
            # Lock first, then allocate (see _oldest_first_locked).
            allocations, settlements = _oldest_first_locked(
                client=client, matter=matter, amount_cents=amount_cents
            )
        else:
            invoices = [a.invoice for a in allocations]
            _check_invoices_payable(invoices)
            settlements = locks.lock_invoice_settlements(invoices)
        total = _validate_allocations(
            client=client, allocations=allocations, settlements=settlements, typed=checkout is None
        )
        if total > amount_cents:
            raise PaymentError(
                ALLOC_OVER_PAYMENT.format(total=firm_money(total), amount=firm_money(amount_cents)),
                field="allocations",
            )
        unapplied = amount_cents - total
        number = _next_number("payment", "P")
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
        if unapplied:
            lines.append(
                PostingLine(
                    accounts.UNAPPLIED_CLIENT_CREDITS, -unapplied, client=client, matter=matter
                )
            )
        lines = [line for line in lines if line.amount_cents != 0]
        entry = entry_post(
            kind=EntryKind.PAYMENT_RECEIVED,
            entry_date=received_date,
            memo=fit_to_field(
                JournalEntry,
                "memo",
                f"Payment {number} from {payer} ({PaymentMethod(method).label})",
            ),
            lines=lines,
            actor=actor,
            now=now,
        )
        payment = Payment.objects.create(
            number=number,
            client=client,
            matter=matter,
            method=method,
            status=PaymentStatus.RECEIVED,
            payer=payer.strip(),
            reference=reference.strip(),
            received_date=received_date,
            amount_cents=amount_cents,
            fee_cents=fee_cents,
            unapplied_cents=unapplied,
            provider=provider,
            checkout=checkout,
            memo=memo,
            entry=entry,
            created_by=actor,
            created_at=now,
        )
        for alloc in allocations:
            PaymentAllocation.objects.create(
                payment=payment,
                invoice=alloc.invoice,
                amount_cents=alloc.amount_cents,
                applied_date=received_date,
                entry=entry,
                created_by=actor,
                created_at=now,
            )
            settlement_apply(
                settlement=settlements[alloc.invoice.pk], paid_cents=alloc.amount_cents, now=now
            )
        audit.record(
            actor=actor,
            action="payments.payment_recorded",
            at=now,
            obj=payment,
            after={
                "amount_cents": amount_cents,
                "fee_cents": fee_cents,
                "method": method,
                "allocations": {str(a.invoice): a.amount_cents for a in allocations},
                "unapplied_cents": unapplied,
                "entry": entry.pk,
            },
        )
    return payment


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
        if payment.status != PaymentStatus.RECEIVED:
            raise PaymentError(
                PAYMENT_NOT_RECEIVED.format(
                    payment=payment, status=payment.get_status_display().lower()
                ),
                field="payment",
            )
        total = _validate_allocations(
            client=payment.client, allocations=allocations, settlements=settlements
        )
        # Credit held for a card refund at the processor is not there to spend.
        spendable = payment.unapplied_cents - payment.refund_pending_cents
        if total > spendable:
            raise PaymentError(
                ALLOC_OVER_UNAPPLIED.format(
                    total=firm_money(total),
                    payment=payment,
                    unapplied=firm_money(spendable),
                ),
                field="allocations",
            )
        applied_date = clock.firm_date(now)
        lines = [
            PostingLine(
                accounts.UNAPPLIED_CLIENT_CREDITS,
                total,
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
        entry = entry_post(
            kind=EntryKind.PAYMENT_APPLIED,
            entry_date=applied_date,
            memo=f"Unapplied credit of {payment.number} applied",
            lines=lines,
            actor=actor,
            now=now,
        )
        Payment.objects.filter(pk=payment.pk).update(unapplied_cents=F("unapplied_cents") - total)
        created = []
        for alloc in allocations:
            created.append(
                PaymentAllocation.objects.create(
                    payment=payment,
                    invoice=alloc.invoice,
                    amount_cents=alloc.amount_cents,
                    applied_date=applied_date,
                    from_credit=True,
                    entry=entry,
                    created_by=actor,
                    created_at=now,
                )
            )
            settlement_apply(
                settlement=settlements[alloc.invoice.pk], paid_cents=alloc.amount_cents, now=now
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


ALLOC_RECEIVABLE_OTHER_CLIENT = (
    "matter: {matter} does not belong to {client}, payment {payment}'s client"
)


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
        if payment.status != PaymentStatus.RECEIVED:
            raise PaymentError(
                PAYMENT_NOT_RECEIVED.format(
                    payment=payment, status=payment.get_status_display().lower()
                ),
                field="payment",
            )
        if matter.client_id != payment.client_id:
            raise PaymentError(
                ALLOC_RECEIVABLE_OTHER_CLIENT.format(
                    matter=matter, client=payment.client, payment=payment
                ),
                field="matter",
            )
        spendable = payment.unapplied_cents - payment.refund_pending_cents
        if amount_cents > spendable:
            raise PaymentError(
                ALLOC_OVER_UNAPPLIED.format(
                    total=firm_money(amount_cents), payment=payment, unapplied=firm_money(spendable)
                ),
                field="amount",
            )
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


def unapplied_credit_refund(
    *,
    payment: Payment,
    amount_cents: int,
    method: str,
    actor: User | None,
    now: datetime,
    reference: str = "",
) -> CreditRefund:
    """Pay unapplied credit back to the client from operating (Dr unapplied credits, Cr operating
    bank). Check and transfer refunds are recorded at once (SUCCEEDED). ``method`` CARD refunds
    through the provider the payment came from in two phases (``payments.refunds``): this
    returns the REQUESTED row; the processor is called after the commit."""
    if method not in RefundMethod.values:
        raise PaymentError(
            REFUND_METHOD_INVALID.format(methods=", ".join(RefundMethod.values), method=method),
            field="method",
        )
    if amount_cents <= 0:
        raise PaymentError(
            AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )
    if method == RefundMethod.CARD:
        from caseledger.payments.refunds import card_refund_request

        return card_refund_request(
            payment=payment, amount_cents=amount_cents, actor=actor, now=now, memo=reference
        )
    amount_check(amount_cents)
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        if payment.status != PaymentStatus.RECEIVED:
            raise PaymentError(
                PAYMENT_NOT_RECEIVED.format(
                    payment=payment, status=payment.get_status_display().lower()
                ),
                field="payment",
            )
        available = payment.unapplied_cents - payment.refund_pending_cents
        if amount_cents > available:
            raise PaymentError(
                REFUND_OVER_UNAPPLIED.format(
                    amount=firm_money(amount_cents),
                    payment=payment,
                    unapplied=firm_money(available),
                ),
                field="amount",
            )
        refund_date = clock.firm_date(now)
        entry = entry_post(
            kind=EntryKind.REFUND,
            entry_date=refund_date,
            memo=f"Refund of unapplied credit from {payment.number}",
            lines=[
                PostingLine(
                    accounts.UNAPPLIED_CLIENT_CREDITS,
                    amount_cents,
                    client=payment.client,
                    matter=payment.matter,
                ),
                PostingLine(accounts.OPERATING_BANK, -amount_cents),
            ],
            actor=actor,
            now=now,
        )
        Payment.objects.filter(pk=payment.pk).update(
            unapplied_cents=F("unapplied_cents") - amount_cents
        )
        refund_row = CreditRefund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            method=method,
            status=RefundStatus.SUCCEEDED,
            reference=reference,
            refund_date=refund_date,
            entry=entry,
            created_by=actor,
            created_at=now,
            completed_at=now,
        )
        audit.record(
            actor=actor,
            action="payments.credit_refunded",
            at=now,
            obj=payment,
            before={"unapplied_cents": payment.unapplied_cents},
            after={
                "unapplied_cents": payment.unapplied_cents - amount_cents,
                "method": method,
                "entry": entry.pk,
            },
        )
    return refund_row


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

    if amount_cents <= 0:
        raise PaymentError(
            AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )
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
        if payment.status != PaymentStatus.RECEIVED:
            raise PaymentError(
                PAYMENT_NOT_RECEIVED.format(
                    payment=payment, status=payment.get_status_display().lower()
                ),
                field="payment",
            )
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


# --- online checkout -------------------------------------------------------------------------

# Handlers for checkout purposes other than invoices (trust registers TRUST_REQUEST in ready()).
# ``fn(*, session, event, now) -> str`` records the money and returns a short outcome.
_CHECKOUT_HANDLERS: dict[str, Callable[..., str]] = {}
# ``fn(*, payment, session, actor, now) -> str`` posts a released held payment of that purpose.
_HOLD_RELEASE_HANDLERS: dict[str, Callable[..., str]] = {}


def register_checkout_handler(
    purpose: str, *, paid: Callable[..., str], release: Callable[..., str]
) -> None:
    _CHECKOUT_HANDLERS[purpose] = paid
    _HOLD_RELEASE_HANDLERS[purpose] = release


def checkout_create(
    *,
    purpose: str,
    client: Client,
    matter: Matter,
    amount_cents: int,
    now: datetime,
    invoice: Invoice | None = None,
    trust_request_id: int | None = None,
    description: str,
    customer_email: str = "",
    return_url: str,
    invoice_amounts: Sequence[tuple[Invoice, int]] = (),
    actor: User | None = None,
) -> CheckoutSession:
    """Open a checkout with the configured provider and return it (``checkout_url`` to redirect to).

    ``invoice_amounts`` (several invoices paid at once, purpose INVOICE): each invoice with the
    amount asked for it; ``invoice`` is then the first and ``amount_cents`` their sum, and the
    payment is allocated to each up to its balance when it arrives.
    The provider is called outside any transaction; the session row is written after."""
    from caseledger.payments.providers import CheckoutRequest, provider_get

    if invoice_amounts and (
        invoice is not invoice_amounts[0][0]
        or amount_cents != sum(cents for _, cents in invoice_amounts)
    ):
        raise PaymentError(CHECKOUT_LINES_MISMATCH, field="invoices")
    if amount_cents <= 0:
        raise PaymentError(
            AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )
    provider = provider_get()
    session = CheckoutSession(
        provider=provider.name,
        purpose=purpose,
        client=client,
        matter=matter,
        invoice=invoice,
        trust_request_id=trust_request_id,
        amount_cents=amount_cents,
        currency=invoice.currency if invoice is not None else "USD",
        created_at=now,
    )
    created = provider.checkout_create(
        CheckoutRequest(
            token=str(session.token),
            amount_cents=amount_cents,
            currency=session.currency,
            description=description,
            customer_email=customer_email,
            return_url=return_url,
        )
    )
    session.provider_session_id = created.provider_session_id
    session.checkout_url = created.url
    with transaction.atomic():
        session.save()
        if len(invoice_amounts) > 1:
            CheckoutInvoice.objects.bulk_create(
                CheckoutInvoice(session=session, invoice=inv, amount_cents=cents)
                for inv, cents in invoice_amounts
            )
        after: dict[str, object] = {
            "purpose": purpose,
            "amount_cents": amount_cents,
            "provider": provider.name,
        }
        if len(invoice_amounts) > 1:
            after["invoices"] = {str(inv): cents for inv, cents in invoice_amounts}
        audit.record(
            actor=actor,
            action="payments.checkout_created",
            at=now,
            obj=session,
            after=after,
            actor_label="" if actor is not None else f"payer via {provider.name}",
        )
    return session


def _checkout_allocations(
    session: CheckoutSession, amount_cents: int
) -> tuple[list[Allocation], list[Invoice]]:
    """What a paid invoice checkout goes to: each of its invoices (the one, or every line of a
    several-invoice checkout, in order) up to the smaller of its balance due now and what was
    asked for it, while the money lasts. Locks the settlements (payment_record locks them again
    in the same transaction)."""
    lines = list(session.invoice_lines.select_related("invoice").order_by("id"))
    if lines:
        asked = [(line.invoice, line.amount_cents) for line in lines]
    else:
        assert session.invoice is not None
        asked = [(session.invoice, amount_cents)]
    invoices = [inv for inv, _ in asked]
    settlements = locks.lock_invoice_settlements(invoices)
    left = amount_cents
    allocations: list[Allocation] = []
    for inv, cents in asked:
        if inv.status != InvoiceStatus.ISSUED:
            continue
        take = min(left, cents, settlements[inv.pk].balance_due_cents)
        if take > 0:
            allocations.append(Allocation(inv, take))
            left -= take
    return allocations, invoices


def _record_invoice_checkout(
    *, session: CheckoutSession, event: PaymentEvent, now: datetime
) -> str:
    invoice = session.invoice
    assert invoice is not None
    allocations, invoices = _checkout_allocations(session, event.amount_cents)
    several = len(invoices) > 1
    payment = payment_record(
        client=session.client,
        matter=None if several else session.matter,
        method=PaymentMethod.CARD,
        payer=event.payer or session.client.name,
        reference=event.charge_ref,
        amount_cents=event.amount_cents,
        fee_cents=event.fee_cents,
        received_date=clock.firm_date(now),
        allocations=allocations,
        provider=session.provider,
        checkout=session,
        actor=None,
        now=now,
        memo=f"Online payment of {', '.join(str(inv) for inv in invoices)}",
    )
    payment_receipt_queue(payment=payment, invoices=invoices, now=now)
    return f"recorded {payment.number}"


def _hold(*, session: CheckoutSession, event: PaymentEvent, now: datetime, reason: str) -> Payment:
    payment = Payment.objects.create(
        number=_next_number("payment", "P"),
        client=session.client,
        matter=session.matter,
        method=PaymentMethod.CARD,
        status=PaymentStatus.HELD,
        payer=fit_to_field(Payment, "payer", event.payer or session.client.name),
        reference=fit_to_field(Payment, "reference", event.charge_ref),
        received_date=clock.firm_date(now),
        amount_cents=event.amount_cents,
        fee_cents=min(event.fee_cents, event.amount_cents),
        provider=session.provider,
        checkout=session,
        held_reason=fit_to_field(Payment, "held_reason", reason),
        created_at=now,
    )
    audit.record(
        actor=None,
        action="payments.payment_held",
        at=now,
        obj=payment,
        after={
            "reason": reason,
            "amount_cents": event.amount_cents,
            "expected_cents": session.amount_cents,
        },
        actor_label=f"webhook {session.provider}",
    )
    return payment


AMOUNT_MISMATCH = "amount: the provider reported {paid}, the checkout asked for {asked}"
CURRENCY_MISMATCH = "currency: the provider reported {paid}, the checkout asked for {asked}"


def checkout_event_process(*, event: PaymentEvent, provider: str, now: datetime) -> str:
    """Handle one verified provider event exactly once.

    The event id row is inserted first in the same transaction that records the money: a
    redelivered or concurrent duplicate fails on the unique constraint (after the first commits)
    and records nothing. Returns a short outcome for the webhook log.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                processed = ProcessedWebhookEvent.objects.create(
                    provider=provider,
                    event_id=event.event_id,
                    event_type=fit_to_field(ProcessedWebhookEvent, "event_type", event.event_type),
                    outcome="processing",
                    payload=event.payload,
                    processed_at=now,
                )
        except IntegrityError:
            return "duplicate event"
        outcome = _checkout_event_apply(event=event, provider=provider, now=now)
        ProcessedWebhookEvent.objects.filter(pk=processed.pk).update(
            outcome=fit_to_field(ProcessedWebhookEvent, "outcome", outcome)
        )
    return outcome


def _checkout_event_apply(*, event: PaymentEvent, provider: str, now: datetime) -> str:
    from caseledger.payments import provider_events

    if event.kind == "refunded":
        return provider_events.provider_refund_event_apply(event=event, provider=provider, now=now)
    if event.kind in {"dispute_created", "dispute_closed"}:
        return provider_events.provider_dispute_event_apply(event=event, provider=provider, now=now)
    if event.kind == "ignored" or not event.provider_session_id:
        return "ignored"
    session = locks.lock_checkout(
        fit_to_field(CheckoutSession, "provider_session_id", event.provider_session_id)
    )
    if session is None:
        return "unknown checkout session"
    if session.status in {CheckoutStatus.PAID, CheckoutStatus.HELD}:
        return f"checkout already {session.get_status_display().lower()}"
    before = session.status
    if event.kind == "processing":
        session.status = CheckoutStatus.PROCESSING
        outcome = "awaiting settlement"
    elif event.kind == "failed":
        session.status = CheckoutStatus.DECLINED
        outcome = "declined"
    elif event.kind == "expired":
        session.status = CheckoutStatus.EXPIRED
        outcome = "expired"
    elif event.kind == "paid":
        reason = ""
        if event.currency.upper() != session.currency.upper():
            reason = CURRENCY_MISMATCH.format(paid=event.currency.upper(), asked=session.currency)
        elif event.amount_cents != session.amount_cents:
            reason = AMOUNT_MISMATCH.format(
                paid=firm_money(event.amount_cents), asked=firm_money(session.amount_cents)
            )
        if reason:
            payment = _hold(session=session, event=event, now=now, reason=reason)
            session.status = CheckoutStatus.HELD
            outcome = f"held {payment.number}: {reason}"
        else:
            if session.purpose == CheckoutPurpose.INVOICE:
                outcome = _record_invoice_checkout(session=session, event=event, now=now)
            else:
                outcome = _CHECKOUT_HANDLERS[session.purpose](session=session, event=event, now=now)
            session.status = CheckoutStatus.PAID
        session.completed_at = now
        session.payment_ref = fit_to_field(CheckoutSession, "payment_ref", event.charge_ref)
    else:
        return "ignored"
    session.save(update_fields=["status", "completed_at", "payment_ref"])
    audit.record(
        actor=None,
        action="payments.checkout_event",
        at=now,
        obj=session,
        before={"status": before},
        after={"status": session.status, "event": event.event_id},
        actor_label=f"webhook {session.provider}",
    )
    return outcome


def held_payment_release(*, payment: Payment, actor: User, now: datetime) -> Payment:
    """Post a held online payment after review: an invoice payment is applied to its invoice up
    to the balance due (the rest unapplied credit); a trust-request payment goes to trust."""
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        if payment.status != PaymentStatus.HELD:
            raise PaymentError(HOLD_NOT_HELD.format(payment=payment), field="payment")
        session = payment.checkout
        assert session is not None
        if session.purpose == CheckoutPurpose.INVOICE:
            allocations, invoices = _checkout_allocations(session, payment.amount_cents)
            settlements: dict[int, InvoiceSettlement] = locks.lock_invoice_settlements(invoices)
            total = sum(a.amount_cents for a in allocations)
            unapplied = payment.amount_cents - total
            lines = [PostingLine(accounts.OPERATING_BANK, payment.amount_cents - payment.fee_cents)]
            if payment.fee_cents:
                lines.append(PostingLine(accounts.CARD_PROCESSING_FEES, payment.fee_cents))
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
            if unapplied:
                lines.append(
                    PostingLine(
                        accounts.UNAPPLIED_CLIENT_CREDITS,
                        -unapplied,
                        client=payment.client,
                        matter=payment.matter,
                    )
                )
            entry = entry_post(
                kind=EntryKind.PAYMENT_RECEIVED,
                entry_date=payment.received_date,
                memo=f"Held payment {payment.number} released",
                lines=[ln for ln in lines if ln.amount_cents],
                actor=actor,
                now=now,
            )
            for alloc in allocations:
                PaymentAllocation.objects.create(
                    payment=payment,
                    invoice=alloc.invoice,
                    amount_cents=alloc.amount_cents,
                    applied_date=payment.received_date,
                    entry=entry,
                    created_by=actor,
                    created_at=now,
                )
                settlement_apply(
                    settlement=settlements[alloc.invoice.pk], paid_cents=alloc.amount_cents, now=now
                )
            Payment.objects.filter(pk=payment.pk).update(
                status=PaymentStatus.RECEIVED, entry=entry, unapplied_cents=unapplied
            )
            payment.refresh_from_db()
            payment_receipt_queue(payment=payment, invoices=invoices, now=now)
        else:
            _HOLD_RELEASE_HANDLERS[session.purpose](
                payment=payment, session=session, actor=actor, now=now
            )
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.TO_TRUST)
        CheckoutSession.objects.filter(pk=session.pk).update(status=CheckoutStatus.PAID)
        payment.refresh_from_db()
        audit.record(
            actor=actor,
            action="payments.held_released",
            at=now,
            obj=payment,
            before={"status": PaymentStatus.HELD},
            after={"status": payment.status},
        )
    return payment


def held_payment_reject(*, payment: Payment, actor: User, now: datetime, note: str) -> Payment:
    """Refuse a held payment (returned to the payer at the provider): nothing is posted."""
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        if payment.status != PaymentStatus.HELD:
            raise PaymentError(HOLD_NOT_HELD.format(payment=payment), field="payment")
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.REJECTED, memo=note[:300])
        payment.refresh_from_db()
        audit.record(
            actor=actor,
            action="payments.held_rejected",
            at=now,
            obj=payment,
            before={"status": PaymentStatus.HELD},
            after={"status": payment.status, "note": note},
        )
    return payment
