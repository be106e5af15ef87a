"""Refunds of an issued credit note: operating money back by check, transfer or card (a card refund
follows the payments refund it sent), trust money only through a trust disbursement request
(a trust refund follows that request; a rejected or expired one may be requested again)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction

from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.models import User
from caseledger.core.permissions import require
from caseledger.credits import exceptions as E
from caseledger.credits import locks
from caseledger.credits.choices import (
    RETRYABLE_REFUND_STATUSES,
    RefundMethod,
    RefundSource,
    RefundStatus,
)
from caseledger.credits.models import CreditNote, CreditRefund
from caseledger.credits.selectors import trust_refund_live_cents
from caseledger.credits.transitions import REFUND_TRANSITIONS
from caseledger.trust.choices import DisbursementStatus
from caseledger.trust.hooks import DisbursementChange


def refund_credit_note(*, note: CreditNote, actor: User, now: datetime, refund_date: date) -> None:
    """Refund ``note.refund_cents`` from the sources this note returned money to."""
    from caseledger.payments.models import Payment
    from caseledger.payments.services import unapplied_credit_refund

    invoice = note.invoice
    if note.refund_method == RefundMethod.TRUST:
        _refund_through_trust(note=note, actor=actor, now=now, refund_date=refund_date)
        return
    remaining = note.refund_cents
    for source in note.sources.filter(kind=RefundSource.OPERATING).order_by("id"):
        if remaining <= 0:
            break
        take = min(remaining, source.amount_cents)
        remaining -= take
        assert source.payment_id is not None  # OPERATING sources name their payment
        payment = Payment.objects.get(pk=source.payment_id)
        result = unapplied_credit_refund(
            payment=payment,
            amount_cents=take,
            method=note.refund_method,
            actor=actor,
            now=now,
            reference=f"Credit note {note.number}",
        )
        # A card refund is only sent to the processor after this transaction commits
        # (payments.refunds); it follows the payments refund (card_refund_follow).
        card = note.refund_method == RefundMethod.CARD
        refund = CreditRefund.objects.create(
            credit_note=note,
            client_id=invoice.client_id,
            matter_id=invoice.matter_id,
            source=RefundSource.OPERATING,
            method=note.refund_method,
            status=RefundStatus.CARD_REQUESTED if card else RefundStatus.POSTED,
            amount_cents=take,
            refund_date=refund_date,
            reference=str(getattr(result, "reference", "") or "")[:120],
            external_id=result.pk,
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="credits.refund_requested" if card else "credits.refund_posted",
            at=now,
            obj=refund,
            after={
                "credit_note": note.number,
                "amount_cents": take,
                "method": note.refund_method,
                "payment": payment.pk,
            },
        )


# A credit note's card refund's status for each status of the payments refund it sent.
_REFUND_STATUS_FOR_CARD_REFUND: dict[str, str] = {
    "REQUESTED": RefundStatus.CARD_REQUESTED,
    "SUCCEEDED": RefundStatus.POSTED,
    "FAILED": RefundStatus.CARD_FAILED,
}


def card_refund_follow(*, refund: Any, actor: User | None, now: datetime) -> None:
    """Payments hook (``payments.hooks.register_card_refund_listener``, registered in
    ``CreditsConfig.ready``): a credit note's card refund takes the status of the payments
    refund it sent, in that refund's transaction, with an audit event per row changed.
    Refunded: the processor's refund id becomes the reference, dated the day it left."""
    status = _REFUND_STATUS_FOR_CARD_REFUND.get(str(refund.status))
    if status is None:
        return
    for row in locks.lock_card_refunds(refund.pk):
        if row.status == status:
            continue
        REFUND_TRANSITIONS.check(document=f"#{row.pk}", from_status=row.status, to_status=status)
        fields: dict[str, Any] = {"status": status}
        if status == RefundStatus.POSTED:
            fields["reference"] = str(refund.reference)[:120]
            fields["refund_date"] = refund.refund_date
        CreditRefund.objects.filter(pk=row.pk).update(**fields)
        audit.record(
            actor=actor,
            action="credits.card_refund_status",
            at=now,
            obj=row,
            before={"status": row.status},
            after={**{k: str(v) for k, v in fields.items()}, "payment_refund": refund.pk},
            actor_label=None if actor else "card refund",
        )


