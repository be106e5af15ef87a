"""``entries_post``: many entries in ONE transaction for imports and generators, with
``entry_post``'s checks, triggers, hooks and audit events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from caseledger.core import audit, clock
from caseledger.core.money import Money
from caseledger.ledger import accounts as codes
from caseledger.ledger import hooks, locks
from caseledger.ledger.account_cache import AccountInfo, _trust_account_ids, account_info
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import (
    LedgerError,
    LedgerIntegrityError,
    TrustViolation,
)
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services.balances import _check_trust_equal
from caseledger.ledger.services.checks import (
    ENTRY_KINDS,
    _check_trust_rules,
    _payload_hash,
    _validate_lines,
)
from caseledger.ledger.services.common import (
    ACCOUNT_INACTIVE,
    ACCOUNT_UNKNOWN,
    ENTRY_DATE_INVALID,
    ENTRY_KIND_UNKNOWN,
    ENTRY_MEMO_TOO_LONG,
    TRUST_ACCOUNT_NEGATIVE,
    TRUST_BALANCE_NEGATIVE,
    PostingLine,
    _pk,
    _Resolved,
)
from caseledger.ledger.services.posting import _audit_pending
from caseledger.ledger.services.sql import (
    _balance_updates,
    _closed_entry,
    _raise_if_closed,
    _write_entries,
)


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


_Checked = tuple[EntryRequest, _Resolved, bool, str]  # request, lines, touches trust, hash


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
    checked = [_check_request(req, index) for index, req in enumerate(entries)]

    liability = account_info(codes.CLIENT_TRUST_LIABILITY)
    with transaction.atomic():
        any_trust = any(trust for _req, _resolved, trust, _hash in checked)
        sub_rows, acct_rows = _lock_batch(checked, liability.id, any_trust)
        sub_delta, acct_delta, acct_count = _check_running(
            checked, sub_rows, acct_rows, liability.id
        )
        entry_rows, posting_rows = _batch_rows(checked, actor=actor, now=now)
        ids = _write_batch(checked, entry_rows, posting_rows, sub_delta, acct_delta, acct_count)

        events = []
        alias = connection.alias  # once: each use of the proxy looks the connection up
        for entry_id, (req, resolved, _trust, payload_hash), rows in zip(
            ids, checked, posting_rows, strict=True
        ):
            entry = _batch_entry(
                entry_id, req, resolved, payload_hash, actor=actor, now=now, db=alias
            )
            hooks.postings_inserted(entry=entry, rows=rows)
            events.append(_audit_pending(entry, resolved, rows))

        if any_trust:
            _check_trust_equal(ids[-1], acct_rows, acct_delta)
        # The entries' events, in entry order, as entry_post would record them one by one;
        # the chain head is locked once, after every other lock (ADR 004).
        audit.record_many(actor=actor, at=now, events=events)
    return ids


def _check_request(req: EntryRequest, index: int) -> _Checked:
    """``entry_post``'s checks before any lock for entry ``index`` of the batch (a refusal is
    prefixed ``entries[i].``), with the entry's payload hash."""
    try:
        if req.kind not in ENTRY_KINDS or req.kind == EntryKind.REVERSAL:
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
    return req, resolved, trust, payload_hash


def _lock_batch(
    checked: list[_Checked], liability_id: int, any_trust: bool
) -> tuple[dict[locks.SubKey, tuple[int, int]], dict[int, tuple[int, str, bool]]]:
    """Lock as entry_post does, once for the whole batch: every trust balance row (sorted),
    then every account balance row (sorted; all trust accounts when any entry touches trust)."""
    keys: set[locks.SubKey] = set()
    acct_ids: set[int] = set()
    for _req, resolved, _trust, _hash in checked:
        for info, line in resolved:
            acct_ids.add(info.id)
            if line.client is not None and line.matter is not None:
                keys.add((info.id, int(_pk(line.client) or 0), int(_pk(line.matter) or 0)))
    sub_rows = locks.subledger_balances_lock(keys, trust_liability_account_id=liability_id)
    if any_trust:
        acct_ids.update(_trust_account_ids())
    acct_rows = locks.account_balances_lock(acct_ids)
    return sub_rows, acct_rows


