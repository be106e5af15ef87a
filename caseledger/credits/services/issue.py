"""Issuing a credit note (approved, or needing no approval): number it, post its entry, reduce the
invoice's balance, return the paid part to what paid the invoice, refund what was asked, and
reduce the matter's budget for a scope reduction. Runs inside the caller's transaction, which
holds the settlement lock (not part of the public API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import F

from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.models import User
from caseledger.credits import exceptions as E
from caseledger.credits import locks
from caseledger.credits.choices import CreditNoteStatus, ReasonCode, RefundSource
from caseledger.credits.models import CreditNote, CreditNoteSource
from caseledger.credits.services.common import settlement_balance
from caseledger.credits.services.refunds import refund_credit_note
from caseledger.credits.services.sources import check_refund_route, invoice_credit_sources

NUMBER_FORMAT = "CN-{year}-{seq:06d}"


def issue(*, note: CreditNote, settlement: Any, actor: User, now: datetime) -> None:
    """Number the note, post its entry, reduce the balance, return the paid part to where it
    came from (a payment's unapplied credit, or the client's trust ledger), then refund.

    Caller holds the settlement lock inside its transaction."""
    invoice = note.invoice
    to_balance, to_credit = _split(note=note, settlement=settlement)
    if to_credit:
        # The payments that get credit back are locked before the entry: payment rows come
        # before the ledger's balance rows and the audit chain head in the global lock order.
        locks.lock_payments(
            s.payment_id for s in invoice_credit_sources(invoice) if s.payment_id is not None
        )
    issue_date = clock.firm_date(now)
    seq = locks.credit_note_next_sequence(issue_date.year)
    number = NUMBER_FORMAT.format(year=issue_date.year, seq=seq)
    entry = _post_entry(
        note=note,
        number=number,
        issue_date=issue_date,
        to_balance=to_balance,
        to_credit=to_credit,
        actor=actor,
        now=now,
    )
    _mark_issued(
        note=note,
        settlement=settlement,
        number=number,
        issue_date=issue_date,
        to_balance=to_balance,
        to_credit=to_credit,
        entry_id=entry.pk,
        actor=actor,
        now=now,
    )
    if to_credit:
        _return_to_sources(note=note, credit_cents=to_credit, actor=actor, now=now)
    if note.refund_cents:
        refund_credit_note(note=note, actor=actor, now=now, refund_date=issue_date)
    if note.reason_code == ReasonCode.SCOPE_REDUCTION:
        _budget_reduce(note=note, matter=invoice.matter, number=number, actor=actor, now=now)


def _split(*, note: CreditNote, settlement: Any) -> tuple[int, int]:
    """How much of the note reduces the unpaid balance and how much becomes client credit (the
    part already paid). Refused when the refund asked for is more than that credit, or does not
    go back the way the money came."""
    balance = settlement_balance(settlement)
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
        check_refund_route(
            invoice=note.invoice,
            method=note.refund_method,
            refund_cents=note.refund_cents,
            credit_cents=to_credit,
        )
    return to_balance, to_credit


def _post_entry(
    *,
    note: CreditNote,
    number: str,
    issue_date: date,
    to_balance: int,
    to_credit: int,
    actor: User,
    now: datetime,
) -> Any:
    """The CREDIT_NOTE entry: Dr fee revenue for the whole note, Cr A/R for the part that reduces
    the balance, Cr unapplied client credits for the part already paid."""
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    invoice = note.invoice
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
    return entry_post(
        kind=EntryKind.CREDIT_NOTE,
        entry_date=issue_date,
        memo=f"Credit note {number} on invoice {invoice}: {note.get_reason_code_display()}",
        lines=lines,
        actor=actor,
        now=now,
        idempotency_key=f"credit-note:{note.pk}",
    )


def _mark_issued(
    *,
    note: CreditNote,
    settlement: Any,
    number: str,
    issue_date: date,
    to_balance: int,
    to_credit: int,
    entry_id: int,
    actor: User,
    now: datetime,
) -> None:
    """Reduce the settlement's balance, store the note as issued (number, split, entry) and
    record the audit event."""
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
        entry_id=entry_id,
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
            "entry": entry_id,
        },
    )


def _budget_reduce(
    *, note: CreditNote, matter: Any, number: str, actor: User, now: datetime
) -> None:
    """A scope reduction lowers the matter's budget by the note's amount."""
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
