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
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any

from django.db import connection

FACT_TABLE = "collections_aragingfact"

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


def aging_facts_rebuild() -> int:
    """Insert the missing fact of every A/R posting that has none; returns how many it wrote.
    Idempotent (a second call writes nothing); existing facts are never changed (append-only).
    Safe beside concurrent posting: a posting and its fact commit together, so the statement's
    snapshot sees both or neither (and the primary key refuses a duplicate regardless)."""
    with connection.cursor() as cur:
        cur.execute(
            _INSERT_SELECT + "WHERE p.account_id = %s AND NOT EXISTS "
            f"(SELECT 1 FROM {FACT_TABLE} f WHERE f.posting_id = p.id)",
            [_ar_account_id()],
        )
        return max(int(cur.rowcount), 0)
