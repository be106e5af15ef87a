"""The aging fact table (``ARAgingFact``): collections' append-only copy of the ledger's postings
to accounts receivable, each with its invoice's due date, so the aging report is a scan of one
narrow table instead of every A/R posting joined to its invoice.

Filled in the posting's own transaction by ``on_postings``, a ``ledger.hooks`` posting listener
(registered in ``CollectionsConfig.ready``): an entry with no A/R line costs no query; one with
A/R lines costs ONE statement, ``INSERT INTO facts SELECT ... FROM the entry's A/R postings LEFT
JOIN their invoices``, which reads the due dates and writes the rows together. Billing stores an
invoice's due date before it posts the issue (``invoice_issue``), and an issued invoice's due
date never changes (billing's immutability trigger), so the copied due date stays right.

``aging_facts_rebuild`` inserts the facts of A/R postings that have none (the data migration's
back-fill, ``manage.py aging_facts_rebuild``); it is idempotent. ``selectors.aging_facts_verify``
checks facts against postings.

The same listener keeps ``ARAgingOpen`` (ADR 022): what is open today per receivable (invoice,
client, matter, due date, reference), the facts' sum over every date, only while it is not
zero. After writing an entry's facts it upserts their sums into it (``ON CONFLICT (key) DO
UPDATE``: + the entry's amount; RETURNING the new sums) and, only when one came to zero, deletes
that row: one or two more statements per A/R entry, in the posting transaction. ``aging_open_
rebuild`` recomputes the table set-based from the facts (bulk loads, repair);
``selectors.aging_open_verify`` checks it against the facts.

And, after the open rows, ``ARAgingBuckets``: per (client, matter), the open A/R in the buckets
of one stored date (total, and the sums due before the date and 30, 60 and 90 days earlier).
One more upsert per A/R entry adds the entry's facts, each to the sums its due date falls in;
``aging_buckets_rebuild(date)`` recomputes them from the open rows for a date (the minute roll,
``aging_buckets_roll``, to the firm's today); ``selectors.aging_buckets_verify`` checks them.
The aging report as of the stored date reads them, one row per client and matter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction

FACT_TABLE = "collections_aragingfact"
OPEN_TABLE = "collections_aragingopen"
OPEN_COLUMNS = "key, invoice_id, client_id, matter_id, due_date, reference, open_cents"
BUCKETS_TABLE = "collections_aragingbuckets"
BUCKETS_DATE_TABLE = "collections_aragingbucketsdate"
BUCKETS_SUMS = ("total_cents", "due_cents", "due30_cents", "due60_cents", "due90_cents")
BUCKETS_COLUMNS = f"key, client_id, matter_id, {', '.join(BUCKETS_SUMS)}"

# The fact row of an A/R posting ``p`` (the due date from its invoice ``i``, if any).
_INSERT_SELECT = (
    f"INSERT INTO {FACT_TABLE} "
    "(posting_id, entry_date, due_date, amount_cents, client_id, matter_id, invoice_id) "
    "SELECT p.id, p.entry_date, i.due_date, p.amount_cents, p.client_id, p.matter_id, "
    "p.invoice_id FROM ledger_posting p LEFT JOIN billing_invoice i ON i.id = p.invoice_id "
)


# (due date, reference) per A/R posting WITHOUT a billing invoice, in line order, for the entries
# posted inside ``receivables``; None outside it.
_receivables: ContextVar[list[tuple[date | None, str]] | None] = ContextVar(
    "aging_receivables", default=None
)


@contextmanager
def receivables(refs: Sequence[tuple[date | None, str]]) -> Iterator[None]:
    """Post A/R that is not a billing invoice with its own due date and reference: inside this
    block, the A/R postings without an invoice of the entry posted get, in line order, the
    (due date, reference) of ``refs`` (an imported legacy invoice, for instance: the apps above
    name their receivables without collections knowing them). The count must match."""
    token = _receivables.set(list(refs))
    try:
        yield
    finally:
        _receivables.reset(token)


RECEIVABLES_COUNT = (
    "receivables: entry {entry} has {postings} A/R posting(s) without an invoice, {refs} "
    "reference(s) were given"
)


def _ar_account_id() -> int:
    from caseledger.ledger import accounts
    from caseledger.ledger.services import account_info

    return account_info(accounts.ACCOUNTS_RECEIVABLE).id


def open_key_sql(alias: str = "f", vendor: str | None = None) -> str:
    """The ``ARAgingOpen.key`` of a fact row ``alias``: invoice, client, matter, due date and
    reference as text, ``|``-separated, NULL as empty (the reference last: it is the only value
    that may hold a ``|``, so the text names one tuple). Dates as ISO text on both databases
    (SQLite stores them so; PostgreSQL's ``to_char``, whatever the session's DateStyle)."""
    vendor = vendor or connection.vendor
    due = (
        f"to_char({alias}.due_date, 'YYYY-MM-DD')"
        if vendor == "postgresql"
        else f"{alias}.due_date"
    )
    parts = [
        f"COALESCE(CAST({alias}.invoice_id AS VARCHAR(20)), '')",
        f"COALESCE(CAST({alias}.client_id AS VARCHAR(20)), '')",
        f"COALESCE(CAST({alias}.matter_id AS VARCHAR(20)), '')",
        f"COALESCE({due}, '')",
        f"COALESCE({alias}.reference, '')",
    ]
    return " || '|' || ".join(parts)


def open_select(where: str = "", having: str = "") -> str:
    """The ``ARAgingOpen`` rows (``OPEN_COLUMNS``' order) of the facts ``f`` matching
    ``where``: their sums per receivable, in key order (the upsert locks rows in that order)."""
    return (
        f"SELECT {open_key_sql()}, f.invoice_id, f.client_id, f.matter_id, f.due_date, "
        f"f.reference, SUM(f.amount_cents) FROM {FACT_TABLE} f {where} "
        f"GROUP BY 1, 2, 3, 4, 5, 6 {having} ORDER BY 1"
    )


def _open_add(entry_id: int, ar: int) -> None:
    """Add ``entry``'s facts to the open rows of their receivables (deleting a row they bring
    to zero) and to the buckets of their client and matter: three statements, four when an
    open row comes to zero. The order, open rows then buckets, is the rebuild's lock order."""
    where = (
        "WHERE f.posting_id IN (SELECT p.id FROM ledger_posting p "
        "WHERE p.entry_id = %s AND p.account_id = %s)"
    )
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {OPEN_TABLE} ({OPEN_COLUMNS}) {open_select(where)} "
            f"ON CONFLICT (key) DO UPDATE SET "
            f"open_cents = {OPEN_TABLE}.open_cents + excluded.open_cents "
            "RETURNING key, open_cents",
            [entry_id, ar],
        )
        cleared = [key for key, cents in cur.fetchall() if cents == 0]
        if cleared:
            cur.execute(
                f"DELETE FROM {OPEN_TABLE} WHERE open_cents = 0 AND key IN "
                f"({', '.join(['%s'] * len(cleared))})",
                cleared,
            )
        # No buckets date yet: the join finds no date row and nothing is written.
        added = ", ".join(f"{c} = {BUCKETS_TABLE}.{c} + excluded.{c}" for c in BUCKETS_SUMS)
        cur.execute(
            f"INSERT INTO {BUCKETS_TABLE} ({BUCKETS_COLUMNS}) "
            f"{buckets_select(FACT_TABLE, 'amount_cents', where)} "
            f"ON CONFLICT (key) DO UPDATE SET {added}",
            [entry_id, ar],
        )


