"""Writes of the credits app: credit notes (request, approve, reject, issue), refunds, write-offs.

Every function takes keyword-only arguments and ``now``, runs in one transaction, records an audit
event, moves money only through ``ledger.services.entry_post`` and changes the invoice's balance
only on the payments app's settlement row, locked first (lock order: matter -> trust balance ->
invoice -> payment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Sum
from django.db.models.functions import Coalesce

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.core import audit, clock
from caseledger.core.amounts import amount_check, amount_check_optional, firm_money
from caseledger.core.models import User
from caseledger.core.permissions import require
from caseledger.core.selectors import firm_get
from caseledger.credits import exceptions as E
from caseledger.credits import hooks as credit_hooks
from caseledger.credits import locks
from caseledger.credits.choices import (
    RETRYABLE_REFUND_STATUSES,
    CreditNoteStatus,
    ReasonCode,
    RefundMethod,
    RefundSource,
    RefundStatus,
    WriteOffStatus,
)
from caseledger.credits.models import (
    CreditNote,
    CreditNoteLine,
    CreditNoteSource,
    CreditRefund,
    WriteOff,
)
from caseledger.credits.selectors import (
    credit_note_needs_approval,
    invoice_creditable_cents,
    invoice_pending_write_off_cents,
    trust_refund_live_cents,
    write_off_needs_approval,
)
from caseledger.credits.transitions import (
    CREDIT_NOTE_TRANSITIONS,
    REFUND_TRANSITIONS,
    WRITE_OFF_TRANSITIONS,
)
from caseledger.trust.choices import DisbursementStatus
from caseledger.trust.hooks import DisbursementChange

NUMBER_FORMAT = "CN-{year}-{seq:06d}"


@dataclass(frozen=True)
class LineInput:
    description: str
    amount_cents: int
    invoice_line_id: int | None = None


def _settlement_balance(settlement: Any) -> int:
    return int(
        settlement.total_cents
        - settlement.paid_cents
        - settlement.credited_cents
        - settlement.written_off_cents
    )


def _check_invoice_issued(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.ISSUED:
        raise E.CreditError(
            E.INVOICE_NOT_ISSUED.format(status=invoice.get_status_display().lower()),
            field="invoice",
        )


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
    with transaction.atomic():
        settlement = locks.lock_for_credit(
            invoice, now=now, lock_matter=reason_code == ReasonCode.SCOPE_REDUCTION
        )
        invoice.refresh_from_db()
        _check_invoice_issued(invoice)
        _check_invoice_lines(invoice=invoice, lines=lines)
        left = invoice_creditable_cents(invoice)
        if total > left:
            raise E.CreditError(
                E.CREDIT_OVER_CREDITABLE.format(
                    amount=firm_money(total),
                    invoice=invoice,
                    left=firm_money(left),
                    total=firm_money(invoice.total_cents),
                    credited=firm_money(
                        invoice.total_cents - left - int(settlement.written_off_cents)
                    ),
                    written_off=firm_money(int(settlement.written_off_cents)),
                ),
                field="amount",
            )
        if refund_cents:
            projected_credit = max(total - _settlement_balance(settlement), 0)
            if refund_cents > projected_credit:
                raise E.CreditError(
                    E.REFUND_OVER_CLIENT_CREDIT.format(
                        refund=firm_money(refund_cents), credit=firm_money(projected_credit)
                    ),
                    field="refund",
                )
            _check_refund_route(
                invoice=invoice,
                method=refund_method,
                refund_cents=refund_cents,
                credit_cents=projected_credit,
            )
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
        if not credit_note_needs_approval(amount_cents=total, reason_code=reason_code):
            _issue(note=note, settlement=settlement, actor=actor, now=now)
    return note


@dataclass(frozen=True)
class CreditSource:
    """Money that paid the invoice and can take back part of a credit: one payment's allocations
    to the invoice, or the trust transfers to it."""

    kind: str  # RefundSource.OPERATING (a payment) or RefundSource.TRUST
    payment_id: int | None
    available_cents: int


def invoice_credit_sources(invoice: Invoice) -> list[CreditSource]:
    """What paid ``invoice`` and is not yet taken back by earlier credit notes: payments (newest
    first), then trust transfers."""
    from caseledger.payments.models import PaymentAllocation
    from caseledger.trust.models import TrustTransfer

    taken: dict[tuple[str, int | None], int] = {}
    for row in (
        CreditNoteSource.objects.filter(credit_note__invoice=invoice)
        .values("kind", "payment_id")
        .annotate(total=Sum("amount_cents"))
    ):
        taken[(row["kind"], row["payment_id"])] = int(row["total"])
    sources = []
    paid_by_payment = (
        PaymentAllocation.objects.filter(invoice=invoice)
        .values("payment_id")
        .annotate(total=Sum("amount_cents"), last=Max("id"))
        .order_by("-last")
    )
    for paid in paid_by_payment:
        left = int(paid["total"]) - taken.get((RefundSource.OPERATING, paid["payment_id"]), 0)
        if left > 0:
            sources.append(CreditSource(RefundSource.OPERATING, paid["payment_id"], left))
    trust_total = TrustTransfer.objects.filter(invoice=invoice).aggregate(
        s=Coalesce(Sum("amount_cents"), 0)
    )["s"]
    trust_left = int(trust_total) - taken.get((RefundSource.TRUST, None), 0)
    if trust_left > 0:
        sources.append(CreditSource(RefundSource.TRUST, None, trust_left))
    return sources


def _refund_capacity(sources: list[CreditSource], credit_cents: int) -> dict[str, int]:
    """How much of ``credit_cents`` lands on each kind of source (same order as on issue)."""
    out = {RefundSource.OPERATING.value: 0, RefundSource.TRUST.value: 0}
    remaining = credit_cents
    for source in sources:
        take = min(remaining, source.available_cents)
        out[source.kind] += take
        remaining -= take
    return out


def _check_refund_route(
    *, invoice: Invoice, method: str, refund_cents: int, credit_cents: int
) -> None:
    """Refunds go back where the money came from: trust-paid money only through a trust
    disbursement, operating money by check, transfer or card."""
    capacity = _refund_capacity(invoice_credit_sources(invoice), credit_cents)
    if method == RefundMethod.TRUST:
        if refund_cents > capacity[RefundSource.TRUST]:
            raise E.CreditError(
                E.REFUND_TRUST_NOT_FROM_TRUST.format(invoice=invoice), field="refund_method"
            )
        return
    if refund_cents > capacity[RefundSource.OPERATING]:
        if capacity[RefundSource.TRUST]:
            raise E.CreditError(
                E.REFUND_TRUST_BYPASS.format(
                    invoice=invoice, method=RefundMethod(method).label.lower()
                ),
                field="refund_method",
            )
        raise E.CreditError(
            E.REFUND_OVER_CLIENT_CREDIT.format(
                refund=firm_money(refund_cents), credit=firm_money(capacity[RefundSource.OPERATING])
            ),
            field="refund",
        )


def _issue(*, note: CreditNote, settlement: Any, actor: User, now: datetime) -> None:
    """Number the note, post its entry, reduce the balance, return the paid part to where it
    came from (a payment's unapplied credit, or the client's trust ledger), then refund.

    Caller holds the settlement lock inside its transaction."""
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    invoice = note.invoice
    balance = _settlement_balance(settlement)
    to_balance = min(note.amount_cents, balance)
    to_credit = note.amount_cents - to_balance
    if note.refund_cents > to_credit:
        raise E.CreditError(
            E.REFUND_OVER_CLIENT_CREDIT.format(
                refund=firm_money(note.refund_cents), credit=firm_money(to_credit)
            ),
            field="refund",
        )
    if note.refund_cents:
        _check_refund_route(
            invoice=invoice,
            method=note.refund_method,
            refund_cents=note.refund_cents,
            credit_cents=to_credit,
        )
    if to_credit:
        # The payments that get credit back are locked before the entry: payment rows come
        # before the ledger's balance rows and the audit chain head in the global lock order.
        locks.lock_payments(
            s.payment_id for s in invoice_credit_sources(invoice) if s.payment_id is not None
        )
    issue_date = clock.firm_date(now)
    seq = locks.credit_note_next_sequence(issue_date.year)
    number = NUMBER_FORMAT.format(year=issue_date.year, seq=seq)
    client, matter = invoice.client, invoice.matter
    lines = [
        PostingLine(
            accounts.FEE_REVENUE, note.amount_cents, client=client, matter=matter, invoice=invoice
        )
    ]
    if to_balance:
        lines.append(
            PostingLine(
                accounts.ACCOUNTS_RECEIVABLE,
                -to_balance,
                client=client,
                matter=matter,
                invoice=invoice,
            )
        )
    if to_credit:
        lines.append(
            PostingLine(
                accounts.UNAPPLIED_CLIENT_CREDITS,
                -to_credit,
                client=client,
                matter=matter,
                invoice=invoice,
            )
        )
    entry = entry_post(
        kind=EntryKind.CREDIT_NOTE,
        entry_date=issue_date,
        memo=f"Credit note {number} on invoice {invoice}: {note.get_reason_code_display()}",
        lines=lines,
        actor=actor,
        now=now,
        idempotency_key=f"credit-note:{note.pk}",
    )
    if to_balance:
        type(settlement).objects.filter(pk=settlement.pk).update(
            credited_cents=F("credited_cents") + to_balance, updated_at=now
        )
        settlement.refresh_from_db()
    CreditNote.objects.filter(pk=note.pk).update(
        number=number,
        status=CreditNoteStatus.ISSUED,
        balance_cents=to_balance,
        client_credit_cents=to_credit,
        issue_date=issue_date,
        issued_at=now,
        entry_id=entry.pk,
    )
    note.refresh_from_db()
    audit.record(
        actor=actor,
        action="credits.credit_note_issued",
        at=now,
        obj=note,
        before={"status": CreditNoteStatus.PENDING_APPROVAL},
        after={
            "status": CreditNoteStatus.ISSUED,
            "number": number,
            "balance_cents": to_balance,
            "client_credit_cents": to_credit,
            "entry": entry.pk,
        },
    )
    if to_credit:
        _return_to_sources(note=note, credit_cents=to_credit, actor=actor, now=now)
    if note.refund_cents:
        _refund(note=note, actor=actor, now=now, refund_date=issue_date)
    if note.reason_code == ReasonCode.SCOPE_REDUCTION:
        from caseledger.matters.services import matter_budget_reduce

        matter_budget_reduce(
            matter=matter,
            amount_cents=note.amount_cents,
            reason=note.reason_text or note.get_reason_code_display(),
            source=f"credit note {number}",
            actor=actor,
            now=now,
        )


def _return_to_sources(*, note: CreditNote, credit_cents: int, actor: User, now: datetime) -> None:
    """The paid part of the credit goes back to what paid the invoice: a payment's unapplied
    credit (so it can be applied elsewhere or refunded to the card it came from), or, for money
    that came from trust, back into the client's trust ledger (operating -> trust, kind REFUND),
    where it stays client money until applied or refunded through a trust disbursement."""
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post
    from caseledger.payments.models import Payment
    from caseledger.payments.services import payment_unapplied_credit_add

    invoice = note.invoice
    client, matter = invoice.client, invoice.matter
    remaining = credit_cents
    for source in invoice_credit_sources(invoice):
        if remaining <= 0:
            break
        take = min(remaining, source.available_cents)
        remaining -= take
        CreditNoteSource.objects.create(
            credit_note=note, kind=source.kind, payment_id=source.payment_id, amount_cents=take
        )
        if source.kind == RefundSource.OPERATING:
            assert source.payment_id is not None  # OPERATING sources name their payment
            payment_unapplied_credit_add(
                payment=Payment(pk=source.payment_id),
                amount_cents=take,
                currency=invoice.currency,
                client=client,
                reason=f"Credit note {note.number} on invoice {invoice}",
                actor=actor,
                now=now,
            )
        else:
            entry_post(
                kind=EntryKind.REFUND,
                entry_date=clock.firm_date(now),
                memo=f"Credit note {note.number}: trust-paid amount returned to the client's trust",
                lines=[
                    PostingLine(
                        accounts.UNAPPLIED_CLIENT_CREDITS, take, client=client, matter=matter
                    ),
                    PostingLine(accounts.OPERATING_BANK, -take, client=client, matter=matter),
                    PostingLine(accounts.TRUST_BANK, take, client=client, matter=matter),
                    PostingLine(
                        accounts.CLIENT_TRUST_LIABILITY, -take, client=client, matter=matter
                    ),
                ],
                actor=actor,
                now=now,
                idempotency_key=f"credit-note-trust-return:{note.pk}",
            )


def _refund(*, note: CreditNote, actor: User, now: datetime, refund_date: date) -> None:
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
        _issue(note=cn, settlement=settlement, actor=approver, now=now)
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


def credit_settings_update(*, approval_reason_codes: list[str], actor: User, now: datetime) -> None:
    require(actor, "credits.settings")
    for code in approval_reason_codes:
        if code not in ReasonCode.values:
            raise E.CreditError(
                E.APPROVAL_REASONS_INVALID.format(value=code), field="approval_reason_codes"
            )
    with transaction.atomic():
        settings = locks.credit_settings_lock()
        before = {"approval_reason_codes": settings.approval_reason_codes}
        settings.approval_reason_codes = sorted(set(approval_reason_codes))
        settings.save()
        audit.record(
            actor=actor,
            action="credits.settings_updated",
            at=now,
            obj=settings,
            before=before,
            after={"approval_reason_codes": settings.approval_reason_codes},
        )


# --- write-offs -------------------------------------------------------------------------------


def write_off_request(
    *,
    invoice: Invoice,
    reason: str,
    actor: User,
    now: datetime,
    amount_cents: int | None = None,
) -> WriteOff:
    """Write off (part of) an invoice's unpaid balance as bad debt: posted at once up to the
    firm's threshold, above it waiting for a partner. ``amount_cents`` None = the whole balance."""
    require(actor, "credits.write_off")
    if not reason.strip():
        raise E.CreditError(E.WRITE_OFF_REASON_REQUIRED, field="reason")
    amount_check_optional(amount_cents)
    if amount_cents is not None and amount_cents <= 0:
        raise E.CreditError(
            E.AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )
    with transaction.atomic():
        settlement = locks.lock_settlement(invoice)
        invoice.refresh_from_db()
        _check_invoice_issued(invoice)
        balance = _settlement_balance(settlement)
        pending = invoice_pending_write_off_cents(invoice)
        available = balance - pending
        if balance <= 0:
            raise E.CreditError(E.WRITE_OFF_PAID.format(invoice=invoice), field="invoice")
        amount = available if amount_cents is None else amount_cents
        if amount > available or amount <= 0:
            raise E.CreditError(
                E.WRITE_OFF_OVER_BALANCE.format(
                    amount=firm_money(amount),
                    invoice=invoice,
                    balance=firm_money(balance),
                    pending=firm_money(pending),
                ),
                field="amount",
            )
        write_off = WriteOff.objects.create(
            invoice=invoice,
            client_id=invoice.client_id,
            matter_id=invoice.matter_id,
            status=WriteOffStatus.PENDING_APPROVAL,
            amount_cents=amount,
            reason=reason.strip(),
            requested_by=actor,
            requested_at=now,
        )
        audit.record(
            actor=actor,
            action="credits.write_off_requested",
            at=now,
            obj=write_off,
            after={"invoice": str(invoice), "amount_cents": amount, "reason": reason.strip()},
        )
        if not write_off_needs_approval(amount_cents=amount):
            _write_off_post(write_off=write_off, settlement=settlement, actor=actor, now=now)
    write_off.refresh_from_db()
    return write_off