def _check_running(
    checked: list[_Checked],
    sub_rows: dict[locks.SubKey, tuple[int, int]],
    acct_rows: dict[int, tuple[int, str, bool]],
    liability_id: int,
) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Each entry's locked checks, in order, against the balances the entries before it leave;
    returns the batch's changes: per sub-ledger row id, per account, postings per account."""
    running = {key: balance for key, (_row, balance) in sub_rows.items()}
    sub_delta: dict[int, int] = defaultdict(int)
    acct_delta: dict[int, int] = defaultdict(int)
    acct_count: dict[int, int] = defaultdict(int)
    for index, (_req, resolved, _trust, _hash) in enumerate(checked):
        try:
            _check_batch_entry(resolved, running, acct_rows, liability_id)
        except LedgerError as exc:
            raise _in_entry(exc, index) from exc
        for info, line in resolved:
            acct_delta[info.id] += line.amount_cents
            acct_count[info.id] += 1
            if line.client is not None and line.matter is not None:
                key = (info.id, int(_pk(line.client) or 0), int(_pk(line.matter) or 0))
                running[key] += line.amount_cents
                sub_delta[sub_rows[key][0]] += line.amount_cents
    return sub_delta, acct_delta, acct_count


def _batch_rows(
    checked: list[_Checked], *, actor: Any, now: datetime
) -> tuple[list[list[Any]], list[list[tuple[Any, ...]]]]:
    """The entry rows (in ``_ENTRY_INSERT``'s column order) and each entry's posting rows."""
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
    return entry_rows, posting_rows


def _write_batch(
    checked: list[_Checked],
    entry_rows: list[list[Any]],
    posting_rows: list[list[tuple[Any, ...]]],
    sub_delta: dict[int, int],
    acct_delta: dict[int, int],
    acct_count: dict[int, int],
) -> list[int]:
    """Insert the entries and postings and update the balance rows; a closed period's refusal
    becomes entry_post's LedgerError prefixed with the refused entry's place
    (``entries[i].entry_date``). Returns the new entries' ids, in order."""
    try:
        ids = _write_entries(entry_rows, posting_rows)
        with connection.cursor() as cur:
            for sql, params in _balance_updates(dict(sub_delta), acct_delta, acct_count):
                cur.execute(sql, params)
    except IntegrityError as exc:
        # The refusal names the refused entry's place, as every other refusal of the batch.
        index = _closed_entry(
            exc, [(resolved, req.entry_date) for req, resolved, _t, _h in checked]
        )
        if index is not None:
            req, resolved = checked[index][0], checked[index][1]
            try:
                _raise_if_closed(exc, resolved, req.entry_date)
            except LedgerError as refusal:
                raise _in_entry(refusal, index) from exc
        raise
    return ids


def _batch_entry(
    entry_id: int,
    req: EntryRequest,
    resolved: _Resolved,
    payload_hash: str,
    *,
    actor: Any,
    now: datetime,
    db: str,
) -> JournalEntry:
    """The saved entry ``entry_id`` (in database ``db``) as a model instance, for the listeners
    and the audit: built as the ORM builds a row it read (``from_db``: values in field order,
    no keyword handling), from the values the batch wrote."""
    values = {
        "id": entry_id,
        "entry_date": req.entry_date,
        "kind": req.kind,
        "memo": req.memo or "",
        "currency": resolved[0][0].currency,
        "actor_id": _pk(actor),
        "created_at": now,
        "idempotency_key": None,
        "payload_hash": payload_hash,
        "reverses_id": None,
        "disbursement_id": _pk(req.disbursement),
    }
    entry = JournalEntry.from_db(db, _ENTRY_ATTNAMES, [values[n] for n in _ENTRY_ATTNAMES])
    if actor is not None:
        _ENTRY_ACTOR.set_cached_value(entry, actor)
    return entry


_ENTRY_ATTNAMES = [f.attname for f in JournalEntry._meta.concrete_fields]
_ENTRY_ACTOR = JournalEntry._meta.get_field("actor")


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
