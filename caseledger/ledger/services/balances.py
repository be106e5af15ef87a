"""The balance rows an entry moves: locked in the global order (trust sub-ledger rows, then
account rows; ``ledger.locks``), checked only after locking, and the trust bank = client trust
liability assertion after the write."""

from __future__ import annotations

from collections import defaultdict

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
