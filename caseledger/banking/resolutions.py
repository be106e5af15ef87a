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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Resolving:
    """What every resolution step reads: the locked line, its account and the request."""

    line: StatementLine
    account: Any
    kind: str
    label: str
    bank_code: str
    amount: int
    day: str
    actor: Any
    now: datetime
    target_id: int | None
    payment_ids: Sequence[int]
    note: str

    def memo_note(self) -> str:
        """The ``: note`` suffix of a memo, empty when there is no note."""
        return f": {self.note.strip()}" if self.note.strip() else ""

    def post(self, memo: str, lines: list[PostingLine]) -> list[int]:
        """Post one adjustment entry for the line and return the posting that shows the line."""
        return _post(
            line=self.line,
            kind=EntryKind.ADJUSTMENT,
            memo=memo,
            lines=lines,
            actor=self.actor,
            now=self.now,
        )


# A step returns the postings to match the line to and the audit flag, or None when the line
# waits (a returned deposit pending a partner's approval) and nothing is matched now.
_Step = Callable[[_Resolving], "tuple[list[int], str] | None"]


def _require_trust(r: _Resolving) -> None:
    """Refuse a trust-only resolution on an operating account."""
    if not r.account.is_trust:
        raise BankingError(NEEDS_TRUST.format(label=r.label), "kind")


def _resolve_interest(r: _Resolving) -> tuple[list[int], str]:
    """IOLTA interest in: Dr trust bank / Cr 2400 interest payable."""
    _require_trust(r)
    _check_direction(r.line, r.label, money_in=True)
    posting_ids = r.post(
        f"IOLTA interest of {r.day} owed to the bar foundation (statement line "
        f"{r.line.pk}){r.memo_note()}",
        [
            PostingLine(r.bank_code, r.amount),
            PostingLine(codes.IOLTA_INTEREST_PAYABLE, -r.amount),
        ],
    )
    return posting_ids, ""


def _resolve_bank_fee(r: _Resolving) -> tuple[list[int], str]:
    """Trust bank fee: Dr 5400 / Cr trust bank, replaced from operating in the same entry."""
    _require_trust(r)
    _check_direction(r.line, r.label, money_in=False)
    posting_ids = r.post(
        f"Bank fee charged to trust on {r.day} (statement line {r.line.pk}): borne "
        f"by the firm, replaced from operating the same day"
        f"{r.memo_note()}",
        [
            PostingLine(codes.BANK_SERVICE_CHARGES, r.amount),
            PostingLine(r.bank_code, -r.amount),
            PostingLine(r.bank_code, r.amount),
            PostingLine(codes.OPERATING_BANK, -r.amount),
        ],
    )
    return posting_ids, "replace_from_operating"


def _resolve_operating_fee(r: _Resolving) -> tuple[list[int], str]:
    """Operating bank fee: Dr 5400 / Cr operating bank."""
    if r.account.is_trust:
        raise BankingError(NEEDS_OPERATING.format(label=r.label), "kind")
    _check_direction(r.line, r.label, money_in=False)
    posting_ids = r.post(
        f"Bank fee of {r.day} (statement line {r.line.pk}){r.memo_note()}",
        [
            PostingLine(codes.BANK_SERVICE_CHARGES, r.amount),
            PostingLine(r.bank_code, -r.amount),
        ],
    )
    return posting_ids, ""


def _resolve_interest_remittance(r: _Resolving) -> tuple[list[int], str]:
    """Interest paid to the bar foundation: Dr 2400 / Cr trust bank, never more than 2400 holds."""
    _require_trust(r)
    _check_direction(r.line, r.label, money_in=False)
    posting_ids = r.post(
        f"IOLTA interest remitted to the bar foundation on {r.day} (statement line "
        f"{r.line.pk}){r.memo_note()}",
        [
            PostingLine(codes.IOLTA_INTEREST_PAYABLE, r.amount),
            PostingLine(r.bank_code, -r.amount),
        ],
    )
    # Read after posting: entry_post holds the 2400 balance row until commit, so two
    # remittances at once cannot both pass.
    left = account_balance(code=codes.IOLTA_INTEREST_PAYABLE)
    if left < 0:
        raise BankingError(
            REMITTANCE_OVER.format(
                amount=format_money(r.amount, r.account.currency),
                owed=format_money(left + r.amount, r.account.currency),
            ),
            "kind",
        )
    return posting_ids, ""


