"""The balance rows an entry moves: locked in the global order (trust sub-ledger rows, then
account rows; ``ledger.locks``), checked only after locking, and the trust bank = client trust
liability assertion after the write."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from caseledger.core.money import Money
from caseledger.ledger import locks
from caseledger.ledger.account_cache import _by_id, _trust_account_ids, account_info
from caseledger.ledger.exceptions import (
    LedgerError,
    LedgerIntegrityError,
    TrustViolation,
)
from caseledger.ledger.services.common import (
    ACCOUNT_INACTIVE,
    ACCOUNT_UNKNOWN,
    LEDGER_TRUST_OUT_OF_BALANCE,
    TRUST_ACCOUNT_NEGATIVE,
    TRUST_BALANCE_NEGATIVE,
    _pk,
    _Resolved,
)

SubRows = dict[locks.SubKey, tuple[int, int]]
AcctRows = dict[int, tuple[int, str, bool]]


@dataclass(slots=True)
class Locked:
    """What ``_lock_balances`` holds for one entry: per sub-ledger key its change, its first
    line and its (row id, balance) read after the lock; per account its change, its number of
    postings and its (balance, code, is_active) read after the lock."""

    sub_delta: dict[locks.SubKey, int]
    first_line: dict[locks.SubKey, int]
    sub_rows: SubRows
    acct_delta: dict[int, int]
    acct_count: dict[int, int]
    acct_rows: AcctRows


def _lock_balances(resolved: _Resolved, liability_id: int, touches_trust: bool) -> Locked:
    """Lock the balance rows the lines move, in the global order (ADR 004): the client/matter
    sub-ledger rows (sorted; created when missing), then the account rows (ascending id; every
    trust account for a trust entry, so the trust bank = client trust liability assertion sees
    every trust bank). One statement on PostgreSQL (``locks.posting_balances_lock``). Then the
    checks under those locks, in this order: each client's trust total, each trust bank
    account's share, each account known and active."""
    sub_delta: dict[locks.SubKey, int] = defaultdict(int)
    first_line: dict[locks.SubKey, int] = {}
    acct_delta: dict[int, int] = defaultdict(int)
    acct_count: dict[int, int] = defaultdict(int)
    for index, (info, line) in enumerate(resolved):
        acct_delta[info.id] += line.amount_cents
        acct_count[info.id] += 1
        if line.client is not None and line.matter is not None:
            key = (info.id, int(_pk(line.client) or 0), int(_pk(line.matter) or 0))
            sub_delta[key] += line.amount_cents
            first_line.setdefault(key, index)
    lock_ids = set(acct_delta)
    if touches_trust:
        lock_ids.update(_trust_account_ids())
    sub_rows, acct_rows = locks.posting_balances_lock(
        sub_delta, lock_ids, trust_liability_account_id=liability_id
    )
    _check_client_trust(resolved, liability_id, sub_delta, first_line, sub_rows)
    _check_bank_holdings(resolved, sub_delta, first_line, sub_rows)
    _check_accounts(resolved, acct_rows)
    return Locked(sub_delta, first_line, sub_rows, acct_delta, acct_count, acct_rows)


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


def _check_accounts(resolved: _Resolved, acct_rows: AcctRows) -> None:
    """Refuse a line on an account whose locked row is missing, not the cached code, or
    inactive (read in the locked row's transaction, so a committed deactivation counts)."""
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


def _check_trust_equal(
    entry_id: int, acct_rows: dict[int, tuple[int, str, bool]], acct_delta: dict[int, int]
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
                entry_id=entry_id, bank=bank_total, liability=liability_total
            )
        )
