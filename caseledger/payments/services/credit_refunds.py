"""Refunds of unapplied credit by check or transfer (at once) or card (``payments.refunds``, in
two phases)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import F

from caseledger.core import audit, clock
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.models import User
from caseledger.ledger import accounts
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, entry_post
from caseledger.payments import locks
from caseledger.payments.choices import (
    RefundMethod,
    RefundStatus,
)
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    CreditRefund,
    Payment,
)
from caseledger.payments.services.common import (
    _refuse_unless_positive,
    _refuse_unless_received,
    _spendable_cents,
)

REFUND_OVER_UNAPPLIED = (
    "amount: refund {amount} exceeds the unapplied credit of payment {payment} ({unapplied})"
)
REFUND_METHOD_INVALID = "method: must be one of {methods} (got {method!r})"


def _refund_request_check(*, method: str, amount_cents: int) -> None:
    """Raise PaymentError unless ``method`` is a refund method and the amount is positive
    (checked before anything is locked, whichever way the refund goes)."""
    if method not in RefundMethod.values:
        raise PaymentError(
            REFUND_METHOD_INVALID.format(methods=", ".join(RefundMethod.values), method=method),
            field="method",
        )
    _refuse_unless_positive(amount_cents)


def _credit_refund_post(
    *, payment: Payment, amount_cents: int, refund_date: date, actor: User | None, now: datetime
) -> JournalEntry:
    """Post a refund of the LOCKED payment's unapplied credit from operating: Dr unapplied
    client credits, Cr operating bank."""
    return entry_post(
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
    _refund_request_check(method=method, amount_cents=amount_cents)
    if method == RefundMethod.CARD:
        from caseledger.payments.refunds import card_refund_request

        return card_refund_request(
            payment=payment, amount_cents=amount_cents, actor=actor, now=now, memo=reference
        )
    amount_check(amount_cents)
    with transaction.atomic():
        payment = locks.lock_payment(payment.pk)
        _refuse_unless_received(payment)
        available = _spendable_cents(payment)
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
        entry = _credit_refund_post(
            payment=payment,
            amount_cents=amount_cents,
            refund_date=refund_date,
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