def _write_off_post(*, write_off: WriteOff, settlement: Any, actor: User, now: datetime) -> None:
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    balance = _settlement_balance(settlement)
    invoice = write_off.invoice
    if write_off.amount_cents > balance:
        raise E.CreditError(
            E.WRITE_OFF_OVER_BALANCE.format(
                amount=firm_money(write_off.amount_cents),
                invoice=invoice,
                balance=firm_money(balance),
                pending=firm_money(0),
            ),
            field="amount",
        )
    posted = clock.firm_date(now)
    client, matter = invoice.client, invoice.matter
    entry = entry_post(
        kind=EntryKind.WRITE_OFF,
        entry_date=posted,
        memo=f"Write-off of invoice {invoice}: {write_off.reason}"[:200],
        lines=[
            PostingLine(
                accounts.WRITE_OFFS,
                write_off.amount_cents,
                client=client,
                matter=matter,
                invoice=invoice,
            ),
            PostingLine(
                accounts.ACCOUNTS_RECEIVABLE,
                -write_off.amount_cents,
                client=client,
                matter=matter,
                invoice=invoice,
            ),
        ],
        actor=actor,
        now=now,
        idempotency_key=f"write-off:{write_off.pk}",
    )
    type(settlement).objects.filter(pk=settlement.pk).update(
        written_off_cents=F("written_off_cents") + write_off.amount_cents, updated_at=now
    )
    settlement.refresh_from_db()
    WriteOff.objects.filter(pk=write_off.pk).update(
        status=WriteOffStatus.POSTED, posted_date=posted, entry_id=entry.pk
    )
    audit.record(
        actor=actor,
        action="credits.write_off_posted",
        at=now,
        obj=write_off,
        before={"status": WriteOffStatus.PENDING_APPROVAL},
        after={"status": WriteOffStatus.POSTED, "entry": entry.pk},
    )


