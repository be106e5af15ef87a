"""Resolving a statement line with nothing behind it in the ledger: the posting is made through
the service that owns it and the line is matched to it (``LineMatch.method`` "resolved"), in one
transaction with the line locked, so a line is never resolved twice and nothing is half-written.

- ``INTEREST`` (trust account, money in): Dr trust bank / Cr 2400 IOLTA interest payable. IOLTA
  interest belongs to the state bar foundation, not to a client nor to the firm.
- ``BANK_FEE`` (trust account, money out): the firm bears it and replaces it from operating the
  same day, in ONE entry: Dr 5400 bank service charges / Cr trust bank (the fee, matched to the
  line) and Dr trust bank / Cr operating bank (the replacement transfer, open on both accounts
  until their statements show it). Trust bank never holds less than the clients' money.
- ``OPERATING_FEE`` (operating account, money out): Dr 5400 / Cr operating bank.
- ``INTEREST_REMITTANCE`` (trust account, money out): the interest owed to the bar foundation
  paid to it: Dr 2400 / Cr trust bank, never more than 2400 holds; no client ledger moves.
- ``CARD_PAYOUT_NET`` (operating account only, money in): the processor paid out the chosen
  card payments less its fee: the fee is posted Dr 5200 card processing fees / Cr operating
  bank (its own entry) and the line is matched to the payments and the fee posting. Never on
  trust: card and processor fees never come out of trust (trust rule 5).
- ``RETURNED_DEPOSIT``, ``CARD_PAYOUT``: the posting belongs to an app above banking (trust);
  its resolver is registered through ``banking.hooks.register_line_resolver``. A returned
  deposit whose reversal needs a partner's approval returns no posting: the line stays open
  (``banking.line_resolution_pending``) until the approval posts the reversal and matches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from caseledger.banking import hooks, locks
from caseledger.banking.choices import MatchMethod, Resolution
from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import LineMatch, StatementLine
from caseledger.core import audit
from caseledger.core.money import format_money
from caseledger.ledger import accounts as codes
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import Posting
from caseledger.ledger.selectors import account_balance
from caseledger.ledger.services import PostingLine, entry_post

KIND_UNKNOWN = "kind: unknown resolution {kind!r}"
LINE_HAS_MATCHES = "line: line {id} already has matches; unmatch it first to resolve it"
NEEDS_TRUST = "kind: {label} applies to a trust (IOLTA) account only"
NEEDS_OPERATING = "kind: {label} applies to the operating account only"
NEEDS_IN = "kind: {label} is money into the account; this line is {amount}"
NEEDS_OUT = "kind: {label} is money out of the account; this line is {amount}"
TARGET_REQUIRED = "target: choose what this line settles"
NOT_AVAILABLE = "kind: {label} is not available (its app is not installed)"
NEEDS_OPERATING_CARD = (
    "kind: {label} applies to the operating account only: card and processor fees never come "
    "out of trust (trust rule 5); use Card payout on a trust account"
)
REMITTANCE_OVER = (
    "kind: the remittance ({amount}) is more than the IOLTA interest owed to the bar foundation "
    "({owed}); only interest owed may be remitted"
)
PAYMENTS_REQUIRED = "postings: choose the card payments this payout pays out"
PAYMENT_NOT_OPEN = (
    "postings: posting {id} is not an open card payment on ledger account {code} (a payment "
    "received into operating, not yet matched)"
)
PAYOUT_FEE_INVALID = (
    "postings: the payments sum to {gross} and the payout is {amount}; the processor's fee "
    "(payments less payout) must be more than zero and less than the payments"
)
RESOLVER_SUM = (
    "target: the postings made sum to {total}, the line is {amount}; nothing was recorded"
)


def _check_direction(line: StatementLine, label: str, *, money_in: bool) -> None:
    amount = format_money(line.amount_cents, line.bank_account.currency)
    if money_in and line.amount_cents < 0:
        raise BankingError(NEEDS_IN.format(label=label, amount=amount), "kind")
    if not money_in and line.amount_cents > 0:
        raise BankingError(NEEDS_OUT.format(label=label, amount=amount), "kind")


def _post(
    *,
    line: StatementLine,
    kind: str,
    memo: str,
    lines: list[PostingLine],
    actor: Any,
    now: datetime,
) -> list[int]:
    entry = entry_post(
        kind=kind, entry_date=line.booking_date, memo=memo[:500], lines=lines, actor=actor, now=now
    )
    # The posting(s) on the bank account's ledger account that show the line itself.
    return list(
        Posting.objects.filter(
            entry=entry,
            account_id=line.bank_account.ledger_account_id,
            amount_cents=line.amount_cents,
        )
        .order_by("id")
        .values_list("id", flat=True)[:1]
    )


def _card_payout_net(
    line: StatementLine, payment_ids: list[int], day: str, note: str, actor: Any, now: datetime
) -> tuple[list[int], int]:
    """Post the processor's fee of a net card payout (Dr 5200 / Cr operating bank, audited as
    its entry and with the resolution) and return the postings the line is matched to: the
    payments' operating postings and the fee's; with the fee."""
    account = line.bank_account
    code = account.ledger_account.code
    currency = account.currency
    if not payment_ids:
        raise BankingError(PAYMENTS_REQUIRED, "postings")
    if len(set(payment_ids)) != len(payment_ids):
        raise BankingError(PAYMENTS_REQUIRED, "postings")
    rows = dict(
        Posting.objects.filter(
            pk__in=payment_ids,
            account_id=account.ledger_account_id,
            amount_cents__gt=0,
            entry__kind=EntryKind.PAYMENT_RECEIVED,
            bank_matches__isnull=True,
        ).values_list("id", "amount_cents")
    )
    for pid in payment_ids:
        if pid not in rows:
            raise BankingError(PAYMENT_NOT_OPEN.format(id=pid, code=code), "postings")
    gross = sum(rows.values())
    fee = gross - line.amount_cents
    if not 0 < fee < gross:
        raise BankingError(
            PAYOUT_FEE_INVALID.format(
                gross=format_money(gross, currency),
                amount=format_money(line.amount_cents, currency),
            ),
            "postings",
        )
    entry = entry_post(
        kind=EntryKind.CARD_FEE,
        entry_date=line.booking_date,
        memo=(
            f"Processor fee kept from the card payout of {day} (statement line {line.pk}, "
            f"{len(payment_ids)} payments){': ' + note.strip() if note.strip() else ''}"
        )[:500],
        lines=[
            PostingLine(codes.CARD_PROCESSING_FEES, fee),
            PostingLine(codes.OPERATING_BANK, -fee),
        ],
        actor=actor,
        now=now,
    )
    fee_posting = Posting.objects.get(entry=entry, account_id=account.ledger_account_id)
    return [*payment_ids, fee_posting.pk], fee


def line_resolve(
    *,
    line: StatementLine,
    kind: str,
    actor: Any,
    now: datetime,
    target_id: int | None = None,
    payment_ids: Sequence[int] = (),
    note: str = "",
) -> list[LineMatch]:
    """Make the posting(s) behind ``line`` through the owning service and match the line to
    them, in one transaction. Raises BankingError (or the owning app's error) naming the field;
    nothing is written then."""
    if kind not in Resolution.values:
        raise BankingError(KIND_UNKNOWN.format(kind=kind), "kind")
    label = Resolution(kind).label
    with transaction.atomic():
        locked = locks.statement_lines_lock([line.pk])[line.pk]
        account = locked.bank_account
        hooks.match_guards_run(lines=[locked], action="resolve")
        if LineMatch.objects.filter(line_id=locked.pk).exists():
            raise BankingError(LINE_HAS_MATCHES.format(id=locked.pk), "line")
        bank_code = account.ledger_account.code
        amount = abs(locked.amount_cents)
        day = locked.booking_date.isoformat()
        flag = ""
        if kind == Resolution.INTEREST:
            if not account.is_trust:
                raise BankingError(NEEDS_TRUST.format(label=label), "kind")
            _check_direction(locked, label, money_in=True)
            posting_ids = _post(
                line=locked,
                kind=EntryKind.ADJUSTMENT,
                memo=f"IOLTA interest of {day} owed to the bar foundation (statement line "
                f"{locked.pk}){': ' + note.strip() if note.strip() else ''}",
                lines=[
                    PostingLine(bank_code, amount),
                    PostingLine(codes.IOLTA_INTEREST_PAYABLE, -amount),
                ],
                actor=actor,
                now=now,
            )
        elif kind == Resolution.BANK_FEE:
            if not account.is_trust:
                raise BankingError(NEEDS_TRUST.format(label=label), "kind")
            _check_direction(locked, label, money_in=False)
            posting_ids = _post(
                line=locked,
                kind=EntryKind.ADJUSTMENT,
                memo=f"Bank fee charged to trust on {day} (statement line {locked.pk}): borne "
                f"by the firm, replaced from operating the same day"
                f"{': ' + note.strip() if note.strip() else ''}",
                lines=[
                    PostingLine(codes.BANK_SERVICE_CHARGES, amount),
                    PostingLine(bank_code, -amount),
                    PostingLine(bank_code, amount),
                    PostingLine(codes.OPERATING_BANK, -amount),
                ],
                actor=actor,
                now=now,
            )
            flag = "replace_from_operating"
        elif kind == Resolution.OPERATING_FEE:
            if account.is_trust:
                raise BankingError(NEEDS_OPERATING.format(label=label), "kind")
            _check_direction(locked, label, money_in=False)
            posting_ids = _post(
                line=locked,
                kind=EntryKind.ADJUSTMENT,
                memo=f"Bank fee of {day} (statement line {locked.pk})"
                f"{': ' + note.strip() if note.strip() else ''}",
                lines=[
                    PostingLine(codes.BANK_SERVICE_CHARGES, amount),
                    PostingLine(bank_code, -amount),
                ],
                actor=actor,
                now=now,
            )
        elif kind == Resolution.INTEREST_REMITTANCE:
            if not account.is_trust:
                raise BankingError(NEEDS_TRUST.format(label=label), "kind")
            _check_direction(locked, label, money_in=False)
            posting_ids = _post(
                line=locked,
                kind=EntryKind.ADJUSTMENT,
                memo=f"IOLTA interest remitted to the bar foundation on {day} (statement line "
                f"{locked.pk}){': ' + note.strip() if note.strip() else ''}",
                lines=[
                    PostingLine(codes.IOLTA_INTEREST_PAYABLE, amount),
                    PostingLine(bank_code, -amount),
                ],
                actor=actor,
                now=now,
            )
            # Read after posting: entry_post holds the 2400 balance row until commit, so two
            # remittances at once cannot both pass.
            left = account_balance(code=codes.IOLTA_INTEREST_PAYABLE)
            if left < 0:
                raise BankingError(
                    REMITTANCE_OVER.format(
                        amount=format_money(amount, account.currency),
                        owed=format_money(left + amount, account.currency),
                    ),
                    "kind",
                )
        elif kind == Resolution.CARD_PAYOUT_NET:
            if account.is_trust:
                raise BankingError(NEEDS_OPERATING_CARD.format(label=label), "kind")
            _check_direction(locked, label, money_in=True)
            posting_ids, fee = _card_payout_net(locked, list(payment_ids), day, note, actor, now)
            flag = f"processor_fee:{fee}"
        else:
            resolver = hooks.line_resolver(kind)
            if resolver is None:
                raise BankingError(NOT_AVAILABLE.format(label=label), "kind")
            if not account.is_trust:
                raise BankingError(NEEDS_TRUST.format(label=label), "kind")
            _check_direction(locked, label, money_in=kind == Resolution.CARD_PAYOUT)
            if target_id is None and kind == Resolution.RETURNED_DEPOSIT:
                raise BankingError(TARGET_REQUIRED, "target")
            posting_ids = list(
                resolver(line=locked, target_id=target_id, actor=actor, now=now, note=note)
            )
            if not posting_ids and kind == Resolution.RETURNED_DEPOSIT:
                # Waiting for approval (a partner other than the requester): the owning app
                # matches the line when it posts. Nothing is matched now.
                audit.record(
                    actor=actor,
                    action="banking.line_resolution_pending",
                    at=now,
                    obj=locked,
                    after={
                        "bank_account": account.pk,
                        "line": locked.pk,
                        "kind": kind,
                        "amount_cents": locked.amount_cents,
                        "target": target_id,
                        "note": note.strip(),
                    },
                )
                return []
        amounts = dict(
            Posting.objects.filter(
                pk__in=posting_ids, account_id=account.ledger_account_id
            ).values_list("id", "amount_cents")
        )
        total = sum(amounts.values())
        if total != locked.amount_cents or len(amounts) != len(posting_ids):
            raise BankingError(
                RESOLVER_SUM.format(
                    total=format_money(total, account.currency),
                    amount=format_money(locked.amount_cents, account.currency),
                ),
                "target",
            )
        rows = LineMatch.objects.bulk_create(
            [
                LineMatch(
                    line_id=locked.pk,
                    posting_id=pid,
                    amount_cents=amounts[pid],
                    method=MatchMethod.RESOLVED,
                    reason=f"resolved: {label}"[:200],
                    matched_by=actor if getattr(actor, "pk", None) else None,
                    matched_at=now,
                )
                for pid in posting_ids
            ]
        )
        audit.record(
            actor=actor,
            action="banking.line_resolved",
            at=now,
            obj=locked,
            after={
                "bank_account": account.pk,
                "line": locked.pk,
                "kind": kind,
                "amount_cents": locked.amount_cents,
                "postings": posting_ids,
                "target": target_id,
                "payments": list(payment_ids),
                "note": note.strip(),
                "flag": flag,
            },
        )
    return rows
