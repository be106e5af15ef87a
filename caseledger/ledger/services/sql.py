"""The raw SQL of the hot path: the entry and posting INSERTs, the balance-row UPDATEs, and the
translation of the closed-period trigger's refusal. Only the ledger writes postings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Max

from caseledger.core import audit
from caseledger.ledger.account_cache import AccountInfo
from caseledger.ledger.exceptions import LedgerError
from caseledger.ledger.models import ClosedPeriod, JournalEntry
from caseledger.ledger.services.common import (
    PERIOD_CLOSED,
    PostingLine,
)

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
    """One UPDATE for the sub-ledger rows (by row id) and one for the account balance rows.
    Every row is already locked by the caller. PostgreSQL: the changes come in as arrays
    (``unnest``), so a batch's thousand rows are three parameters; elsewhere ``CASE``."""
    if connection.vendor == "postgresql":
        return _balance_updates_pg(sub_delta, acct_delta, acct_count)
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


def _balance_updates_pg(
    sub_delta: dict[int, int], acct_delta: dict[int, int], acct_count: dict[int, int]
) -> list[Statement]:
    out: list[Statement] = []
    if sub_delta:
        out.append(
            (
                "UPDATE ledger_subledgerbalance t SET balance_cents = t.balance_cents + d.delta "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS d(id, delta) WHERE t.id = d.id",
                [list(sub_delta), list(sub_delta.values())],
            )
        )
    accts = list(acct_delta)
    out.append(
        (
            "UPDATE ledger_accountbalance t SET balance_cents = t.balance_cents + d.delta, "
            "entry_count = t.entry_count + d.n "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS d(account_id, delta, n) "
            "WHERE t.account_id = d.account_id",
            [accts, [acct_delta[a] for a in accts], [acct_count[a] for a in accts]],
        )
    )
    return out


def _write_entry(
    entry: JournalEntry, posting_rows: list[tuple[Any, ...]], balance_updates: list[Statement]
) -> str | None:
    """Insert the entry and its postings and apply the balance updates.

    On PostgreSQL all of it is ONE statement: data-modifying CTEs, the postings taking the new
    entry's id from ``(SELECT id FROM e)`` (four round trips saved per entry; the deferred
    sum-to-zero trigger still runs at commit). It also reads the audit chain head (no lock) and
    returns its hash, for the entry's audit event (``audit.record(head_seen=...)``). Elsewhere
    the same statements run one by one and None is returned.
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
            cur.execute(
                "WITH " + ", ".join(ctes) + f" SELECT id, ({audit.HEAD_READ}) FROM e", params
            )
            entry.pk, head_seen = cur.fetchone()
        else:
            head_seen = None
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
    return head_seen


_ENTRY_COLUMNS = (
    "entry_date, kind, memo, currency, actor_id, created_at, idempotency_key, payload_hash, "
    "reverses_id, disbursement_id"
)
_POSTING_COLUMNS = (
    "entry_id, account_id, amount_cents, entry_date, client_id, matter_id, invoice_id"
)


def _write_entries(
    entry_rows: list[list[Any]], posting_rows: list[list[tuple[Any, ...]]]
) -> list[int]:
    """PostgreSQL: the entries' ids are taken from their sequence (one query, ascending in
    list order), then the entries and their postings go in with one COPY each (COPY fires the
    same triggers as INSERT: the closed-period check per posting, the deferred same-transaction
    and sum-to-zero checks at commit). SQLite: each entry, then its postings (its guard trigger
    takes postings for the newest entry only, migration 0004)."""
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
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('ledger_journalentry', 'id')) "
            "FROM generate_series(1, %s)",
            [len(entry_rows)],
        )
        ids = sorted(row[0] for row in cur.fetchall())
        raw = cur.cursor
        # A trigger's refusal inside COPY is raised as Django's IntegrityError, as for INSERT.
        with connection.wrap_database_errors:
            with raw.copy(f"COPY ledger_journalentry (id, {_ENTRY_COLUMNS}) FROM STDIN") as copy:
                for entry_id, row in zip(ids, entry_rows, strict=True):
                    copy.write_row((entry_id, *row))
            with raw.copy(f"COPY ledger_posting ({_POSTING_COLUMNS}) FROM STDIN") as copy:
                for entry_id, rows in zip(ids, posting_rows, strict=True):
                    for p in rows:
                        copy.write_row((entry_id, *p))
    return ids


def _closed_entry(
    exc: IntegrityError, entries: Sequence[tuple[list[tuple[AccountInfo, PostingLine]], date]]
) -> int | None:
    """Which of a batch's ``entries`` (lines, entry date) the closed-period trigger refused:
    the first, in posting order, with a line on a closed account dated on or before its
    closed-through date. None when ``exc`` is not that refusal."""
    text = str(exc)
    if "ledger_closed_period:" not in text:
        return None
    marker = text.split("ledger_closed_period:", 1)[1].strip().splitlines()[0]
    closed: dict[int, date]
    if " is closed through " in marker:  # PostgreSQL names the account and the date
        label, through = marker.split(" is closed through ", 1)
        code = label.strip().split(" ", 1)[0]
        day = date.fromisoformat(through.strip()[:10])
        closed = {info.id: day for lines, _ in entries for info, _ in lines if info.code == code}
    else:  # SQLite: the statement was undone, the transaction lives; one query
        ids = {info.id for lines, _ in entries for info, _ in lines}
        closed = dict(
            ClosedPeriod.objects.filter(account_id__in=ids, is_active=True)
            .values("account_id")
            .annotate(through=Max("closed_through"))
            .values_list("account_id", "through")
        )
    for index, (lines, entry_date) in enumerate(entries):
        if any(info.id in closed and entry_date <= closed[info.id] for info, _ in lines):
            return index
    return None  # pragma: no cover - the trigger refused a posting no entry of the batch has


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
        through = through.strip()[:10]
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
        PERIOD_CLOSED.format(account=label.strip(), through=through), "entry_date"
    ) from exc
