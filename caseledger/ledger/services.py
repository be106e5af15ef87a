"""Writes to the ledger. ``entry_post`` is the ONLY code that creates postings or changes
balance rows; ``entry_reverse`` corrects an entry with its mirror. Account services keep the chart.

Amounts are signed integer cents: positive debit, negative credit.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from caseledger.core import audit, clock
from caseledger.core.money import MAX_MINOR_UNITS, Money
from caseledger.core.selectors import firm_get
from caseledger.ledger import accounts as codes
from caseledger.ledger import hooks, locks
from caseledger.ledger.choices import AccountType, EntryKind, NormalBalance
from caseledger.ledger.exceptions import (
    IdempotencyConflict,
    LedgerError,
    LedgerIntegrityError,
    TrustViolation,
)
from caseledger.ledger.models import Account, AccountBalance, ClosedPeriod, JournalEntry

# -- refusal messages (tests assert these exact texts) ---------------------------------------
ENTRY_KIND_UNKNOWN = "kind: must be one of the entry kinds (got {kind!r})"
ENTRY_KIND_REVERSAL_RESERVED = "kind: REVERSAL entries are made only by reversing an entry"
ENTRY_EMPTY = "lines: an entry needs at least two postings (got none)"
ENTRY_MEMO_TOO_LONG = "memo: at most 500 characters (got {length})"
ENTRY_DATE_INVALID = "entry_date: must be a date (got {value!r})"
POSTING_AMOUNT_NOT_INTEGER = "lines[{index}].amount_cents: must be whole cents (got {value!r})"
POSTING_AMOUNT_ZERO = "lines[{index}].amount_cents: must not be zero"
POSTING_AMOUNT_TOO_LARGE = "lines[{index}].amount_cents: must not exceed {limit} (got {value})"
ENTRY_UNBALANCED = "lines: debits and credits must sum to zero (off by {difference} cents)"
ACCOUNT_UNKNOWN = "lines[{index}].account: no account with code {code!r}"
ACCOUNT_INACTIVE = "lines[{index}].account: account {code} is inactive"
ENTRY_MIXED_CURRENCY = "lines: every posting must be in one currency (got {currencies})"
POSTING_MATTER_OTHER_CLIENT = "lines[{index}].matter: matter {matter} belongs to another client"
TRUST_POSTING_NEEDS_CLIENT_MATTER = (
    "lines[{index}]: a posting on trust account {code} needs a client and a matter"
)
TRUST_BANK_LIABILITY_MISMATCH = (
    "lines: trust bank postings ({bank} cents) must equal client trust liability postings "
    "({liability} cents) so trust bank always equals the sum of client trust ledgers"
)
TRUST_CARD_FEE = "lines: card processing fees are never paid from or with trust money"
TRUST_OUTFLOW_UNAUTHORIZED = (
    "lines: money leaves trust only as earned fees against an issued invoice "
    "(kind TRUST_TRANSFER_EARNED) or with an approved disbursement"
)
TRUST_DISBURSEMENT_NOT_APPROVED = "disbursement: disbursement {id} is not approved"
TRUST_TRANSFER_NEEDS_INVOICE = (
    "lines[{index}].invoice: every posting of an earned-fee transfer must name its issued invoice"
)
TRUST_TRANSFER_INVOICE_NOT_ISSUED = (
    "lines[{index}].invoice: invoice {invoice} is {status}; fees are earned only against an "
    "issued invoice"
)
TRUST_TRANSFER_BEFORE_INVOICE = (
    "entry_date: {entry_date} is before invoice {invoice} was issued ({issue_date})"
)
TRUST_TRANSFER_UNCHECKED = (
    "kind: no app checks earned-fee transfers against their invoices here, so none is allowed"
)
TRUST_TRANSFER_OTHER_CLIENT = (
    "lines[{index}].invoice: invoice {invoice} belongs to another client or matter"
)
TRUST_BALANCE_NEGATIVE = (
    "lines[{index}].amount_cents: client trust balance for matter {matter} would be {balance} "
    "(available {available}); a client's trust balance is never negative"
)
TRUST_ACCOUNT_NEGATIVE = (
    "lines[{index}].amount_cents: trust account {account} holds {available} for matter "
    "{matter}; this would leave {balance} (money leaves a trust bank account only from what the "
    "matter holds in that account)"
)
IDEMPOTENCY_KEY_REUSED = (
    "idempotency_key: {key!r} was already used for a different entry (JE-{entry_id})"
)
IDEMPOTENCY_KEY_TOO_LONG = "idempotency_key: at most 120 characters (got {length})"
ENTRY_ALREADY_REVERSED = "entry: JE-{entry_id} has already been reversed (by JE-{by_id})"
ENTRY_IS_REVERSAL = "entry: JE-{entry_id} is itself a reversal; post a new entry instead"
REVERSAL_BEFORE_ORIGINAL = (
    "entry_date: a reversal cannot be dated before the entry it reverses ({original_date})"
)
ACCOUNT_NAME_REQUIRED = "name: required"
ACCOUNT_CODE_TAKEN = "code: account code {code} is already used"
ACCOUNT_CODE_OUT_OF_RANGE = "code: trust bank accounts use codes {low} to {high} (got {code!r})"
ACCOUNT_LAST4_INVALID = "account_number_last4: must be exactly four digits (got {value!r})"
ACCOUNT_HAS_BALANCE = "account: {code} still has a balance of {balance}; move it first"
ACCOUNT_ALREADY_INACTIVE = "account: {code} is already inactive"
ACCOUNT_ALREADY_ACTIVE = "account: {code} is already active"
PERIOD_CLOSED = (
    "entry_date: {account} is closed through {through} (signed reconciliation); post the "
    "correction in an open month"
)
PERIOD_CLOSE_NOT_LATER = (
    "closed_through: {account} is already closed through {through}; close a later date"
)
PERIOD_REOPEN_REASON_REQUIRED = "reason: say why the closed period is reopened"
PERIOD_NOT_ACTIVE = "closed_period: {account} through {through} is not closed any more"
ENTRY_NOT_SAVED = (
    "entry: the database refused the entry ({detail}); neither a concurrent retry with the same "
    "idempotency key nor a concurrent reversal explains it"
)
LEDGER_TRUST_OUT_OF_BALANCE = (
    "ledger: after JE-{entry_id} trust bank is {bank} cents but client trust liability is "
    "{liability} cents"
)


@dataclass(frozen=True, slots=True)
class PostingLine:
    """One requested posting: ``amount_cents`` positive = debit, negative = credit."""

    account: str | Account
    amount_cents: int
    client: Any = None
    matter: Any = None
    invoice: Any = None


# -- account lookup cache ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What entry_post needs of an account that never changes once created."""

    id: int
    code: str
    account_type: str
    normal_balance: str
    is_trust: bool
    currency: str

    @property
    def is_trust_bank(self) -> bool:
        return self.is_trust and self.account_type == AccountType.ASSET


