"""Corrections of posted trust deposits: a reversal with a reason — a mirror entry that names
the deposit's entry — approved by a partner (never the requester) above the firm's threshold
(``payments.CorrectionSettings``), and refused when the deposit's money has already been used
(paid an invoice, disbursed, held in dispute), saying what uses it. The deposit row and its entry
are never changed or deleted; each step is an audit event.

Lock order: the matter's trust row and the ledger's client trust row
(``locks.lock_matter_trust``), then the deposit, the reversal and the trust request; the balance
is read only after those locks, so a reversal and a disbursement from the same money cannot
both succeed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from caseledger.core import audit, clock
from caseledger.core.models import User
from caseledger.core.money import Money
from caseledger.core.selectors import firm_get
from caseledger.ledger.services import entry_reverse
from caseledger.payments.choices import ReversalStatus
from caseledger.payments.corrections import (
    approver_refusal,
    needs_approval,
    reversal_pending_check,
    reversal_reject,
)
from caseledger.trust import locks, selectors, services
from caseledger.trust.choices import DisbursementStatus, TrustRequestStatus
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    DepositReversal,
    Disbursement,
    TrustDeposit,
    TrustTransfer,
)

REASON_REQUIRED = "reason: say why it is reversed"
DEPOSIT_REVERSED = "deposit: {deposit} was already reversed on {day}"
DEPOSIT_REVERSAL_PENDING = "deposit: {deposit} already has a reversal waiting for approval"
DEPOSIT_MONEY_USED = "deposit: cannot be reversed, {uses}"
USE_PAID_INVOICE = "{amount} of it paid invoice {invoice}"
USE_DISBURSED = "{amount} of it was disbursed ({number} to {payee})"
USE_DISPUTED = "{amount} of it is held in dispute"
USE_UNCLEARED = "{amount} of it stands in for deposits not yet cleared"


def _fmt(cents: int) -> str:
    return Money(cents, firm_get().currency).format()


def _uses(deposit: TrustDeposit, shortfall: int, disputed: int) -> list[str]:
    """Explain ``shortfall`` cents of the deposit that are no longer in trust or free: disputed
    money first, then the matter's outflows newest first (they spent the pooled money last)."""
    uses: list[str] = []
    remaining = shortfall
    if disputed and remaining:
        part = min(disputed, remaining)
        uses.append(USE_DISPUTED.format(amount=_fmt(part)))
        remaining -= part
    outflows: list[tuple[object, int, int, str]] = []
    for t in TrustTransfer.objects.filter(
        matter_id=deposit.matter_id, transfer_date__gte=deposit.received_date
    ).select_related("invoice"):
        outflows.append(
            (t.transfer_date, t.pk, t.amount_cents, f"invoice:{t.invoice}"),
        )
    for d in Disbursement.objects.filter(
        matter_id=deposit.matter_id,
        status=DisbursementStatus.POSTED,
        posted_date__gte=deposit.received_date,
    ):
        outflows.append((d.posted_date, d.pk, d.amount_cents, f"disbursement:{d.number}:{d.payee}"))
    outflows.sort(key=lambda o: (o[0], o[1]), reverse=True)
    for _day, _pk, cents, what in outflows:
        if remaining <= 0:
            break
        part = min(cents, remaining)
        kind, _, rest = what.partition(":")
        if kind == "invoice":
            uses.append(USE_PAID_INVOICE.format(amount=_fmt(part), invoice=rest))
        else:
            number, _, payee = rest.partition(":")
            uses.append(USE_DISBURSED.format(amount=_fmt(part), number=number, payee=payee))
        remaining -= part
    if remaining > 0:
        uses.append(USE_UNCLEARED.format(amount=_fmt(remaining)))
    return uses


def _check_reversible(deposit: TrustDeposit, now: datetime) -> None:
    """Call under ``lock_matter_trust``: the deposit's whole amount must still be in the matter's
    trust and free — not paid out, not disputed, not standing in for other uncleared deposits."""
    done = deposit.reversals.filter(status=ReversalStatus.POSTED).first()
    if done is not None:
        raise TrustError(
            DEPOSIT_REVERSED.format(deposit=deposit, day=done.posted_date), field="deposit"
        )
    today = clock.firm_date(now)
    position = selectors.trust_position(deposit.matter, as_of=today)
    own_uncleared = (
        deposit.amount_cents
        if deposit.received_date <= today
        and (deposit.clears_on is None or deposit.clears_on > today)
        else 0
    )
    others_uncleared = position.uncleared_cents - own_uncleared
    free = position.balance_cents - position.disputed_cents - others_uncleared
    shortfall = deposit.amount_cents - max(free, 0)
    if shortfall > 0:
        uses = _uses(deposit, shortfall, min(position.disputed_cents, shortfall))
        raise TrustError(DEPOSIT_MONEY_USED.format(uses="; ".join(uses)), field="deposit")


def _lock(deposit: TrustDeposit, now: datetime) -> TrustDeposit:
    locks.lock_matter_trust(deposit.matter, now)
    return locks.lock_deposit(deposit.pk)