def buckets_select(source: str, amount: str, where: str = "", having: str = "") -> str:
    """The ``ARAgingBuckets`` rows (``BUCKETS_COLUMNS``' order) of the rows ``f`` of ``source``
    (the facts, or the open rows) matching ``where``, ``amount`` being their amount column:
    per client and matter, the total and the sums due before the stored date ``d`` and before
    its three earlier boundaries, in key order (the upsert locks rows in that order). A NULL
    due date compares false: current. No stored date: no rows."""
    sums = [f"SUM(f.{amount})"] + [
        f"COALESCE(SUM(f.{amount}) FILTER (WHERE f.due_date < d.{boundary}), 0)"
        for boundary in ("as_of", "before30", "before60", "before90")
    ]
    key = (
        "COALESCE(CAST(f.client_id AS VARCHAR(20)), '') || '|' || "
        "COALESCE(CAST(f.matter_id AS VARCHAR(20)), '')"
    )
    return (
        f"SELECT {key}, f.client_id, f.matter_id, {', '.join(sums)} FROM {source} f "
        f"JOIN {BUCKETS_DATE_TABLE} d ON d.id = 1 {where} GROUP BY 1, 2, 3 {having} ORDER BY 1"
    )


def buckets_nonzero(amount: str) -> str:
    """The HAVING clause of ``buckets_select`` keeping the rows with any of the five sums not
    zero (the rows worth storing)."""
    return "HAVING " + " OR ".join(
        [f"SUM(f.{amount}) <> 0"]
        + [
            f"COALESCE(SUM(f.{amount}) FILTER (WHERE f.due_date < d.{boundary}), 0) <> 0"
            for boundary in ("as_of", "before30", "before60", "before90")
        ]
    )


def _buckets_recompute(cur: Any, as_of: date) -> int:
    """Store ``as_of`` as the buckets' date and recompute every buckets row from the open rows
    (the caller holds the aging tables' lock); returns the number of rows."""
    boundaries = [as_of - timedelta(days=n) for n in (30, 60, 90)]
    cur.execute(f"DELETE FROM {BUCKETS_DATE_TABLE}")
    cur.execute(
        f"INSERT INTO {BUCKETS_DATE_TABLE} (id, as_of, before30, before60, before90) "
        "VALUES (1, %s, %s, %s, %s)",
        [as_of, *boundaries],
    )
    cur.execute(f"DELETE FROM {BUCKETS_TABLE}")
    rows = buckets_select(OPEN_TABLE, "open_cents", having=buckets_nonzero("open_cents"))
    cur.execute(f"INSERT INTO {BUCKETS_TABLE} ({BUCKETS_COLUMNS}) {rows}")
    return max(int(cur.rowcount), 0)


