"""Credit notes: request one on an issued invoice (issued at once or left for a partner), and a
partner's approval (which issues it) or rejection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum

from caseledger.billing.models import Invoice
from caseledger.core import audit
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.models import User
from caseledger.core.permissions import require
from caseledger.credits import exceptions as E
from caseledger.credits import hooks as credit_hooks
from caseledger.credits import locks
from caseledger.credits.choices import CreditNoteStatus, ReasonCode, RefundMethod
from caseledger.credits.models import CreditNote, CreditNoteLine
from caseledger.credits.selectors import credit_note_needs_approval, invoice_creditable_cents
from caseledger.credits.services.common import check_invoice_issued, settlement_balance
from caseledger.credits.services.issue import issue
from caseledger.credits.services.sources import check_refund_route
from caseledger.credits.transitions import CREDIT_NOTE_TRANSITIONS


@dataclass(frozen=True)
class LineInput:
    description: str
    amount_cents: int
    invoice_line_id: int | None = None


def _validate_reason(reason_code: str, reason_text: str) -> None:
    if reason_code not in ReasonCode.values:
        raise E.CreditError(
            E.REASON_INVALID.format(choices=", ".join(ReasonCode.values), value=reason_code),
            field="reason_code",
        )
    if reason_code == ReasonCode.OTHER and not reason_text.strip():
        raise E.CreditError(E.REASON_TEXT_REQUIRED, field="reason_text")


def _lines_from_input(
    *, invoice: Invoice, lines: list[LineInput] | None, amount_cents: int | None
) -> list[LineInput]:
    if lines and amount_cents is not None:
        raise E.CreditError(E.LINES_AND_AMOUNT, field="lines")
    if not lines:
        if amount_cents is None:
            raise E.CreditError(E.LINES_EMPTY, field="lines")
        amount_check(amount_cents)
        if amount_cents <= 0:
            raise E.CreditError(
                E.AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
            )
        return [LineInput(description=f"Credit on invoice {invoice}", amount_cents=amount_cents)]
    for index, line in enumerate(lines):
        if not line.description.strip():
            raise E.CreditError(
                E.LINE_DESCRIPTION_REQUIRED.format(index=index), field=f"lines[{index}]"
            )
        amount_check(line.amount_cents, field=f"lines[{index}].amount")
        if line.amount_cents <= 0:
            raise E.CreditError(
                E.AMOUNT_NOT_POSITIVE.format(amount=firm_money(line.amount_cents)),
                field=f"lines[{index}].amount",
            )
    return lines


def _check_invoice_lines(*, invoice: Invoice, lines: list[LineInput]) -> None:
    """A credit against an invoice line may not exceed what is left to credit on that line."""
    line_ids = [line.invoice_line_id for line in lines if line.invoice_line_id is not None]
    if not line_ids:
        return
    from caseledger.billing.models import InvoiceLine  # type: ignore[attr-defined]

    invoice_lines = {
        row.pk: row for row in InvoiceLine.objects.filter(invoice=invoice, pk__in=line_ids)
    }
    credited = dict(
        CreditNoteLine.objects.filter(
            invoice_line_id__in=line_ids,
            credit_note__status__in=[CreditNoteStatus.ISSUED, CreditNoteStatus.PENDING_APPROVAL],
        )
        .values("invoice_line_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("invoice_line_id", "total")
    )
    asked: dict[int, int] = {}
    for index, line in enumerate(lines):
        if line.invoice_line_id is None:
            continue
        target = invoice_lines.get(line.invoice_line_id)
        if target is None:
            raise E.CreditError(
                E.LINE_NOT_ON_INVOICE.format(index=index, invoice=invoice),
                field=f"lines[{index}]",
            )
        asked[target.pk] = asked.get(target.pk, 0) + line.amount_cents
        left = target.amount_cents + target.tax_cents - int(credited.get(target.pk, 0))
        if asked[target.pk] > left:
            raise E.CreditError(
                E.LINE_OVER_INVOICE_LINE.format(
                    index=index, amount=firm_money(line.amount_cents), left=firm_money(left)
                ),
                field=f"lines[{index}].amount",
            )


def credit_note_request(
    *,
    invoice: Invoice,
    reason_code: str,
    reason_text: str = "",
    lines: list[LineInput] | None = None,
    amount_cents: int | None = None,
    refund_cents: int = 0,
    refund_method: str = "",
    actor: User,
    now: datetime,
) -> CreditNote:
    """Create a credit note on an issued invoice: issued at once when below the firm's threshold
    and its reason code needs no approval, otherwise left waiting for a partner.

    Raises CreditError for a bad reason, a bad amount, an amount over what is left to credit, or
    a bad refund request. Nothing is written when it raises."""
    require(actor, "credits.request")
    _validate_reason(reason_code, reason_text)
    lines = _lines_from_input(invoice=invoice, lines=lines, amount_cents=amount_cents)
    total = sum(line.amount_cents for line in lines)
    _validate_refund(refund_cents=refund_cents, refund_method=refund_method, total=total)
    with transaction.atomic():
        settlement = locks.lock_for_credit(
            invoice, now=now, lock_matter=reason_code == ReasonCode.SCOPE_REDUCTION
        )
        invoice.refresh_from_db()
        check_invoice_issued(invoice)
        _check_invoice_lines(invoice=invoice, lines=lines)
        _check_creditable(
            invoice=invoice,
            settlement=settlement,
            total=total,
            refund_cents=refund_cents,
            refund_method=refund_method,
        )
        note = _credit_note_create(
            invoice=invoice,
            reason_code=reason_code,
            reason_text=reason_text,
            lines=lines,
            total=total,
            refund_cents=refund_cents,
            refund_method=refund_method,
            actor=actor,
            now=now,
        )
        if not credit_note_needs_approval(amount_cents=total, reason_code=reason_code):
            issue(note=note, settlement=settlement, actor=actor, now=now)
    return note


def _validate_refund(*, refund_cents: int, refund_method: str, total: int) -> None:
    """The refund asked for is an amount between zero and the note's total, with a known method
    when there is one."""
    amount_check(refund_cents, field="refund")
    if refund_cents < 0:
        raise E.CreditError(
            E.REFUND_NEGATIVE.format(refund=firm_money(refund_cents)), field="refund"
        )
    if refund_cents > total:
        raise E.CreditError(
            E.REFUND_OVER_AMOUNT.format(refund=firm_money(refund_cents), amount=firm_money(total)),
            field="refund",
        )
    if refund_cents and not refund_method:
        raise E.CreditError(
            E.REFUND_METHOD_REQUIRED.format(refund=firm_money(refund_cents)), field="refund_method"
        )
    if refund_method and refund_method not in RefundMethod.values:
        raise E.CreditError(
            E.REFUND_METHOD_INVALID.format(
                choices=", ".join(RefundMethod.values), value=refund_method
            ),
            field="refund_method",
        )


def _check_creditable(
    *, invoice: Invoice, settlement: Any, total: int, refund_cents: int, refund_method: str
) -> None:
    """Under the settlement lock: the note is no more than is left to credit on the invoice, and
    its refund no more than the client credit it would make, going back the way the money came."""
    left = invoice_creditable_cents(invoice)
    if total > left:
        raise E.CreditError(
            E.CREDIT_OVER_CREDITABLE.format(
                amount=firm_money(total),
                invoice=invoice,
                left=firm_money(left),
                total=firm_money(invoice.total_cents),
                credited=firm_money(invoice.total_cents - left - int(settlement.written_off_cents)),
                written_off=firm_money(int(settlement.written_off_cents)),
            ),
            field="amount",
        )
    if refund_cents:
        projected_credit = max(total - settlement_balance(settlement), 0)
        if refund_cents > projected_credit:
            raise E.CreditError(
                E.REFUND_OVER_CLIENT_CREDIT.format(
                    refund=firm_money(refund_cents), credit=firm_money(projected_credit)
                ),
                field="refund",
            )
        check_refund_route(
            invoice=invoice,
            method=refund_method,
            refund_cents=refund_cents,
            credit_cents=projected_credit,
        )


def _credit_note_create(
    *,
    invoice: Invoice,
    reason_code: str,
    reason_text: str,
    lines: list[LineInput],
    total: int,
    refund_cents: int,
    refund_method: str,
    actor: User,
    now: datetime,
) -> CreditNote:
    """The note waiting for approval, its lines and the audit event of the request."""
    note = CreditNote.objects.create(
        invoice=invoice,
        client_id=invoice.client_id,
        matter_id=invoice.matter_id,
        status=CreditNoteStatus.PENDING_APPROVAL,
        reason_code=reason_code,
        reason_text=reason_text.strip(),
        currency=invoice.currency,
        amount_cents=total,
        refund_cents=refund_cents,
        refund_method=refund_method if refund_cents else "",
        requested_by=actor,
        requested_at=now,
    )
    CreditNoteLine.objects.bulk_create(
        CreditNoteLine(
            credit_note=note,
            position=index + 1,
            description=line.description.strip(),
            invoice_line_id=line.invoice_line_id,
            amount_cents=line.amount_cents,
        )
        for index, line in enumerate(lines)
    )
    audit.record(
        actor=actor,
        action="credits.credit_note_requested",
        at=now,
        obj=note,
        after={
            "invoice": str(invoice),
            "amount_cents": total,
            "reason_code": reason_code,
            "refund_cents": refund_cents,
            "refund_method": refund_method,
        },
    )
    return note


def _note_label(note: CreditNote) -> str:
    return note.number or f"request #{note.pk}"


def credit_note_approve(
    *, credit_note: CreditNote, approver: User, now: datetime, note: str = ""
) -> CreditNote:
    """A partner approves a waiting credit note; it is issued in the same transaction."""
    require(approver, "credits.approve")
    with transaction.atomic():
        settlement = locks.lock_for_credit(
            credit_note.invoice,
            now=now,
            lock_matter=credit_note.reason_code == ReasonCode.SCOPE_REDUCTION,
        )
        cn = locks.lock_credit_note(credit_note)
        CREDIT_NOTE_TRANSITIONS.check(
            document=_note_label(cn), from_status=cn.status, to_status=CreditNoteStatus.ISSUED
        )
        if cn.requested_by_id == approver.pk:
            raise E.CreditError(E.SELF_APPROVAL.format(document=cn), field="approver")
        gate = credit_hooks.approval_refusal(cn)
        if gate:
            raise E.CreditError(gate, field="client_authorization")
        CreditNote.objects.filter(pk=cn.pk).update(
            decided_by=approver, decided_at=now, decision_note=note.strip()
        )
        cn.refresh_from_db()
        audit.record(
            actor=approver,
            action="credits.credit_note_approved",
            at=now,
            obj=cn,
            after={"note": note.strip()},
        )
        issue(note=cn, settlement=settlement, actor=approver, now=now)
    credit_note.refresh_from_db()
    return credit_note


def credit_note_reject(
    *, credit_note: CreditNote, approver: User, now: datetime, note: str
) -> CreditNote:
    require(approver, "credits.approve")
    if not note.strip():
        raise E.CreditError(E.DECISION_NOTE_REQUIRED, field="note")
    with transaction.atomic():
        cn = locks.lock_credit_note(credit_note)
        CREDIT_NOTE_TRANSITIONS.check(
            document=_note_label(cn), from_status=cn.status, to_status=CreditNoteStatus.REJECTED
        )
        CreditNote.objects.filter(pk=cn.pk).update(
            status=CreditNoteStatus.REJECTED,
            decided_by=approver,
            decided_at=now,
            decision_note=note.strip(),
        )
        audit.record(
            actor=approver,
            action="credits.credit_note_rejected",
            at=now,
            obj=cn,
            before={"status": cn.status},
            after={"status": CreditNoteStatus.REJECTED, "note": note.strip()},
        )
    credit_note.refresh_from_db()
    return credit_note