def _resolve_card_payout_net(r: _Resolving) -> tuple[list[int], str]:
    """Net card payout on operating: post the processor's fee, match payments plus fee."""
    if r.account.is_trust:
        raise BankingError(NEEDS_OPERATING_CARD.format(label=r.label), "kind")
    _check_direction(r.line, r.label, money_in=True)
    posting_ids, fee = _card_payout_net(r.line, list(r.payment_ids), r.day, r.note, r.actor, r.now)
    return posting_ids, f"processor_fee:{fee}"


def _resolve_through_hook(r: _Resolving) -> tuple[list[int], str] | None:
    """A kind owned by an app above banking: run its registered resolver (None when pending)."""
    resolver = hooks.line_resolver(r.kind)
    if resolver is None:
        raise BankingError(NOT_AVAILABLE.format(label=r.label), "kind")
    _require_trust(r)
    _check_direction(r.line, r.label, money_in=r.kind == Resolution.CARD_PAYOUT)
    if r.target_id is None and r.kind == Resolution.RETURNED_DEPOSIT:
        raise BankingError(TARGET_REQUIRED, "target")
    posting_ids = list(
        resolver(line=r.line, target_id=r.target_id, actor=r.actor, now=r.now, note=r.note)
    )
    if not posting_ids and r.kind == Resolution.RETURNED_DEPOSIT:
        # Waiting for approval (a partner other than the requester): the owning app
        # matches the line when it posts. Nothing is matched now.
        audit.record(
            actor=r.actor,
            action="banking.line_resolution_pending",
            at=r.now,
            obj=r.line,
            after={
                "bank_account": r.account.pk,
                "line": r.line.pk,
                "kind": r.kind,
                "amount_cents": r.line.amount_cents,
                "target": r.target_id,
                "note": r.note.strip(),
            },
        )
        return None
    return posting_ids, ""


# The kinds banking posts itself; any other kind goes to its owning app's registered resolver.
_STEPS: dict[str, _Step] = {
    Resolution.INTEREST: _resolve_interest,
    Resolution.BANK_FEE: _resolve_bank_fee,
    Resolution.OPERATING_FEE: _resolve_operating_fee,
    Resolution.INTEREST_REMITTANCE: _resolve_interest_remittance,
    Resolution.CARD_PAYOUT_NET: _resolve_card_payout_net,
}


def _match_resolved(r: _Resolving, posting_ids: list[int], flag: str) -> list[LineMatch]:
    """Check the postings sum to the line, match the line to them and audit the resolution."""
    locked, account = r.line, r.account
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
                reason=f"resolved: {r.label}"[:200],
                matched_by=r.actor if getattr(r.actor, "pk", None) else None,
                matched_at=r.now,
            )
            for pid in posting_ids
        ]
    )
    audit.record(
        actor=r.actor,
        action="banking.line_resolved",
        at=r.now,
        obj=locked,
        after={
            "bank_account": account.pk,
            "line": locked.pk,
            "kind": r.kind,
            "amount_cents": locked.amount_cents,
            "postings": posting_ids,
            "target": r.target_id,
            "payments": list(r.payment_ids),
            "note": r.note.strip(),
            "flag": flag,
        },
    )
    return rows


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
        resolving = _Resolving(
            line=locked,
            account=account,
            kind=kind,
            label=label,
            bank_code=account.ledger_account.code,
            amount=abs(locked.amount_cents),
            day=locked.booking_date.isoformat(),
            actor=actor,
            now=now,
            target_id=target_id,
            payment_ids=payment_ids,
            note=note,
        )
        made = _STEPS.get(kind, _resolve_through_hook)(resolving)
        if made is None:
            return []
        posting_ids, flag = made
        return _match_resolved(resolving, posting_ids, flag)