def deposit_reversal_request(
    *,
    deposit: TrustDeposit,
    reason: str,
    actor: User,
    now: datetime,
    bank_line: Any = None,
) -> DepositReversal:
    """Ask to reverse a posted deposit. At or below the firm's threshold it is reversed at once;
    above it, it waits for a partner other than the requester. Refused (TrustError, nothing
    changed) without a reason, for a deposit already reversed or waiting, or when its money has
    been used (the message says what uses it). ``bank_line``: the statement line that showed
    the deposit returned (asked from the matching workbench, which holds its lock); once an
    approved reversal posts, the line is matched to it."""
    reason = (reason or "").strip()
    if not reason:
        raise TrustError(REASON_REQUIRED, field="reason")
    with transaction.atomic():
        deposit = _lock(deposit, now)
        if deposit.reversals.filter(status=ReversalStatus.REQUESTED).exists():
            raise TrustError(DEPOSIT_REVERSAL_PENDING.format(deposit=deposit), field="deposit")
        _check_reversible(deposit, now)
        try:
            with transaction.atomic():
                reversal = DepositReversal.objects.create(
                    deposit=deposit,
                    client_id=deposit.client_id,
                    matter_id=deposit.matter_id,
                    amount_cents=deposit.amount_cents,
                    reason=reason[:300],
                    requested_by=actor,
                    requested_at=now,
                    bank_line=bank_line,
                )
        except IntegrityError:
            raise TrustError(
                DEPOSIT_REVERSAL_PENDING.format(deposit=deposit), field="deposit"
            ) from None
        audit.record(
            actor=actor,
            action="trust.deposit_reversal_requested",
            at=now,
            obj=deposit,
            after={
                "amount_cents": deposit.amount_cents,
                "reason": reversal.reason,
                "bank_line": getattr(bank_line, "pk", None),
            },
        )
        if not needs_approval(deposit.amount_cents):
            _post(reversal=reversal, deposit=deposit, actor=actor, now=now)
    return reversal


def deposit_reversal_approve(
    *, reversal: DepositReversal, approver: User, now: datetime
) -> DepositReversal:
    """A partner other than the requester approves; the money is checked again under the locks
    (it may have been used since the request) and the deposit reversed."""
    refusal = approver_refusal(approver=approver, requested_by_id=reversal.requested_by_id)
    if refusal:
        raise TrustError(refusal, field="approver")
    with transaction.atomic():
        if reversal.bank_line_id is not None:
            # The line first: the matching workbench's order (line, then the matter's trust).
            from caseledger.banking import locks as banking_locks

            banking_locks.statement_lines_lock([reversal.bank_line_id])
        deposit = _lock(reversal.deposit, now)
        reversal = locks.lock_reversal(reversal.pk)
        reversal_pending_check(reversal, action="approved", error=TrustError)
        _check_reversible(deposit, now)
        _post(reversal=reversal, deposit=deposit, actor=approver, now=now)
        if reversal.bank_line_id is not None:
            _match_bank_line(reversal, actor=approver, now=now)
    return reversal


def _match_bank_line(reversal: DepositReversal, *, actor: User, now: datetime) -> None:
    """Match the returned item's statement line to the posted reversal's trust bank posting
    (skipped, not refused, when the line was matched otherwise meanwhile: the reversal stands
    and its posting stays open on the workbench)."""
    from caseledger.banking import match_services
    from caseledger.banking.choices import MatchMethod
    from caseledger.banking.models import StatementLine
    from caseledger.ledger.models import Posting

    line_id = reversal.bank_line_id
    if line_id is None:
        return
    line = StatementLine.objects.select_related("bank_account__ledger_account").get(pk=line_id)
    bank = line.bank_account
    posting_ids = tuple(
        Posting.objects.filter(entry_id=reversal.entry_id, account_id=bank.ledger_account_id)
        .order_by("id")
        .values_list("id", flat=True)[:1]
    )
    match_services.matches_accept(
        bank_account=bank,
        proposals=[
            match_services.Proposal(
                line.pk, posting_ids, f"resolved: returned deposit, approved reversal {reversal.pk}"
            )
        ],
        method=MatchMethod.RESOLVED,
        actor=actor,
        now=now,
        strict=False,
    )


def deposit_reversal_reject(
    *, reversal: DepositReversal, actor: User, now: datetime, note: str = ""
) -> DepositReversal:
    return reversal_reject(
        reversal=reversal,
        actor=actor,
        now=now,
        note=note,
        error=TrustError,
        audit_action="trust.deposit_reversal_rejected",
        subject="deposit",
        lock=locks.lock_reversal,
    )


def _post(*, reversal: DepositReversal, deposit: TrustDeposit, actor: User, now: datetime) -> None:
    """The mirror entry (Dr client trust liability, Cr trust bank; the ledger checks the balance
    again), the trust request it paid owes that amount again (a cancelled one stays cancelled),
    and the audit event. A card fee the processor kept stays an operating expense."""
    entry = entry_reverse(
        entry=deposit.entry,
        actor=actor,
        now=now,
        memo=f"Reversal of trust receipt {deposit.receipt_number}: {reversal.reason}"[:500],
    )
    request_after = None
    if deposit.trust_request_id is not None:
        request = locks.lock_trust_request(deposit.trust_request_id)
        request.received_cents = max(request.received_cents - deposit.amount_cents, 0)
        if request.status != TrustRequestStatus.CANCELLED:
            request.status = (
                TrustRequestStatus.PARTIALLY_PAID
                if request.received_cents > 0
                else TrustRequestStatus.OPEN
            )
        request.save(update_fields=["received_cents", "status"])
        request_after = {"number": request.number, "status": request.status}
    reversal.status = ReversalStatus.POSTED
    reversal.entry = entry
    reversal.posted_date = entry.entry_date
    reversal.decided_by = actor
    reversal.decided_at = now
    reversal.save(update_fields=["status", "entry", "posted_date", "decided_by", "decided_at"])
    audit.record(
        actor=actor,
        action="trust.deposit_reversed",
        at=now,
        obj=deposit,
        after={
            "amount_cents": deposit.amount_cents,
            "entry": entry.pk,
            "reverses": deposit.entry_id,
            "reason": reversal.reason,
            "trust_request": request_after,
        },
    )
    services.low_balance_check(matter=deposit.matter, now=now)
