"""Checks of an entry before any lock: its arguments, its lines (amounts, accounts, currency,
clients and matters), the trust rules, and the payload hash idempotency compares."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from caseledger.core import clock
from caseledger.core.money import MAX_MINOR_UNITS
from caseledger.ledger import accounts as codes
from caseledger.ledger import hooks
from caseledger.ledger.account_cache import AccountInfo, account_info
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import (
    LedgerError,
    TrustViolation,
)
from caseledger.ledger.models import Account, JournalEntry
from caseledger.ledger.services.common import (
    ACCOUNT_UNKNOWN,
    ENTRY_DATE_INVALID,
    ENTRY_EMPTY,
    ENTRY_KIND_UNKNOWN,
    ENTRY_MEMO_TOO_LONG,
    ENTRY_MIXED_CURRENCY,
    ENTRY_UNBALANCED,
    IDEMPOTENCY_KEY_TOO_LONG,
    POSTING_AMOUNT_NOT_INTEGER,
    POSTING_AMOUNT_TOO_LARGE,
    POSTING_AMOUNT_ZERO,
    POSTING_MATTER_OTHER_CLIENT,
    TRUST_BANK_LIABILITY_MISMATCH,
    TRUST_CARD_FEE,
    TRUST_DISBURSEMENT_NOT_APPROVED,
    TRUST_OUTFLOW_UNAUTHORIZED,
    TRUST_POSTING_NEEDS_CLIENT_MATTER,
    TRUST_TRANSFER_NEEDS_INVOICE,
    TRUST_TRANSFER_UNCHECKED,
    PostingLine,
    _pk,
)

# ``EntryKind.values`` builds its list on every call; the hot path asks once per entry.
ENTRY_KINDS = frozenset(EntryKind.values)


def _check_entry_args(
    *, kind: str, entry_date: date, memo: str, idempotency_key: str | None
) -> str:
    """Refuse an unknown kind, a bad date, a long memo or key; return the memo ("" for none)."""
    if kind not in ENTRY_KINDS:
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