_cache_lock = threading.Lock()
_by_code: dict[str, AccountInfo] = {}
_by_id: dict[int, AccountInfo] = {}


def accounts_cache_clear() -> None:
    """Forget cached accounts (after a flush or migrate; see apps.LedgerConfig)."""
    with _cache_lock:
        _by_code.clear()
        _by_id.clear()


def _cache_load() -> None:
    rows = Account.objects.values_list(
        "id", "code", "account_type", "normal_balance", "is_trust", "currency"
    )
    infos = [AccountInfo(*row) for row in rows]
    with _cache_lock:
        _by_code.clear()
        _by_id.clear()
        for info in infos:
            _by_code[info.code] = info
            _by_id[info.id] = info


def account_info(code: str) -> AccountInfo:
    """The cached account for ``code``; reloads the chart once on a miss. KeyError if unknown."""
    info = _by_code.get(code)
    if info is None:
        _cache_load()
        info = _by_code[code]
    return info


def _trust_account_ids() -> list[int]:
    if not _by_code:
        _cache_load()
    return [info.id for info in _by_id.values() if info.is_trust]


# -- posting -----------------------------------------------------------------------------------


def _pk(obj: Any) -> int | None:
    if obj is None:
        return None
    return int(getattr(obj, "pk", obj))


def _payload_hash(
    *,
    kind: str,
    entry_date: date,
    memo: str,
    resolved: list[tuple[AccountInfo, PostingLine]],
    disbursement_id: int | None,
    reverses_id: int | None,
) -> str:
    lines = sorted(
        [
            info.code,
            line.amount_cents,
            _pk(line.client),
            _pk(line.matter),
            _pk(line.invoice),
        ]
        for info, line in resolved
    )
    payload = {
        "kind": kind,
        "entry_date": entry_date.isoformat(),
        "memo": memo,
        "lines": lines,
        "disbursement": disbursement_id,
        "reverses": reverses_id,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry_post(
    *,
    kind: str,
    entry_date: date,
    memo: str,
    lines: Sequence[PostingLine],
    actor: Any,
    now: datetime,
    idempotency_key: str | None = None,
    disbursement: Any = None,
) -> JournalEntry:
    """Post one balanced entry, update the balance rows and record an audit event, atomically.

    Guarantees: the postings sum to zero; every account is active and in one currency; trust
    postings carry client and matter; trust bank moves exactly with client trust liability; no
    client's trust balance for a matter goes below zero (checked after locking its row); money
    leaves trust only as earned fees against an issued invoice or with an approved
    ``disbursement``. With ``idempotency_key``, a retry with the same payload returns the first
    entry. Raises LedgerError / TrustViolation / IdempotencyConflict with a message naming the
    field and the rule; nothing is written when it raises.
    """
    if kind == EntryKind.REVERSAL:
        raise LedgerError(ENTRY_KIND_REVERSAL_RESERVED, "kind")
    return _post(
        kind=kind,
        entry_date=entry_date,
        memo=memo,
        lines=lines,
        actor=actor,
        now=now,
        idempotency_key=idempotency_key,
        disbursement=disbursement,
        reverses=None,
    )


def _validate_lines(lines: Sequence[PostingLine]) -> list[tuple[AccountInfo, PostingLine]]:
    if not lines:
        raise LedgerError(ENTRY_EMPTY, "lines")
    total = 0
    for index, line in enumerate(lines):
        amount = line.amount_cents
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise LedgerError(
                POSTING_AMOUNT_NOT_INTEGER.format(index=index, value=amount),
                f"lines[{index}].amount_cents",
            )
        if amount == 0:
            raise LedgerError(
                POSTING_AMOUNT_ZERO.format(index=index), f"lines[{index}].amount_cents"
            )
        if abs(amount) > MAX_MINOR_UNITS:
            raise LedgerError(
                POSTING_AMOUNT_TOO_LARGE.format(index=index, limit=MAX_MINOR_UNITS, value=amount),
                f"lines[{index}].amount_cents",
            )
        total += amount
    if total != 0:
        raise LedgerError(ENTRY_UNBALANCED.format(difference=total), "lines")
    resolved: list[tuple[AccountInfo, PostingLine]] = []
    for index, line in enumerate(lines):
        code = line.account.code if isinstance(line.account, Account) else str(line.account)
        try:
            info = account_info(code)
        except KeyError:
            raise LedgerError(
                ACCOUNT_UNKNOWN.format(index=index, code=code), f"lines[{index}].account"
            ) from None
        resolved.append((info, line))
    currencies = sorted({info.currency for info, _ in resolved})
    if len(currencies) > 1:
        raise LedgerError(ENTRY_MIXED_CURRENCY.format(currencies=", ".join(currencies)), "lines")
    # Trust bank postings need a client only when client trust liability moves with them
    # (a bank item such as IOLTA interest moves trust bank against a non-client liability).
    client_trust = any(
        info.is_trust
        and not info.is_trust_bank
        and info.code not in codes.TRUST_NON_CLIENT_LIABILITIES
        for info, _ in resolved
    )
    for index, (info, line) in enumerate(resolved):
        needs_client = info.is_trust and info.code not in codes.TRUST_NON_CLIENT_LIABILITIES
        if info.is_trust_bank and not client_trust:
            needs_client = False
        if needs_client and (line.client is None or line.matter is None):
            raise TrustViolation(
                TRUST_POSTING_NEEDS_CLIENT_MATTER.format(index=index, code=info.code),
                f"lines[{index}]",
            )
        matter_client = getattr(line.matter, "client_id", None)
        if line.client is not None and matter_client is not None:
            if matter_client != _pk(line.client):
                raise LedgerError(
                    POSTING_MATTER_OTHER_CLIENT.format(index=index, matter=line.matter),
                    f"lines[{index}].matter",
                )
    return resolved


def _check_trust_rules(
    *,
    kind: str,
    entry_date: date,
    resolved: list[tuple[AccountInfo, PostingLine]],
    disbursement: Any,
    reverses: JournalEntry | None,
) -> bool:
    """Per-entry trust rules; returns whether the entry touches trust at all."""
    bank = sum(line.amount_cents for info, line in resolved if info.is_trust_bank)
    liability = sum(
        line.amount_cents for info, line in resolved if info.is_trust and not info.is_trust_bank
    )
    touches_trust = any(info.is_trust for info, _ in resolved)
    if not touches_trust:
        return False
    if bank != -liability:
        raise TrustViolation(
            TRUST_BANK_LIABILITY_MISMATCH.format(bank=bank, liability=-liability), "lines"
        )
    if any(info.code == codes.CARD_PROCESSING_FEES for info, _ in resolved):
        raise TrustViolation(TRUST_CARD_FEE, "lines")
    if bank >= 0 or reverses is not None:
        # Money stays in or comes into trust; a reversal only undoes an entry already allowed.
        return True
    if kind == EntryKind.TRUST_TRANSFER_EARNED:
        _check_earned_transfer(entry_date=entry_date, resolved=resolved)
        return True
    if not any(
        info.is_trust
        and not info.is_trust_bank
        and info.code not in codes.TRUST_NON_CLIENT_LIABILITIES
        for info, _ in resolved
    ):
        # No client's money moves: trust money owed to someone who is not a client (IOLTA
        # interest remitted to the bar foundation) leaves against that liability alone.
        return True
    if disbursement is None:
        raise TrustViolation(TRUST_OUTFLOW_UNAUTHORIZED, "lines")
    if getattr(disbursement, "is_approved", False) is not True:
        raise TrustViolation(
            TRUST_DISBURSEMENT_NOT_APPROVED.format(id=_pk(disbursement)), "disbursement"
        )
    return True


def _check_earned_transfer(
    *, entry_date: date, resolved: list[tuple[AccountInfo, PostingLine]]
) -> None:
    """Every line names an invoice; the registered checks (trust's: issued, same client and
    matter, issued by the entry date) judge the invoices. None registered: refused."""
    for index, (_, line) in enumerate(resolved):
        if line.invoice is None:
            raise TrustViolation(
                TRUST_TRANSFER_NEEDS_INVOICE.format(index=index), f"lines[{index}].invoice"
            )
    checks = hooks.earned_transfer_checks()
    if not checks:
        raise TrustViolation(TRUST_TRANSFER_UNCHECKED, "kind")
    lines = [(index, info.is_trust, line) for index, (info, line) in enumerate(resolved)]
    for check in checks:
        check(entry_date=entry_date, lines=lines)


_Resolved = list[tuple[AccountInfo, PostingLine]]


def _check_entry_args(
    *, kind: str, entry_date: date, memo: str, idempotency_key: str | None
) -> str:
    """Refuse an unknown kind, a bad date, a long memo or key; return the memo ("" for none)."""
    if kind not in EntryKind.values:
        raise LedgerError(ENTRY_KIND_UNKNOWN.format(kind=kind), "kind")
    if isinstance(entry_date, datetime) or not isinstance(entry_date, date):
        raise LedgerError(ENTRY_DATE_INVALID.format(value=entry_date), "entry_date")
    # The services name their own date field first; this is the floor under all of them.
    clock.date_check(entry_date, field="entry_date")
    memo = memo or ""
    if len(memo) > 500:
        raise LedgerError(ENTRY_MEMO_TOO_LONG.format(length=len(memo)), "memo")
    if idempotency_key is not None and len(idempotency_key) > 120:
        raise LedgerError(
            IDEMPOTENCY_KEY_TOO_LONG.format(length=len(idempotency_key)), "idempotency_key"
        )
    return memo


def _lock_subledgers(
    resolved: _Resolved, liability_id: int
) -> tuple[dict[locks.SubKey, int], dict[locks.SubKey, int], dict[locks.SubKey, tuple[int, int]]]:
    """Lock the client/matter balance rows the lines touch; return deltas, first lines, rows."""
    sub_delta: dict[locks.SubKey, int] = defaultdict(int)
    first_line: dict[locks.SubKey, int] = {}
    for index, (info, line) in enumerate(resolved):
        if line.client is not None and line.matter is not None:
            key = (info.id, int(_pk(line.client) or 0), int(_pk(line.matter) or 0))
            sub_delta[key] += line.amount_cents
            first_line.setdefault(key, index)
    sub_rows = locks.subledger_balances_lock(sub_delta, trust_liability_account_id=liability_id)
    return sub_delta, first_line, sub_rows


def _check_client_trust(
    resolved: _Resolved,
    liability_id: int,
    sub_delta: dict[locks.SubKey, int],
    first_line: dict[locks.SubKey, int],
    sub_rows: dict[locks.SubKey, tuple[int, int]],
) -> None:
    """Refuse a line that takes a matter's trust liability (all trust accounts) below zero."""
    for key, delta in sorted(sub_delta.items()):
        if key[0] != liability_id or delta <= 0:
            continue
        _, balance = sub_rows[key]
        available, after = -balance, -(balance + delta)
        if after < 0:
            index = first_line[key]
            currency = resolved[index][0].currency
            raise TrustViolation(
                TRUST_BALANCE_NEGATIVE.format(
                    index=index,
                    matter=getattr(resolved[index][1].matter, "number", resolved[index][1].matter),
                    balance=Money(after, currency).format(),
                    available=Money(available, currency).format(),
                ),
                f"lines[{index}].amount_cents",
            )


def _check_bank_holdings(
    resolved: _Resolved,
    sub_delta: dict[locks.SubKey, int],
    first_line: dict[locks.SubKey, int],
    sub_rows: dict[locks.SubKey, tuple[int, int]],
) -> None:
    """Refuse a line that spends more than the matter holds in that trust bank account."""
    # The client's total across the firm's trust accounts is checked by _check_client_trust.
    bank_ids = {info.id for info, _line in resolved if info.is_trust_bank}
    for key, delta in sorted(sub_delta.items()):
        if key[0] not in bank_ids or delta >= 0:
            continue
        _, held = sub_rows[key]
        if held + delta < 0:
            index = first_line[key]
            info = resolved[index][0]
            raise TrustViolation(
                TRUST_ACCOUNT_NEGATIVE.format(
                    index=index,
                    account=info.code,
                    matter=getattr(resolved[index][1].matter, "number", resolved[index][1].matter),
                    available=Money(held, info.currency).format(),
                    balance=Money(held + delta, info.currency).format(),
                ),
                f"lines[{index}].amount_cents",
            )


def _lock_accounts(
    resolved: _Resolved, touches_trust: bool
) -> tuple[dict[int, int], dict[int, int], dict[int, tuple[int, str, bool]]]:
    """Lock the account balance rows in id order, refusing unknown or inactive accounts."""
    # All trust accounts for a trust entry, so the trust-bank-equals-liability assertion sees
    # every trust bank.
    acct_delta: dict[int, int] = defaultdict(int)
    acct_count: dict[int, int] = defaultdict(int)
    for info, line in resolved:
        acct_delta[info.id] += line.amount_cents
        acct_count[info.id] += 1
    lock_ids = set(acct_delta)
    if touches_trust:
        lock_ids.update(_trust_account_ids())
    acct_rows = locks.account_balances_lock(lock_ids)
    for index, (info, _line) in enumerate(resolved):
        row = acct_rows.get(info.id)
        if row is None or row[1] != info.code:
            raise LedgerIntegrityError(
                ACCOUNT_UNKNOWN.format(index=index, code=info.code), f"lines[{index}].account"
            )
        if not row[2]:
            raise LedgerError(
                ACCOUNT_INACTIVE.format(index=index, code=info.code),
                f"lines[{index}].account",
            )
    return acct_delta, acct_count, acct_rows


def _posting_rows(resolved: _Resolved, entry_date: date) -> list[tuple[Any, ...]]:
    """The posting rows to insert: account, amount, day, client, matter, invoice per line."""
    day = connection.ops.adapt_datefield_value(entry_date)
    return [
        (
            info.id,
            line.amount_cents,
            day,
            _pk(line.client),
            _pk(line.matter),
            _pk(line.invoice),
        )
        for info, line in resolved
    ]


def _check_trust_equal(
    entry: JournalEntry, acct_rows: dict[int, tuple[int, str, bool]], acct_delta: dict[int, int]
) -> None:
    """Refuse (integrity error) when trust bank no longer equals the client trust ledgers."""
    bank_total = liability_total = 0
    for account_id, (balance, _code, _active) in acct_rows.items():
        info = _by_id.get(account_id) or account_info(_code)
        after = balance + acct_delta.get(account_id, 0)
        if info.is_trust_bank:
            bank_total += after
        elif info.is_trust:
            liability_total += -after
    if bank_total != liability_total:
        raise LedgerIntegrityError(
            LEDGER_TRUST_OUT_OF_BALANCE.format(
                entry_id=entry.pk, bank=bank_total, liability=liability_total
            )
        )


def _post(
    *,
    kind: str,
    entry_date: date,
    memo: str,
    lines: Sequence[PostingLine],
    actor: Any,
    now: datetime,
    idempotency_key: str | None,
    disbursement: Any,
    reverses: JournalEntry | None,
) -> JournalEntry:
    """Check and post one entry: locks sub-ledger then account rows, inserts, audits."""
    memo = _check_entry_args(
        kind=kind, entry_date=entry_date, memo=memo, idempotency_key=idempotency_key
    )
    resolved = _validate_lines(lines)
    touches_trust = _check_trust_rules(
        kind=kind,
        entry_date=entry_date,
        resolved=resolved,
        disbursement=disbursement,
        reverses=reverses,
    )
    disbursement_id = _pk(disbursement)
    payload_hash = _payload_hash(
        kind=kind,
        entry_date=entry_date,
        memo=memo,
        resolved=resolved,
        disbursement_id=disbursement_id,
        reverses_id=reverses.pk if reverses is not None else None,
    )
    with transaction.atomic():
        if idempotency_key is not None:
            existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _idempotent_result(existing, idempotency_key, payload_hash)

        # 1. Trust balances (sub-ledger rows), locked in sorted key order, then checked:
        #    per client across trust accounts, then per trust bank account.
        liability = account_info(codes.CLIENT_TRUST_LIABILITY)
        sub_delta, first_line, sub_rows = _lock_subledgers(resolved, liability.id)
        _check_client_trust(resolved, liability.id, sub_delta, first_line, sub_rows)
        _check_bank_holdings(resolved, sub_delta, first_line, sub_rows)

        # 2. Account balances, locked in account id order.
        acct_delta, acct_count, acct_rows = _lock_accounts(resolved, touches_trust)

        # 3. The entry, its postings and the balance rows (already locked): raw SQL, one
        #    statement on PostgreSQL (see ``_write_entry``); this is the hot path.
        entry = JournalEntry(
            entry_date=entry_date,
            kind=kind,
            memo=memo,
            currency=resolved[0][0].currency,
            actor=actor,
            created_at=now,
            idempotency_key=idempotency_key,
            payload_hash=payload_hash,
            reverses=reverses,
            disbursement_id=disbursement_id,
        )
        posting_rows = _posting_rows(resolved, entry_date)
        balance_updates = _balance_updates(
            {sub_rows[k][0]: d for k, d in sub_delta.items()}, acct_delta, acct_count
        )
        if idempotency_key is not None or reverses is not None:
            try:
                with transaction.atomic():
                    _write_entry(entry, posting_rows, balance_updates)
            except IntegrityError as exc:
                _raise_if_closed(exc, resolved, entry_date)
                return _lost_race(entry, idempotency_key, payload_hash, reverses, exc)
        else:
            try:
                _write_entry(entry, posting_rows, balance_updates)
            except IntegrityError as exc:
                _raise_if_closed(exc, resolved, entry_date)
                raise

        # 4b. Listeners of the apps above (ledger.hooks; collections: aging facts), same
        #     transaction, after the postings.
        hooks.postings_inserted(entry=entry, rows=posting_rows)

        # 5. Trust bank must equal the sum of client trust ledgers after every trust entry.
        if touches_trust:
            _check_trust_equal(entry, acct_rows, acct_delta)

        audit.record(
            actor=actor,
            action="ledger.entry_reversed" if reverses is not None else "ledger.entry_posted",
            at=now,
            obj=entry,
            after={
                "kind": kind,
                "entry_date": entry_date.isoformat(),
                "memo": memo,
                "reverses": reverses.pk if reverses is not None else None,
                "disbursement": disbursement_id,
                "lines": [
                    [info.code, row[1], row[3], row[4], row[5]]
                    for (info, _), row in zip(resolved, posting_rows, strict=True)
                ],
            },
        )
    return entry


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """One entry of ``entries_post``: the arguments ``entry_post`` takes for it."""

    kind: str
    entry_date: date
    memo: str
    lines: Sequence[PostingLine]
    disbursement: Any = None


BATCH_EMPTY = "entries: a batch needs at least one entry (got none)"
BATCH_TOO_LARGE = "entries: at most {limit} entries in one batch (got {count})"
BATCH_LIMIT = 5000


def _in_entry(exc: LedgerError, index: int) -> LedgerError:
    """``exc`` with its message and field prefixed by the entry's place in the batch."""
    field = f"entries[{index}].{exc.field}" if exc.field else f"entries[{index}]"
    return type(exc)(f"entries[{index}].{exc.message}", field)


def entries_post(*, entries: Sequence[EntryRequest], actor: Any, now: datetime) -> list[int]:
    """Post many entries in ONE transaction for imports and generators: the same checks as
    ``entry_post`` for each entry (in order, each seeing the balances the entries before it
    leave), the same database triggers, hooks and one audit event per entry, but the balance
    rows are locked once, the entries go in with one INSERT, their postings with one more and
    the balance rows change with one UPDATE each. All or nothing: a refused entry raises its
    error with the message and field prefixed ``entries[i].``. No idempotency keys or
    reversals here (``entry_post`` does those). Returns the new entries' ids, in order."""
    if not entries:
        raise LedgerError(BATCH_EMPTY, "entries")
    if len(entries) > BATCH_LIMIT:
        raise LedgerError(BATCH_TOO_LARGE.format(limit=BATCH_LIMIT, count=len(entries)), "entries")
    checked: list[tuple[EntryRequest, list[tuple[AccountInfo, PostingLine]], bool, str]] = []
    for index, req in enumerate(entries):
        try:
            if req.kind not in EntryKind.values or req.kind == EntryKind.REVERSAL:
                raise LedgerError(ENTRY_KIND_UNKNOWN.format(kind=req.kind), "kind")
            if isinstance(req.entry_date, datetime) or not isinstance(req.entry_date, date):
                raise LedgerError(ENTRY_DATE_INVALID.format(value=req.entry_date), "entry_date")
            clock.date_check(req.entry_date, field="entry_date")
            if len(req.memo or "") > 500:
                raise LedgerError(ENTRY_MEMO_TOO_LONG.format(length=len(req.memo)), "memo")
            resolved = _validate_lines(req.lines)
            trust = _check_trust_rules(
                kind=req.kind,
                entry_date=req.entry_date,
                resolved=resolved,
                disbursement=req.disbursement,
                reverses=None,
            )
        except LedgerError as exc:
            raise _in_entry(exc, index) from exc
        payload_hash = _payload_hash(
            kind=req.kind,
            entry_date=req.entry_date,
            memo=req.memo or "",
            resolved=resolved,
            disbursement_id=_pk(req.disbursement),
            reverses_id=None,
        )
        checked.append((req, resolved, trust, payload_hash))

    liability = account_info(codes.CLIENT_TRUST_LIABILITY)
    with transaction.atomic():
        # Locks as entry_post takes them: every trust balance row (sorted), then every account
        # balance row (sorted), once for the whole batch.
        keys: set[locks.SubKey] = set()
        acct_ids: set[int] = set()
        any_trust = False
        for _req, resolved, trust, _hash in checked:
            any_trust |= trust
            for info, line in resolved:
                acct_ids.add(info.id)
                if line.client is not None and line.matter is not None:
                    keys.add((info.id, int(_pk(line.client) or 0), int(_pk(line.matter) or 0)))
        sub_rows = locks.subledger_balances_lock(keys, trust_liability_account_id=liability.id)
        if any_trust:
            acct_ids.update(_trust_account_ids())
        acct_rows = locks.account_balances_lock(acct_ids)
        running = {key: balance for key, (_row, balance) in sub_rows.items()}
        sub_delta: dict[int, int] = defaultdict(int)
        acct_delta: dict[int, int] = defaultdict(int)
        acct_count: dict[int, int] = defaultdict(int)
        for index, (_req, resolved, _trust, _hash) in enumerate(checked):
            try:
                _check_batch_entry(resolved, running, acct_rows, liability.id)
            except LedgerError as exc:
                raise _in_entry(exc, index) from exc
            for info, line in resolved:
                acct_delta[info.id] += line.amount_cents
                acct_count[info.id] += 1
                if line.client is not None and line.matter is not None:
                    key = (info.id, int(_pk(line.client) or 0), int(_pk(line.matter) or 0))
                    running[key] += line.amount_cents
                    sub_delta[sub_rows[key][0]] += line.amount_cents

        adapt_day = connection.ops.adapt_datefield_value
        created = connection.ops.adapt_datetimefield_value(now)
        entry_rows = [
            [
                adapt_day(req.entry_date),
                req.kind,
                req.memo or "",
                resolved[0][0].currency,
                _pk(actor),
                created,
                None,
                payload_hash,
                None,
                _pk(req.disbursement),
            ]
            for req, resolved, _trust, payload_hash in checked
        ]
        posting_rows = [
            [
                (
                    info.id,
                    line.amount_cents,
                    adapt_day(req.entry_date),
                    _pk(line.client),
                    _pk(line.matter),
                    _pk(line.invoice),
                )
                for info, line in resolved
            ]
            for req, resolved, _trust, _hash in checked
        ]
        try:
            ids = _write_entries(entry_rows, posting_rows)
            with connection.cursor() as cur:
                for sql, params in _balance_updates(dict(sub_delta), acct_delta, acct_count):
                    cur.execute(sql, params)
        except IntegrityError as exc:
            for req, resolved, _trust, _hash in checked:
                _raise_if_closed(exc, resolved, req.entry_date)
            raise

        for entry_id, (req, resolved, _trust, payload_hash), rows in zip(
            ids, checked, posting_rows, strict=True
        ):
            entry = JournalEntry(
                pk=entry_id,
                entry_date=req.entry_date,
                kind=req.kind,
                memo=req.memo or "",
                currency=resolved[0][0].currency,
                actor=actor,
                created_at=now,
                payload_hash=payload_hash,
                disbursement_id=_pk(req.disbursement),
            )
            entry._state.adding = False
            entry._state.db = connection.alias
            hooks.postings_inserted(entry=entry, rows=rows)
            audit.record(
                actor=actor,
                action="ledger.entry_posted",
                at=now,
                obj=entry,
                after={
                    "kind": req.kind,
                    "entry_date": req.entry_date.isoformat(),
                    "memo": req.memo or "",
                    "reverses": None,
                    "disbursement": _pk(req.disbursement),
                    "lines": [
                        [info.code, row[1], row[3], row[4], row[5]]
                        for (info, _), row in zip(resolved, rows, strict=True)
                    ],
                },
            )

        if any_trust:
            bank_total = liability_total = 0
            for account_id, (balance, code, _active) in acct_rows.items():
                info = _by_id.get(account_id) or account_info(code)
                after = balance + acct_delta.get(account_id, 0)
                if info.is_trust_bank:
                    bank_total += after
                elif info.is_trust:
                    liability_total += -after
            if bank_total != liability_total:
                raise LedgerIntegrityError(
                    LEDGER_TRUST_OUT_OF_BALANCE.format(
                        entry_id=ids[-1], bank=bank_total, liability=liability_total
                    )
                )
    return ids


def _check_batch_entry(
    resolved: list[tuple[AccountInfo, PostingLine]],
    running: dict[locks.SubKey, int],
    acct_rows: dict[int, tuple[int, str, bool]],
    liability_id: int,
) -> None:
    """entry_post's locked checks for one entry of a batch, against the running balances."""
    delta: dict[locks.SubKey, int] = defaultdict(int)
    first: dict[locks.SubKey, int] = {}
    for index, (info, line) in enumerate(resolved):
        row = acct_rows.get(info.id)
        if row is None or row[1] != info.code:
            raise LedgerIntegrityError(
                ACCOUNT_UNKNOWN.format(index=index, code=info.code), f"lines[{index}].account"
            )
        if not row[2]:
            raise LedgerError(
                ACCOUNT_INACTIVE.format(index=index, code=info.code), f"lines[{index}].account"
            )
        if line.client is not None and line.matter is not None:
            key = (info.id, int(_pk(line.client) or 0), int(_pk(line.matter) or 0))
            delta[key] += line.amount_cents
            first.setdefault(key, index)
    # As entry_post: every client's total first, then each trust bank account's share.
    ordered = sorted(delta.items())
    for key, change in ordered:
        index = first[key]
        info, line = resolved[index]
        balance = running[key]
        if key[0] == liability_id and change > 0 and balance + change > 0:
            raise TrustViolation(
                TRUST_BALANCE_NEGATIVE.format(
                    index=index,
                    matter=getattr(line.matter, "number", line.matter),
                    balance=Money(-(balance + change), info.currency).format(),
                    available=Money(-balance, info.currency).format(),
                ),
                f"lines[{index}].amount_cents",
            )
    for key, change in ordered:
        index = first[key]
        info, line = resolved[index]
        balance = running[key]
        if info.is_trust_bank and change < 0 and balance + change < 0:
            raise TrustViolation(
                TRUST_ACCOUNT_NEGATIVE.format(
                    index=index,
                    account=info.code,
                    matter=getattr(line.matter, "number", line.matter),
                    available=Money(balance, info.currency).format(),
                    balance=Money(balance + change, info.currency).format(),
                ),
                f"lines[{index}].amount_cents",
            )


def _write_entries(
    entry_rows: list[list[Any]], posting_rows: list[list[tuple[Any, ...]]]
) -> list[int]:
    """PostgreSQL: one INSERT of up to 1,000 entries (RETURNING ids in VALUES order, as Django's
    bulk_create relies on), then one INSERT of up to 1,000 postings. SQLite: each entry, then
    its postings (its guard trigger takes postings for the newest entry only, migration 0004)."""
    marks = "(" + ", ".join(["%s"] * 10) + ")"
    posting_marks = "(%s, %s, %s, %s, %s, %s, %s)"
    ids: list[int] = []
    with connection.cursor() as cur:
        if connection.vendor != "postgresql":
            for row, postings in zip(entry_rows, posting_rows, strict=True):
                cur.execute(_ENTRY_INSERT, row)
                entry_id = cur.fetchone()[0]
                ids.append(entry_id)
                cur.execute(
                    _POSTING_INSERT + ", ".join([posting_marks] * len(postings)),
                    [v for p in postings for v in (entry_id, *p)],
                )
            return ids
        for start in range(0, len(entry_rows), 1000):  # under the parameter limit
            chunk = entry_rows[start : start + 1000]
            cur.execute(
                _ENTRY_INSERT.replace(
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    "VALUES " + ", ".join([marks] * len(chunk)),
                ),
                [v for row in chunk for v in row],
            )
            ids += [row[0] for row in cur.fetchall()]
        flat = [
            (entry_id, *p) for entry_id, rows in zip(ids, posting_rows, strict=True) for p in rows
        ]
        for start in range(0, len(flat), 1000):
            postings = flat[start : start + 1000]
            cur.execute(
                _POSTING_INSERT + ", ".join([posting_marks] * len(postings)),
                [v for row in postings for v in row],
            )
    return ids


_ENTRY_INSERT = (
    "INSERT INTO ledger_journalentry (entry_date, kind, memo, currency, actor_id, created_at, "
    "idempotency_key, payload_hash, reverses_id, disbursement_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
_POSTING_INSERT = (
    "INSERT INTO ledger_posting (entry_id, account_id, amount_cents, entry_date, client_id, "
    "matter_id, invoice_id) VALUES "
)

Statement = tuple[str, list[Any]]


def _balance_updates(
    sub_delta: dict[int, int], acct_delta: dict[int, int], acct_count: dict[int, int]
) -> list[Statement]:
    """One UPDATE for the sub-ledger rows (by row id) and one for the account balance rows."""
    out: list[Statement] = []
    if sub_delta:
        ids = list(sub_delta)
        out.append(
            (
                "UPDATE ledger_subledgerbalance SET balance_cents = balance_cents + CASE id "
                + " ".join(["WHEN %s THEN %s"] * len(ids))
                + " ELSE 0 END WHERE id IN ("
                + ", ".join(["%s"] * len(ids))
                + ")",
                [v for i in ids for v in (i, sub_delta[i])] + ids,
            )
        )
    accts = list(acct_delta)
    out.append(
        (
            "UPDATE ledger_accountbalance SET balance_cents = balance_cents + CASE account_id "
            + " ".join(["WHEN %s THEN %s"] * len(accts))
            + " ELSE 0 END, entry_count = entry_count + CASE account_id "
            + " ".join(["WHEN %s THEN %s"] * len(accts))
            + " ELSE 0 END WHERE account_id IN ("
            + ", ".join(["%s"] * len(accts))
            + ")",
            [v for a in accts for v in (a, acct_delta[a])]
            + [v for a in accts for v in (a, acct_count[a])]
            + accts,
        )
    )
    return out


def _write_entry(
    entry: JournalEntry, posting_rows: list[tuple[Any, ...]], balance_updates: list[Statement]
) -> None:
    """Insert the entry and its postings and apply the balance updates.

    On PostgreSQL all of it is ONE statement: data-modifying CTEs, the postings taking the new
    entry's id from ``(SELECT id FROM e)`` (four round trips saved per entry; the deferred
    sum-to-zero trigger still runs at commit). Elsewhere the same statements run one by one.
    """
    entry_params = [
        connection.ops.adapt_datefield_value(entry.entry_date),
        entry.kind,
        entry.memo,
        entry.currency,
        entry.actor_id,
        connection.ops.adapt_datetimefield_value(entry.created_at),
        entry.idempotency_key,
        entry.payload_hash,
        entry.reverses_id,
        entry.disbursement_id,
    ]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            values = ", ".join(["((SELECT id FROM e), %s, %s, %s, %s, %s, %s)"] * len(posting_rows))
            ctes = [f"e AS ({_ENTRY_INSERT})", f"p AS ({_POSTING_INSERT}{values})"]
            params = [*entry_params, *(v for row in posting_rows for v in row)]
            for index, (sql, update_params) in enumerate(balance_updates):
                ctes.append(f"b{index} AS ({sql})")
                params += update_params
            cur.execute("WITH " + ", ".join(ctes) + " SELECT id FROM e", params)
            entry.pk = cur.fetchone()[0]
        else:
            cur.execute(_ENTRY_INSERT, entry_params)
            entry.pk = cur.fetchone()[0]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(posting_rows))
            cur.execute(
                _POSTING_INSERT + values, [v for row in posting_rows for v in (entry.pk, *row)]
            )
            for sql, update_params in balance_updates:
                cur.execute(sql, update_params)
    entry._state.adding = False
    entry._state.db = connection.alias


def _raise_if_closed(
    exc: IntegrityError, resolved: list[tuple[AccountInfo, PostingLine]], entry_date: date
) -> None:
    """Translate the closed-period trigger's refusal (migration 0003) into a LedgerError."""
    text = str(exc)
    if "ledger_closed_period:" not in text:
        return
    marker = text.split("ledger_closed_period:", 1)[1].strip().splitlines()[0]
    if " is closed through " in marker:  # PostgreSQL names the account and the date
        label, through = marker.split(" is closed through ", 1)
    else:  # SQLite's message is constant: the statement was undone, the transaction lives
        row = (
            ClosedPeriod.objects.filter(
                account_id__in=[info.id for info, _ in resolved],
                is_active=True,
                closed_through__gte=entry_date,
            )
            .select_related("account")
            .order_by("-closed_through", "id")
            .first()
        )
        if row is None:  # pragma: no cover - the trigger saw a row this read does not
            label, through = "the account", "a signed date"
        else:
            label, through = f"{row.account.code} {row.account.name}", str(row.closed_through)
    raise LedgerError(
        PERIOD_CLOSED.format(account=label.strip(), through=through.strip()[:10]), "entry_date"
    ) from exc


def _idempotent_result(existing: JournalEntry, key: str, payload_hash: str) -> JournalEntry:
    if existing.payload_hash != payload_hash:
        raise IdempotencyConflict(
            IDEMPOTENCY_KEY_REUSED.format(key=key, entry_id=existing.pk), "idempotency_key"
        )
    return existing


def _lost_race(
    entry: JournalEntry,
    key: str | None,
    payload_hash: str,
    reverses: JournalEntry | None,
    exc: IntegrityError,
) -> JournalEntry:
    """A concurrent writer committed the same idempotency key or reversal first; any other
    integrity error is a bug, raised naming the database's refusal."""
    if key is not None:
        existing = JournalEntry.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return _idempotent_result(existing, key, payload_hash)
    if reverses is not None:
        by = JournalEntry.objects.filter(reverses=reverses).first()
        if by is not None:
            raise LedgerError(
                ENTRY_ALREADY_REVERSED.format(entry_id=reverses.pk, by_id=by.pk), "entry"
            )
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    raise LedgerIntegrityError(ENTRY_NOT_SAVED.format(detail=detail), "entry") from exc


def entry_reverse(
    *,
    entry: JournalEntry,
    actor: Any,
    now: datetime,
    entry_date: date | None = None,
    memo: str = "",
) -> JournalEntry:
    """Post the mirror of ``entry`` (every amount negated), linked by ``reverses``.

    An entry is reversed at most once (a unique constraint backs the check). The reversal is
    dated ``entry_date`` (default: today in the firm's time zone, never before the original)
    and passes every balance check; a reversal that would take a client's trust balance below
    zero is refused like any other entry.
    """
    if entry.kind == EntryKind.REVERSAL:
        raise LedgerError(ENTRY_IS_REVERSAL.format(entry_id=entry.pk), "entry")
    by = JournalEntry.objects.filter(reverses=entry).only("id").first()
    if by is not None:
        raise LedgerError(ENTRY_ALREADY_REVERSED.format(entry_id=entry.pk, by_id=by.pk), "entry")
    if entry_date is None:
        entry_date = max(clock.firm_date(now), entry.entry_date)
    if entry_date < entry.entry_date:
        raise LedgerError(
            REVERSAL_BEFORE_ORIGINAL.format(original_date=entry.entry_date.isoformat()),
            "entry_date",
        )
    mirror = [
        PostingLine(
            account=account_code,
            amount_cents=-amount,
            client=client_id,
            matter=matter_id,
            invoice=invoice_id,
        )
        for account_code, amount, client_id, matter_id, invoice_id in entry.postings.order_by(
            "id"
        ).values_list("account__code", "amount_cents", "client_id", "matter_id", "invoice_id")
    ]
    return _post(
        kind=EntryKind.REVERSAL,
        entry_date=entry_date,
        memo=memo or f"Reversal of JE-{entry.pk}",
        lines=mirror,
        actor=actor,
        now=now,
        idempotency_key=None,
        disbursement=None,
        reverses=entry,
    )


# -- chart of accounts -----------------------------------------------------------------------


def chart_ensure(*, now: datetime) -> int:
    """Create any missing seeded account and balance row; returns how many accounts it made.

    Idempotent; run by the data migration and after every migrate/flush (apps.py).
    """
    currency = firm_get().currency
    made = 0
    existing = set(Account.objects.values_list("code", flat=True))
    for spec in codes.CHART:
        if spec.code in existing:
            continue
        Account.objects.create(
            code=spec.code,
            name=spec.name,
            account_type=spec.account_type,
            normal_balance=spec.normal_balance,
            is_trust=spec.is_trust,
            description=spec.description,
            currency=currency,
            created_at=now,
        )
        made += 1
    missing = Account.objects.filter(balance__isnull=True).values_list("id", flat=True)
    AccountBalance.objects.bulk_create(
        [AccountBalance(account_id=a) for a in missing], ignore_conflicts=True
    )
    if made:
        accounts_cache_clear()
    return made


def account_trust_bank_create(
    *,
    name: str,
    actor: Any,
    now: datetime,
    code: str | None = None,
    bank_name: str = "",
    account_number_last4: str = "",
) -> Account:
    """Add a trust (IOLTA) bank account to the chart, with its balance row. Code: next free in
    1011-1099 unless given."""
    name = (name or "").strip()
    if not name:
        raise LedgerError(ACCOUNT_NAME_REQUIRED, "name")
    if account_number_last4 and (
        len(account_number_last4) != 4 or not account_number_last4.isdigit()
    ):
        raise LedgerError(
            ACCOUNT_LAST4_INVALID.format(value=account_number_last4), "account_number_last4"
        )
    low, high = codes.TRUST_BANK_CODE_MIN + 1, codes.TRUST_BANK_CODE_MAX
    with transaction.atomic():
        used = set(Account.objects.values_list("code", flat=True))
        if code is None:
            free = [str(c) for c in range(low, high + 1) if str(c) not in used]
            if not free:
                raise LedgerError(
                    ACCOUNT_CODE_OUT_OF_RANGE.format(low=low, high=high, code="(none free)"),
                    "code",
                )
            code = free[0]
        if not code.isdigit() or not low <= int(code) <= high:
            raise LedgerError(
                ACCOUNT_CODE_OUT_OF_RANGE.format(low=low, high=high, code=code), "code"
            )
        if code in used:
            raise LedgerError(ACCOUNT_CODE_TAKEN.format(code=code), "code")
        account = Account.objects.create(
            code=code,
            name=name,
            account_type=AccountType.ASSET,
            normal_balance=NormalBalance.DEBIT,
            is_trust=True,
            currency=firm_get().currency,
            bank_name=bank_name.strip(),
            account_number_last4=account_number_last4,
            description="Trust (IOLTA) bank account",
            created_at=now,
        )
        AccountBalance.objects.create(account=account)
        audit.record(
            actor=actor,
            action="ledger.account_created",
            at=now,
            obj=account,
            after={"code": code, "name": name, "is_trust": True, "bank_name": bank_name},
        )
    accounts_cache_clear()
    return account


def account_deactivate(*, account: Account, actor: Any, now: datetime) -> Account:
    """Mark an account inactive (entries on it are then refused). Refused while it has a
    balance, so nothing is stranded."""
    with transaction.atomic():
        locked = locks.account_balances_lock([account.pk])
        balance, code, active = locked[account.pk]
        if not active:
            raise LedgerError(ACCOUNT_ALREADY_INACTIVE.format(code=code), "account")
        if balance != 0:
            raise LedgerError(
                ACCOUNT_HAS_BALANCE.format(
                    code=code, balance=Money(abs(balance), account.currency).format()
                ),
                "account",
            )
        Account.objects.filter(pk=account.pk).update(is_active=False)
        audit.record(
            actor=actor,
            action="ledger.account_deactivated",
            at=now,
            obj=account,
            before={"is_active": True},
            after={"is_active": False},
        )
    account.is_active = False
    return account


def account_reactivate(*, account: Account, actor: Any, now: datetime) -> Account:
    with transaction.atomic():
        locked = locks.account_balances_lock([account.pk])
        _, code, active = locked[account.pk]
        if active:
            raise LedgerError(ACCOUNT_ALREADY_ACTIVE.format(code=code), "account")
        Account.objects.filter(pk=account.pk).update(is_active=True)
        audit.record(
            actor=actor,
            action="ledger.account_reactivated",
            at=now,
            obj=account,
            before={"is_active": False},
            after={"is_active": True},
        )
    account.is_active = True
    return account


# -- closed periods --------------------------------------------------------------------------


def period_close(
    *, account: Account, closed_through: date, reference: str, actor: Any, now: datetime
) -> ClosedPeriod:
    """Close ``account`` through ``closed_through``: from the commit on, the database refuses
    every posting on it dated on or before that date. Callers lock the account's balance row
    first (``locks.account_balances_lock``) so no entry slips in between their figures and
    this row. Refused when the account is already closed through that date or later."""
    current = period_closed_through(account=account)
    if current is not None and current >= closed_through:
        raise LedgerError(
            PERIOD_CLOSE_NOT_LATER.format(account=account, through=current.isoformat()),
            "closed_through",
        )
    row = ClosedPeriod.objects.create(
        account=account,
        closed_through=closed_through,
        reference=reference[:80],
        closed_by=actor if getattr(actor, "pk", None) else None,
        closed_at=now,
    )
    audit.record(
        actor=actor,
        action="ledger.period_closed",
        at=now,
        obj=row,
        after={
            "account": account.code,
            "closed_through": closed_through.isoformat(),
            "reference": reference,
        },
    )
    return row


def period_reopen(*, closed_period: ClosedPeriod, actor: Any, reason: str, now: datetime) -> None:
    """Reopen a closed period (the row stays, inactive, with who, when and why). Who may
    reopen is the caller's rule (banking: a partner)."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(PERIOD_REOPEN_REASON_REQUIRED, "reason")
    updated = ClosedPeriod.objects.filter(pk=closed_period.pk, is_active=True).update(
        is_active=False, reopened_by=actor, reopened_at=now, reopen_reason=reason[:500]
    )
    if not updated:
        raise LedgerError(
            PERIOD_NOT_ACTIVE.format(
                account=closed_period.account, through=closed_period.closed_through
            ),
            "closed_period",
        )
    audit.record(
        actor=actor,
        action="ledger.period_reopened",
        at=now,
        obj=closed_period,
        before={"is_active": True},
        after={"is_active": False, "reason": reason},
    )


def period_closed_through(*, account: Account | int) -> date | None:
    """The latest date ``account`` is closed through, or None when no period is closed."""
    account_id = account.pk if isinstance(account, Account) else int(account)
    return (
        ClosedPeriod.objects.filter(account_id=account_id, is_active=True)
        .order_by("-closed_through", "-id")
        .values_list("closed_through", flat=True)
        .first()
    )