def write_off_approve(
    *, write_off: WriteOff, approver: User, now: datetime, note: str = ""
) -> WriteOff:
    require(approver, "credits.approve")
    with transaction.atomic():
        settlement = locks.lock_settlement(write_off.invoice)
        wo = locks.lock_write_off(write_off)
        WRITE_OFF_TRANSITIONS.check(
            document=f"#{wo.pk}", from_status=wo.status, to_status=WriteOffStatus.POSTED
        )
        if wo.requested_by_id == approver.pk:
            raise E.CreditError(
                E.SELF_APPROVAL.format(document=f"write-off #{wo.pk}"), field="approver"
            )
        WriteOff.objects.filter(pk=wo.pk).update(
            decided_by=approver, decided_at=now, decision_note=note.strip()
        )
        wo.refresh_from_db()
        _write_off_post(write_off=wo, settlement=settlement, actor=approver, now=now)
    write_off.refresh_from_db()
    return write_off


def write_off_reject(*, write_off: WriteOff, approver: User, now: datetime, note: str) -> WriteOff:
    require(approver, "credits.approve")
    if not note.strip():
        raise E.CreditError(E.DECISION_NOTE_REQUIRED, field="note")
    with transaction.atomic():
        wo = locks.lock_write_off(write_off)
        WRITE_OFF_TRANSITIONS.check(
            document=f"#{wo.pk}", from_status=wo.status, to_status=WriteOffStatus.REJECTED
        )
        WriteOff.objects.filter(pk=wo.pk).update(
            status=WriteOffStatus.REJECTED,
            decided_by=approver,
            decided_at=now,
            decision_note=note.strip(),
        )
        audit.record(
            actor=approver,
            action="credits.write_off_rejected",
            at=now,
            obj=wo,
            before={"status": WriteOffStatus.PENDING_APPROVAL},
            after={"status": WriteOffStatus.REJECTED, "note": note.strip()},
        )
    write_off.refresh_from_db()
    return write_off


