"""Write-offs: (part of) an invoice's unpaid balance written off as bad debt (request, approve,
reject, post), and put back on the invoice (reverse)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from caseledger.billing.models import Invoice
from caseledger.core import audit, clock
from caseledger.core.amounts import amount_check_optional, firm_money
from caseledger.core.models import User
from caseledger.core.permissions import require
from caseledger.credits import exceptions as E
from caseledger.credits import locks
from caseledger.credits.choices import WriteOffStatus
from caseledger.credits.models import WriteOff
from caseledger.credits.selectors import invoice_pending_write_off_cents, write_off_needs_approval
from caseledger.credits.services.common import check_invoice_issued, settlement_balance
from caseledger.credits.transitions import WRITE_OFF_TRANSITIONS


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
        check_invoice_issued(invoice)
        balance = settlement_balance(settlement)
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

    balance = settlement_balance(settlement)
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