def buckets_date() -> date | None:
    """The date the buckets are kept for (None: not kept)."""
    from caseledger.collections.models import ARAgingBucketsDate

    return ARAgingBucketsDate.objects.filter(pk=1).values_list("as_of", flat=True).first()


def aging_buckets_rebuild(as_of: date) -> int:
    """Bucket the open A/R per (client, matter) against ``as_of`` (``ARAgingBuckets``, ADR 022):
    the date stored and every row recomputed set-based from the open rows, in one transaction
    under the aging tables' lock (PostgreSQL; a posting meanwhile adds its facts after the
    rebuild commits, against the new date). Returns the number of rows."""
    from caseledger.collections.locks import aging_open_table_lock

    with transaction.atomic(), connection.cursor() as cur:
        aging_open_table_lock()
        return _buckets_recompute(cur, as_of)


def aging_buckets_roll(today: date) -> bool:
    """Move the buckets to ``today`` when they are of another date or of none (the hourly task,
    with the firm's today); returns whether it rebuilt them. Until it has, a report as of
    today sums the open rows themselves, to the same cents."""
    if buckets_date() == today:
        return False
    aging_buckets_rebuild(today)
    return True


def aging_open_rebuild() -> int:
    """Recompute ``ARAgingOpen`` from every aging fact (set-based: one DELETE, one INSERT ...
    SELECT ... GROUP BY); returns the number of open rows. For bulk loads that write facts
    behind the listener (the benches) and repair after ``verify`` reports a difference; the
    buckets (``ARAgingBuckets``), when kept, are recomputed from the new rows for their date. In
    one transaction; on PostgreSQL the tables are locked against the listener's upserts first,
    so an entry posted meanwhile is either in the facts read or added after the rebuild
    commits."""
    from caseledger.collections.locks import aging_open_table_lock

    with transaction.atomic(), connection.cursor() as cur:
        aging_open_table_lock()
        cur.execute(f"DELETE FROM {OPEN_TABLE}")
        cur.execute(
            f"INSERT INTO {OPEN_TABLE} ({OPEN_COLUMNS}) "
            f"{open_select(having='HAVING SUM(f.amount_cents) <> 0')}"
        )
        rows = max(int(cur.rowcount), 0)
        as_of = buckets_date()
        if as_of is not None:  # the buckets derive from the open rows: recomputed with them
            _buckets_recompute(cur, as_of)
        return rows


def on_postings(*, entry: Any, rows: Any) -> None:
    """Ledger posting listener: write the fact rows of ``entry``'s A/R postings (none: no
    query). Runs inside the posting transaction; an error rolls the entry back."""
    from caseledger.ledger.hooks import POSTED_ACCOUNT

    ar = _ar_account_id()
    if not any(row[POSTED_ACCOUNT] == ar for row in rows):
        return
    refs = _receivables.get()
    with connection.cursor() as cur:
        if refs is None:
            cur.execute(
                _INSERT_SELECT + "WHERE p.entry_id = %s AND p.account_id = %s", [entry.pk, ar]
            )
            _open_add(entry.pk, ar)
            return
        cur.execute(
            _INSERT_SELECT + "WHERE p.entry_id = %s AND p.account_id = %s "
            "AND p.invoice_id IS NOT NULL",
            [entry.pk, ar],
        )
        cur.execute(
            "SELECT id, entry_date, amount_cents, client_id, matter_id FROM ledger_posting "
            "WHERE entry_id = %s AND account_id = %s AND invoice_id IS NULL ORDER BY id",
            [entry.pk, ar],
        )
        loose = cur.fetchall()
        if len(loose) != len(refs):
            raise ValueError(
                RECEIVABLES_COUNT.format(entry=entry.pk, postings=len(loose), refs=len(refs))
            )
        cur.executemany(
            f"INSERT INTO {FACT_TABLE} (posting_id, entry_date, due_date, amount_cents, "
            "client_id, matter_id, invoice_id, reference) "
            "VALUES (%s, %s, %s, %s, %s, %s, NULL, %s)",
            [
                (pid, day, due, amount, client, matter, ref)
                for (pid, day, amount, client, matter), (due, ref) in zip(loose, refs, strict=True)
            ],
        )
    _open_add(entry.pk, ar)


def aging_facts_rebuild() -> int:
    """Insert the missing fact of every A/R posting that has none; returns how many it wrote.
    Idempotent (a second call writes nothing); existing facts are never changed (append-only).
    Safe beside concurrent posting: a posting and its fact commit together, so the statement's
    snapshot sees both or neither (and the primary key refuses a duplicate regardless). When it
    wrote any, the open rows (``ARAgingOpen``) are recomputed from the facts."""
    with connection.cursor() as cur:
        cur.execute(
            _INSERT_SELECT + "WHERE p.account_id = %s AND NOT EXISTS "
            f"(SELECT 1 FROM {FACT_TABLE} f WHERE f.posting_id = p.id)",
            [_ar_account_id()],
        )
        written = max(int(cur.rowcount), 0)
    if written:
        aging_open_rebuild()
    return written