def write_off_reverse(*, write_off: WriteOff, reason: str, actor: User, now: datetime) -> WriteOff:
    """Put a written-off amount back on the invoice (the client paid after all): Dr A/R,
    Cr write-offs, kind WRITE_OFF_REVERSAL; the balance due grows back by the amount."""
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    require(actor, "credits.write_off")
    if not reason.strip():
        raise E.CreditError(E.REVERSAL_REASON_REQUIRED, field="reason")
    with transaction.atomic():
        settlement = locks.lock_settlement(write_off.invoice)
        wo = locks.lock_write_off(write_off)
        WRITE_OFF_TRANSITIONS.check(
            document=f"#{wo.pk}", from_status=wo.status, to_status=WriteOffStatus.REVERSED
        )
        invoice = wo.invoice
        client, matter = invoice.client, invoice.matter
        entry = entry_post(
            kind=EntryKind.WRITE_OFF_REVERSAL,
            entry_date=clock.firm_date(now),
            memo=f"Reversal of write-off #{wo.pk} on invoice {invoice}: {reason.strip()}"[:200],
            lines=[
                PostingLine(
                    accounts.ACCOUNTS_RECEIVABLE,
                    wo.amount_cents,
                    client=client,
                    matter=matter,
                    invoice=invoice,
                ),
                PostingLine(
                    accounts.WRITE_OFFS,
                    -wo.amount_cents,
                    client=client,
                    matter=matter,
                    invoice=invoice,
                ),
            ],
            actor=actor,
            now=now,
            idempotency_key=f"write-off-reversal:{wo.pk}",
        )
        type(settlement).objects.filter(pk=settlement.pk).update(
            written_off_cents=F("written_off_cents") - wo.amount_cents, updated_at=now
        )
        WriteOff.objects.filter(pk=wo.pk).update(
            status=WriteOffStatus.REVERSED,
            reversed_by=actor,
            reversed_at=now,
            reversal_reason=reason.strip(),
            reversal_entry_id=entry.pk,
        )
        audit.record(
            actor=actor,
            action="credits.write_off_reversed",
            at=now,
            obj=wo,
            before={"status": WriteOffStatus.POSTED},
            after={"status": WriteOffStatus.REVERSED, "reason": reason.strip(), "entry": entry.pk},
        )
    write_off.refresh_from_db()
    return write_off


def firm_thresholds() -> tuple[int, int]:
    firm = firm_get()
    return firm.credit_note_approval_cents, firm.write_off_approval_cents
