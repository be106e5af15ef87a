"""``entry_post``: the ONLY code (with the batch path, ``batch.entries_post``) that creates
postings or changes balance rows. ``_post`` runs its steps: checks, locks, write, listeners,
trust assertion, audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from caseledger.core import audit
from caseledger.ledger import accounts as codes
from caseledger.ledger import hooks
from caseledger.ledger.account_cache import account_info
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import (
    IdempotencyConflict,
    LedgerError,
    LedgerIntegrityError,
)
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services.balances import (
    _check_trust_equal,
    _lock_balances,
)
from caseledger.ledger.services.checks import (
    _check_entry_args,
    _check_trust_rules,
    _payload_hash,
    _validate_lines,
)
from caseledger.ledger.services.common import (
    ENTRY_ALREADY_REVERSED,
    ENTRY_KIND_REVERSAL_RESERVED,
    ENTRY_NOT_SAVED,
    IDEMPOTENCY_KEY_REUSED,
    PostingLine,
    _pk,
    _Resolved,
)
from caseledger.ledger.services.sql import (
    Statement,
    _balance_updates,
    _raise_if_closed,
    _write_entry,
)


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


def _check_entry(
    *,
    kind: str,
    entry_date: date,
    memo: str,
    lines: Sequence[PostingLine],
    idempotency_key: str | None,
    disbursement: Any,
    reverses: JournalEntry | None,
) -> tuple[str, _Resolved, bool, str]:
    """Every check before a lock: returns the memo ("" for none), the lines with their
    accounts, whether the entry touches trust, and the payload hash idempotency compares."""
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
    payload_hash = _payload_hash(
        kind=kind,
        entry_date=entry_date,
        memo=memo,
        resolved=resolved,
        disbursement_id=_pk(disbursement),
        reverses_id=reverses.pk if reverses is not None else None,
    )
    return memo, resolved, touches_trust, payload_hash


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
    memo, resolved, touches_trust, payload_hash = _check_entry(
        kind=kind,
        entry_date=entry_date,
        memo=memo,
        lines=lines,
        idempotency_key=idempotency_key,
        disbursement=disbursement,
        reverses=reverses,
    )
    disbursement_id = _pk(disbursement)
    with transaction.atomic():
        if idempotency_key is not None:
            existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _idempotent_result(existing, idempotency_key, payload_hash)

        # 1-2. Trust balances (sub-ledger rows, sorted key order), then account balances
        #    (account id order), locked (one statement on PostgreSQL), then checked: per
        #    client across trust accounts, per trust bank account, accounts known and active.
        liability = account_info(codes.CLIENT_TRUST_LIABILITY)
        locked = _lock_balances(resolved, liability.id, touches_trust)

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
            {locked.sub_rows[k][0]: d for k, d in locked.sub_delta.items()},
            locked.acct_delta,
            locked.acct_count,
        )
        written, head_seen = _write_guarded(
            entry,
            posting_rows,
            balance_updates,
            resolved=resolved,
            payload_hash=payload_hash,
            reverses=reverses,
        )
        if written is not entry:  # a concurrent retry with the same key won: its entry
            return written

        # 4b. Listeners of the apps above (ledger.hooks; collections: aging facts), same
        #     transaction, after the postings.
        hooks.postings_inserted(entry=entry, rows=posting_rows)

        # 5. Trust bank must equal the sum of client trust ledgers after every trust entry.
        if touches_trust:
            _check_trust_equal(entry.pk, locked.acct_rows, locked.acct_delta)

        _audit_entry(entry, resolved, posting_rows, actor=actor, now=now, head_seen=head_seen)
    return entry


def _write_guarded(
    entry: JournalEntry,
    posting_rows: list[tuple[Any, ...]],
    balance_updates: list[Statement],
    *,
    resolved: _Resolved,
    payload_hash: str,
    reverses: JournalEntry | None,
) -> tuple[JournalEntry, str | None]:
    """Write the entry (``_write_entry``) and return it with the audit chain head the write
    read; a closed period's refusal becomes a LedgerError. With an idempotency key or a
    reversal the write runs in a savepoint, so a concurrent writer that committed the same key
    or reversal first is told apart from a bug (``_lost_race``): the first entry is returned,
    or the reversal refused."""
    key = entry.idempotency_key
    if key is not None or reverses is not None:
        try:
            with transaction.atomic():
                head_seen = _write_entry(entry, posting_rows, balance_updates)
        except IntegrityError as exc:
            _raise_if_closed(exc, resolved, entry.entry_date)
            return _lost_race(entry, key, payload_hash, reverses, exc), None
    else:
        try:
            head_seen = _write_entry(entry, posting_rows, balance_updates)
        except IntegrityError as exc:
            _raise_if_closed(exc, resolved, entry.entry_date)
            raise
    return entry, head_seen


def _audit_entry(
    entry: JournalEntry,
    resolved: _Resolved,
    posting_rows: Sequence[tuple[Any, ...]],
    *,
    actor: Any,
    now: datetime,
    head_seen: str | None = None,
) -> None:
    """The entry's one audit event (``_audit_pending``). ``head_seen``: the audit chain head as
    the entry's write read it (``audit.record``)."""
    pending = _audit_pending(entry, resolved, posting_rows)
    audit.record(
        actor=actor,
        action=pending.action,
        at=now,
        obj=pending.obj,
        after=pending.after,
        head_seen=head_seen,
    )


def _audit_pending(
    entry: JournalEntry, resolved: _Resolved, posting_rows: Sequence[tuple[Any, ...]]
) -> audit.Pending:
    """The entry's audit event (``ledger.entry_posted``, or ``ledger.entry_reversed`` for a
    reversal) with its lines as posted: account code, amount, client, matter, invoice."""
    return audit.Pending(
        action="ledger.entry_reversed" if entry.reverses_id is not None else "ledger.entry_posted",
        obj=entry,
        after={
            "kind": entry.kind,
            "entry_date": entry.entry_date.isoformat(),
            "memo": entry.memo,
            "reverses": entry.reverses_id,
            "disbursement": entry.disbursement_id,
            "lines": [
                [info.code, row[1], row[3], row[4], row[5]]
                for (info, _), row in zip(resolved, posting_rows, strict=True)
            ],
        },
    )


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