def _refund_through_trust(
    *,
    note: CreditNote,
    actor: User,
    now: datetime,
    refund_date: date,
    amount_cents: int | None = None,
) -> CreditRefund:
    """A disbursement request with purpose REFUND pays the client out of trust, only after the
    trust approvals (the money went back to the client's trust ledger on issue). The amount is
    the credit note's refund unless given (a refund requested again)."""
    amount = note.refund_cents if amount_cents is None else amount_cents
    from caseledger.trust.choices import DisbursementMethod, DisbursementPurpose
    from caseledger.trust.services import disbursement_request

    invoice = note.invoice
    request = disbursement_request(
        matter=invoice.matter,
        payee=invoice.client.name,
        amount_cents=amount,
        purpose=DisbursementPurpose.REFUND,
        method=DisbursementMethod.CHECK,
        actor=actor,
        now=now,
        memo=f"Refund of credit note {note.number} on invoice {invoice}",
        credit_note_ref=note.number or "",
    )
    refund = CreditRefund.objects.create(
        credit_note=note,
        client_id=note.client_id,
        matter_id=note.matter_id,
        source=RefundSource.TRUST,
        method=RefundMethod.TRUST,
        status=RefundStatus.AWAITING_DISBURSEMENT,
        amount_cents=amount,
        refund_date=refund_date,
        reference=str(request.number),
        external_id=request.pk,
        created_by=actor,
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="credits.trust_refund_requested",
        at=now,
        obj=refund,
        after={
            "credit_note": note.number,
            "amount_cents": amount,
            "disbursement": request.pk,
        },
    )
    return refund


# A trust refund's status for each status of its disbursement request.
_REFUND_STATUS_FOR_DISBURSEMENT: dict[str, str] = {
    DisbursementStatus.APPROVED: RefundStatus.DISBURSEMENT_APPROVED,
    DisbursementStatus.POSTED: RefundStatus.POSTED,
    DisbursementStatus.REJECTED: RefundStatus.DISBURSEMENT_REJECTED,
    DisbursementStatus.EXPIRED: RefundStatus.DISBURSEMENT_EXPIRED,
}


def trust_refund_request_again(*, refund: CreditRefund, actor: User, now: datetime) -> CreditRefund:
    """Request a rejected or expired trust refund again: a NEW refund row with a new disbursement
    request for the same amount, through the same trust approvals; the old row keeps its status
    and history. Refused (nothing written) unless ``refund`` is a rejected or expired trust
    refund, or when the credit note's trust refunds still refunded or waiting plus this one
    would exceed the note's refund amount (so it is never requested twice)."""
    require(actor, "credits.request")
    with transaction.atomic():
        locks.lock_for_credit(refund.credit_note.invoice, now=now)
        note = locks.lock_credit_note(refund.credit_note)
        old = CreditRefund.objects.get(pk=refund.pk)
        if old.source != RefundSource.TRUST or old.status not in RETRYABLE_REFUND_STATUSES:
            raise E.CreditError(
                E.REFUND_NOT_RETRYABLE.format(
                    refund=f"{old.get_source_display().lower()} refund {old.reference}".strip(),
                    status=old.get_status_display().lower(),
                ),
                field="refund",
            )
        live = trust_refund_live_cents(note.refunds.all())
        if live + old.amount_cents > note.refund_cents:
            raise E.CreditError(
                E.REFUND_ALREADY_REQUESTED.format(
                    note=note.number,
                    live=firm_money(live),
                    amount=firm_money(old.amount_cents),
                    limit=firm_money(note.refund_cents),
                ),
                field="refund",
            )
        return _refund_through_trust(
            note=note,
            actor=actor,
            now=now,
            refund_date=clock.firm_date(now),
            amount_cents=old.amount_cents,
        )


def trust_refund_follow_disbursement(change: DisbursementChange) -> None:
    """Trust hook (``trust.hooks.register_disbursement_listener``, registered in
    ``CreditsConfig.ready``): a credit note's trust refund takes the status of its disbursement
    request, in the disbursement's transaction, with an audit event per refund changed. Paid:
    the refund is dated the day it left trust."""
    from caseledger.trust.choices import DisbursementPurpose

    disbursement = change.disbursement
    if disbursement.purpose != DisbursementPurpose.REFUND:
        return
    status = _REFUND_STATUS_FOR_DISBURSEMENT.get(disbursement.status)
    if status is None:
        return
    for refund in locks.lock_trust_refunds(disbursement.pk):
        if refund.status == status:
            continue
        REFUND_TRANSITIONS.check(
            document=f"#{refund.pk}", from_status=refund.status, to_status=status
        )
        fields: dict[str, Any] = {"status": status}
        if status == RefundStatus.POSTED and disbursement.posted_date is not None:
            fields["refund_date"] = disbursement.posted_date
        CreditRefund.objects.filter(pk=refund.pk).update(**fields)
        audit.record(
            actor=change.actor,
            action="credits.trust_refund_status",
            at=change.now,
            obj=refund,
            before={"status": refund.status},
            after={**fields, "disbursement": disbursement.number},
        )
