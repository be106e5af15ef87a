"""Recording money received: one payment, its allocations (given, or oldest invoices first) and
its unapplied credit, posted in one entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.db import transaction

from caseledger.billing.choices import InvoiceStatus
from caseledger.clients.models import Client
from caseledger.core import audit, clock
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.models import User
from caseledger.core.text import fit_to_field
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.matters.models import Matter
from caseledger.payments import hooks, locks
from caseledger.payments.choices import (
    PaymentMethod,
    PaymentStatus,
    Provider,
)
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    CheckoutSession,
    InvoiceSettlement,
    Payment,
)
from caseledger.payments.services.common import (
    Allocation,
    _allocations_record,
    _check_invoices_payable,
    _next_number,
    _receipt_lines,
    _refuse_unless_positive,
    _validate_allocations,
)

FEE_INVALID = "fee: must be between 0 and the payment amount {amount} (got {fee})"
PAYER_REQUIRED = "payer: who paid is required"
CHECK_NUMBER_REQUIRED = "reference: a check payment needs the check number"
WIRE_REFERENCE_REQUIRED = "reference: a wire payment needs the wire reference"
METHOD_INVALID = "method: must be one of {methods} (got {method!r})"
DATE_IN_FUTURE = "received_date: cannot be after today ({today}) (got {date})"
MATTER_OTHER_CLIENT = "matter: {matter} belongs to another client"
ALLOC_OVER_PAYMENT = "allocations: total {total} exceeds the payment amount {amount}"


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
    _refuse_unless_positive(amount_cents)
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


def _allocations_locked(
    *,
    client: Client,
    matter: Matter | None,
    amount_cents: int,
    allocations: Sequence[Allocation] | None,
) -> tuple[Sequence[Allocation], dict[int, InvoiceSettlement]]:
    """The allocations of a payment being recorded with their invoices' LOCKED settlements:
    the given ones (their invoices checked payable first), or, when None, oldest open invoices
    first computed after the lock (see ``_oldest_first_locked``)."""
    if allocations is None:
        return _oldest_first_locked(client=client, matter=matter, amount_cents=amount_cents)
    invoices = [a.invoice for a in allocations]
    _check_invoices_payable(invoices)
    return allocations, locks.lock_invoice_settlements(invoices)


def _receipt_post(
    *,
    number: str,
    payer: str,
    method: str,
    received_date: date,
    lines: list[PostingLine],
    actor: User | None,
    now: datetime,
) -> JournalEntry:
    """Post payment ``number``'s receipt entry (PAYMENT_RECEIVED, dated when it was received)."""
    return entry_post(
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


def _payment_recorded_audit(
    *, payment: Payment, allocations: Sequence[Allocation], actor: User | None, now: datetime
) -> None:
    """The audit event of a recorded payment: amount, fee, method, allocations, the rest left
    unapplied and its entry."""
    audit.record(
        actor=actor,
        action="payments.payment_recorded",
        at=now,
        obj=payment,
        after={
            "amount_cents": payment.amount_cents,
            "fee_cents": payment.fee_cents,
            "method": payment.method,
            "allocations": {str(a.invoice): a.amount_cents for a in allocations},
            "unapplied_cents": payment.unapplied_cents,
            "entry": payment.entry_id,
        },
    )


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
        allocations, settlements = _allocations_locked(
            client=client, matter=matter, amount_cents=amount_cents, allocations=allocations
        )
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
        entry = _receipt_post(
            number=number,
            payer=payer,
            method=method,
            received_date=received_date,
            lines=_receipt_lines(
                client=client,
                matter=matter,
                amount_cents=amount_cents,
                fee_cents=fee_cents,
                allocations=allocations,
                unapplied_cents=unapplied,
            ),
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
        hooks.receipt_linked(payment=payment)
        _allocations_record(
            payment=payment,
            allocations=allocations,
            settlements=settlements,
            applied_date=received_date,
            entry=entry,
            actor=actor,
            now=now,
        )
        _payment_recorded_audit(payment=payment, allocations=allocations, actor=actor, now=now)
    return payment
