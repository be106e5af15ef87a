"""The KPI summary (ADR 020): the firm's accounts-receivable postings summed per day
(``KpiDay``) and per (invoice issue date, day) (``KpiIssueDay``), by the KPI categories of
``metrics.KINDS``. The firm-wide KPIs read these few thousand rows instead of every A/R posting
joined to its entry and invoice.

One SELECT defines each table's rows from the postings (``_day_select``, ``_issue_select``); the
same text

- keeps the tables current: ``on_postings``, a ``ledger.hooks`` posting listener registered in
  ``ReportsConfig.ready``, adds an entry's A/R postings to its rows INSIDE the posting
  transaction (an entry without an A/R line costs no query; one with A/R lines two upserts), so
  the summary is never behind the ledger;
- rebuilds them (``rebuild``: the bench's bulk loader; the data migration has a frozen copy);
- checks them (``verify``, registered for ``manage.py verify`` as ``kpi_summary``).

Postings are append-only and a posting's entry, kind, date and invoice never change; an issued
invoice's issue date never changes (billing's immutability trigger). So a row, once added, stays
right. These tables leave out the matter's partner, case type, office and attorney and the
client's type: current attributes that change (a matter is reassigned), so filtered KPIs keep
reading the postings joined to the matter and client.

The invoice-level summary (ADR 021) follows the same pattern for what the invoices and their
lines give: ``KpiInvoiceDay`` (per issue date, the count of invoices issued and a histogram of
their exact turnarounds) and ``KpiLineDay`` (per issue date, the legal-fee lines summed per kind,
timekeeper and catalogue item: realization). One SELECT each (``_invoice_select``,
``_line_select``) over a source of invoices: every invoice, counted once per INVOICE_ISSUED
entry naming it less once per reversal of one (``rebuild``, ``verify``), or the invoices of one
such entry's postings (``on_postings``: the issue entry adds its invoice, the reversal of the
issue entry, which is how billing voids an invoice, takes it off). An issued invoice's times
and lines never change (billing's immutability triggers).

The cash summary (``KpiCashDay``) is the operations report's cash panel: the A/R postings of
collections per day and way of payment (``_cash_select``: ``metrics._collection_method`` as SQL).
A receipt's way is its payment's method, and payments names the entry from the payment only
after posting it (same transaction): ``on_postings`` files the receipt as the postings read then
(REVERSED, no payment) and ``on_receipt``, a ``payments.hooks`` receipt listener, moves it to the
method once the payment names the entry.

The cohort summary (ADR 024: ``KpiCohortDay``, ``KpiCohortIssueDay``) is keyed by those current
attributes (all but the attorney), so its rows do not stay right by themselves: ``on_postings``
files an entry's postings under the key its client and matter have then (share-locking them on
PostgreSQL), and a change of a key attribute moves the client's or matter's postings to the new
key in the change's transaction (``on_client_regroup``, ``on_matter_regroup``: ``clients.hooks``
and ``matters.hooks`` regroup listeners, called before and after the row is written).
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from caseledger.ledger.choices import EntryKind
from caseledger.reports.metrics import (
    BILLED,
    COHORT_WINDOW,
    COLLECTED,
    CREDIT_APPLIED,
    CREDITED,
    KINDS,
    LEGAL_FEE_LINES,
    REFUNDED,
    REVERSED,
    SETTLEMENT,
    TRUST,
    WRITTEN_OFF,
)

DAY_TABLE = "reports_kpiday"
ISSUE_TABLE = "reports_kpiissueday"
DAY_COLUMNS = (
    "billed_cents",
    "collected_cents",
    "credited_cents",
    "written_off_cents",
    "net_cents",
    "paid_cents",
    "paid_day_cents",
    "postings",
)
ISSUE_COLUMNS = ("billed_cents", "issued_cents", "collected_cents", "postings")
CASH_TABLE = "reports_kpicashday"
CASH_KEY = ("day", "method")
CASH_COLUMNS = ("cents", "postings")
INVOICE_TABLE = "reports_kpiinvoiceday"
INVOICE_KEY = ("issue_date", "measure", "micros")
INVOICE_COLUMNS = ("invoices",)
LINE_TABLE = "reports_kpilineday"
LINE_KEY = ("issue_date", "kind", "timekeeper_id", "service_id")
LINE_COLUMNS = ("quantity_hundredths", "amount_cents", "lines")
# The measures of ``KpiInvoiceDay``: every invoice issued (value 0), and the turnarounds.
ISSUED = "ISSUED"
TOTAL = "TOTAL"
REVIEW = "REVIEW"
ISSUE = "ISSUE"


def _in(name: str) -> str:
    """The WHERE of one category: the entry's kind, or a reversal's of the entry it reverses."""
    kinds = ", ".join(f"'{str(k)}'" for k in sorted(KINDS[name]))
    return f"(e.kind IN ({kinds}) OR (e.kind = 'REVERSAL' AND r.kind IN ({kinds})))"


def _sum_if(condition: str, value: str = "p.amount_cents") -> str:
    return f"COALESCE(SUM(CASE WHEN {condition} THEN {value} ELSE 0 END), 0)"


def _days() -> str:
    """Whole days from the invoice's issue to the posting (``metrics.DaysBetween``)."""
    if connection.vendor == "postgresql":
        return "(p.entry_date - i.issue_date)"
    return "CAST(ROUND(julianday(p.entry_date) - julianday(i.issue_date)) AS INTEGER)"


_FROM = (
    " FROM ledger_posting p JOIN ledger_journalentry e ON e.id = p.entry_id"
    " LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id"
    " LEFT JOIN billing_invoice i ON i.id = p.invoice_id"
    " WHERE p.account_id = %s"
)


def _day_select(where: str = "") -> str:
    paid = f"{_in(COLLECTED)} AND i.issue_date IS NOT NULL"
    sums = [
        _sum_if(_in(BILLED)),
        _sum_if(_in(COLLECTED)),
        _sum_if(_in(CREDITED)),
        _sum_if(_in(WRITTEN_OFF)),
        "COALESCE(SUM(p.amount_cents), 0)",
        _sum_if(paid),
        _sum_if(paid, f"p.amount_cents * {_days()}"),
        "COUNT(*)",
    ]
    return f"SELECT p.entry_date, {', '.join(sums)}{_FROM}{where} GROUP BY p.entry_date"


# The invoice's issue date; for the issue entry itself, its own date: billing posts the issue
# entry on the issue date before it stores that date on the invoice (same transaction), so the
# posting listener sees the invoice without it.
_ISSUE_DATE = (
    "COALESCE(i.issue_date, CASE WHEN e.kind = 'INVOICE_ISSUED' AND i.id IS NOT NULL "
    "THEN p.entry_date END)"
)


def _issue_select(where: str = "") -> str:
    sums = [
        _sum_if(_in(BILLED)),
        _sum_if("e.kind = 'INVOICE_ISSUED'"),
        _sum_if(_in(COLLECTED)),
        "COUNT(*)",
    ]
    return (
        f"SELECT {_ISSUE_DATE}, p.entry_date, {', '.join(sums)}{_FROM}"
        f" AND {_ISSUE_DATE} IS NOT NULL{where} GROUP BY {_ISSUE_DATE}, p.entry_date"
    )


# -- the cash summary: collections per day and way of payment (the operations report) --------

# How a collection came off A/R (``metrics._collection_method``): a receipt by its payment's
# method (joined by the entry, ``Payment.entry`` one-to-one; REVERSED while no payment names the
# entry, as the panel's query reads it), the other kinds by their own key, a reversal REVERSED.
_CASH_METHOD = (
    f"CASE WHEN e.kind = '{EntryKind.PAYMENT_RECEIVED.value}'"
    f" THEN COALESCE(pay.method, '{REVERSED}')"
    f" WHEN e.kind = '{EntryKind.TRUST_TRANSFER_EARNED.value}' THEN '{TRUST}'"
    f" WHEN e.kind = '{EntryKind.PAYMENT_APPLIED.value}' THEN '{CREDIT_APPLIED}'"
    f" WHEN e.kind = '{EntryKind.PROCESSOR_SETTLEMENT.value}' THEN '{SETTLEMENT}'"
    f" WHEN e.kind = '{EntryKind.REFUND.value}' THEN '{REFUNDED}'"
    f" ELSE '{REVERSED}' END"
)


# The entries that can hold a collection: the kinds of one, and reversals (of one or not: the
# SELECT tells).
_CASH_KINDS = KINDS[COLLECTED] | {EntryKind.REVERSAL}


def _cash_select(where: str = "", *, unlinked: bool = False) -> str:
    """The ``KpiCashDay`` rows of the A/R postings of collections (``metrics.in_category``);
    ``unlinked``: negated and all under REVERSED, what ``on_receipt`` takes off again."""
    method, sign, group = _CASH_METHOD, "", f"p.entry_date, {_CASH_METHOD}"
    if unlinked:
        method, sign, group = f"'{REVERSED}'", "-", "p.entry_date"
    return (
        f"SELECT p.entry_date, {method}, {sign}COALESCE(SUM(p.amount_cents), 0), {sign}COUNT(*)"
        " FROM ledger_posting p JOIN ledger_journalentry e ON e.id = p.entry_id"
        " LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id"
        " LEFT JOIN payments_payment pay ON pay.entry_id = e.id"
        f" WHERE p.account_id = %s AND {_in(COLLECTED)}{where} GROUP BY {group}"
    )


# -- the cohort summary (ADR 024): the same sums per cohort key ----------------------------------

COHORT_DAY_TABLE = "reports_kpicohortday"
COHORT_ISSUE_TABLE = "reports_kpicohortissueday"
COHORT_KEY = ("client_type", "intake_source", "case_type_id", "partner_id", "office")
COHORT_DAY_KEY = ("day", *COHORT_KEY)
COHORT_ISSUE_KEY = ("issue_date", "day", *COHORT_KEY)
COHORT_DAY_COLUMNS = (
    "billed_cents",
    "collected_cents",
    "credited_cents",
    "written_off_cents",
    "paid_cents",
    "paid_day_cents",
    "postings",
)
COHORT_ISSUE_COLUMNS = ("issued_cents", "collected_cents", "postings")
# A posting's cohort key: its client's current type and intake source, its matter's current case
# type, partner and office; "" or 0 where it has none (``KpiCohortDay``).
_COHORT_KEY = ", ".join(
    (
        "COALESCE(c.client_type, '')",
        "COALESCE(c.intake_source, '')",
        "COALESCE(m.case_type_id, 0)",
        "COALESCE(m.responsible_partner_id, 0)",
        "COALESCE(m.office, '')",
    )
)
_COHORT_FROM = (
    " FROM ledger_posting p JOIN ledger_journalentry e ON e.id = p.entry_id"
    " LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id"
    " LEFT JOIN billing_invoice i ON i.id = p.invoice_id"
    " LEFT JOIN clients_client c ON c.id = p.client_id"
    " LEFT JOIN matters_matter m ON m.id = p.matter_id"
    " WHERE p.account_id = %s"
)


def _cohort_day_select(where: str = "", sign: str = "") -> str:
    """The ``KpiCohortDay`` rows (``sign`` "-": negated, what a regroup takes off)."""
    paid = f"{_in(COLLECTED)} AND i.issue_date IS NOT NULL"
    sums = [
        _sum_if(_in(BILLED)),
        _sum_if(_in(COLLECTED)),
        _sum_if(_in(CREDITED)),
        _sum_if(_in(WRITTEN_OFF)),
        _sum_if(paid),
        _sum_if(paid, f"p.amount_cents * {_days()}"),
        "COUNT(*)",
    ]
    return (
        f"SELECT p.entry_date, {_COHORT_KEY}, {', '.join(sign + s for s in sums)}"
        f"{_COHORT_FROM}{where} GROUP BY p.entry_date, {_COHORT_KEY}"
    )


def _cohort_issue_select(where: str = "", sign: str = "") -> str:
    """The ``KpiCohortIssueDay`` rows: the issue postings, and the collections dated at most
    ``COHORT_WINDOW`` days after their invoice's issue."""
    within = f"({_in(COLLECTED)} AND {_days()} <= {COHORT_WINDOW})"
    sums = [_sum_if("e.kind = 'INVOICE_ISSUED'"), _sum_if(_in(COLLECTED)), "COUNT(*)"]
    return (
        f"SELECT {_ISSUE_DATE}, p.entry_date, {_COHORT_KEY}, {', '.join(sign + s for s in sums)}"
        f"{_COHORT_FROM} AND {_ISSUE_DATE} IS NOT NULL AND (e.kind = 'INVOICE_ISSUED' OR {within})"
        f"{where} GROUP BY {_ISSUE_DATE}, p.entry_date, {_COHORT_KEY}"
    )


# The entry's clients and matters, share-locked (PostgreSQL) before the posting listener reads their
# cohort key: ``client_update`` and ``matter_update`` lock the row for update before a regroup,
# so a change either waits for the entry to commit and then moves its postings too, or has
# committed and the entry reads the new values. (SQLite runs one writer at a time.)
_COHORT_LOCK = (
    "WITH c AS (SELECT id FROM clients_client WHERE id IN"
    " (SELECT client_id FROM ledger_posting WHERE entry_id = %s) FOR SHARE),"
    " m AS (SELECT id FROM matters_matter WHERE id IN"
    " (SELECT matter_id FROM ledger_posting WHERE entry_id = %s) FOR SHARE)"
    " SELECT (SELECT COUNT(*) FROM c), (SELECT COUNT(*) FROM m)"
)


def _cohort_upserts(where: str, sign: str = "") -> tuple[str, str]:
    return (
        _upsert(
            COHORT_DAY_TABLE, COHORT_DAY_KEY, COHORT_DAY_COLUMNS, _cohort_day_select(where, sign)
        ),
        _upsert(
            COHORT_ISSUE_TABLE,
            COHORT_ISSUE_KEY,
            COHORT_ISSUE_COLUMNS,
            _cohort_issue_select(where, sign),
        ),
    )


def _regroup(where: str, pk: int, *, moved: bool) -> None:
    """Before a change of a cohort attribute (``moved`` False) take the postings ``where``
    selects off the rows of their key, read from the client and matter as they still are; after
    it (``moved`` True) add them to the rows of their new key."""
    ar = _ar_account_id()
    with connection.cursor() as cur:
        for statement in _cohort_upserts(where, "" if moved else "-"):
            cur.execute(statement, [ar, pk])


def on_client_regroup(*, client_id: int, moved: bool) -> None:
    """Clients listener (``clients.hooks``): the client's type or intake source is changing
    (``moved`` False, before the change is written; True, after), inside the change's
    transaction: move its A/R postings to their new cohort key."""
    _regroup(" AND p.client_id = %s", client_id, moved=moved)


def on_matter_regroup(*, matter_id: int, moved: bool) -> None:
    """Matters listener (``matters.hooks``): the matter's partner, office or case type is
    changing; as ``on_client_regroup``, for the matter's A/R postings."""
    _regroup(" AND p.matter_id = %s", matter_id, moved=moved)


def on_receipt(*, payment: Any) -> None:
    """Payments listener (``payments.hooks``): ``payment`` has just been given its receipt
    entry, in that entry's transaction. ``on_postings`` filed the entry's collections under
    REVERSED (no payment named the entry yet); move them to the payment's method."""
    ar = _ar_account_id()
    where = " AND p.entry_id = %s"
    with connection.cursor() as cur:
        cur.execute(
            _upsert(CASH_TABLE, CASH_KEY, CASH_COLUMNS, _cash_select(where, unlinked=True)),
            [ar, payment.entry_id],
        )
        cur.execute(
            _upsert(CASH_TABLE, CASH_KEY, CASH_COLUMNS, _cash_select(where)),
            [ar, payment.entry_id],
        )


# -- the invoice-level summary (ADR 021) ---------------------------------------------------------


def _micros(end: str, start: str) -> str:
    """Exact microseconds from ``start`` to ``end`` (timestamps). SQLite keeps timestamps to the
    millisecond in its date arithmetic, so there the value is whole milliseconds."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000 AS BIGINT)"
    return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400000.0) AS INTEGER) * 1000"


# The invoices the invoice-level KPIs count (``metrics.issued_in``: issued, not voided), told by
# the ledger as the posting listener sees them: an invoice counts once for each INVOICE_ISSUED
# entry naming it and minus once for each reversal of one (billing issues an invoice with one
# such entry and voids it by reversing that entry, so an issued invoice counts once and a voided
# one not at all). A source is (FROM, WHERE, how many times a row counts):
# - ``_ALL_INVOICES``: every invoice (``rebuild``, ``verify``);
# - ``_ENTRY_INVOICES``: the invoices named by one entry's postings (``on_postings``), their issue
#   date and time taken from the issue entry while the invoice does not carry them yet (billing
#   posts the issue entry before it stores them, in the same transaction, with the same ``now``).
_ALL_INVOICES = (
    " FROM billing_invoice i JOIN (SELECT x.invoice_id,"
    " SUM(CASE WHEN e.kind = 'INVOICE_ISSUED' THEN 1 ELSE -1 END) AS times"
    " FROM (SELECT DISTINCT p.invoice_id, p.entry_id FROM ledger_posting p"
    " WHERE p.invoice_id IS NOT NULL) x"
    " JOIN ledger_journalentry e ON e.id = x.entry_id"
    " LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id"
    " WHERE e.kind = 'INVOICE_ISSUED' OR (e.kind = 'REVERSAL' AND r.kind = 'INVOICE_ISSUED')"
    " GROUP BY x.invoice_id) t ON t.invoice_id = i.id",
    " WHERE i.issue_date IS NOT NULL",
    "t.times",
)
_ENTRY_INVOICES = (
    " FROM billing_invoice i JOIN ledger_journalentry e ON e.id = %s",
    " WHERE i.id IN (SELECT p.invoice_id FROM ledger_posting p WHERE p.entry_id = e.id)",
)


def _invoice_select(source: tuple[str, ...], issue_date: str, issued_at: str) -> str:
    """The ``KpiInvoiceDay`` rows of the invoices of ``source``: ``ISSUED`` all of them, the
    turnarounds those with a trigger and issue time (``REVIEW`` and ``ISSUE`` those approved
    too), as ``metrics.turnaround`` selects them."""
    from_, where, times = source
    timed = f"i.triggered_at IS NOT NULL AND {issued_at} IS NOT NULL"
    approved = f"{timed} AND i.approved_at IS NOT NULL"
    measures = (
        (TOTAL, _micros(issued_at, "i.triggered_at"), timed),
        (REVIEW, _micros("i.approved_at", "i.triggered_at"), approved),
        (ISSUE, _micros(issued_at, "i.approved_at"), approved),
    )
    parts = [
        f"SELECT {issue_date} AS d, '{ISSUED}' AS m, 0 AS v, SUM({times}) AS n"
        f"{from_}{where} GROUP BY {issue_date}"
    ] + [
        f"SELECT {issue_date} AS d, '{measure}' AS m, {value} AS v, SUM({times}) AS n"
        f"{from_}{where} AND {condition} GROUP BY {issue_date}, {value}"
        for measure, value, condition in measures
    ]
    # (WHERE: SQLite reads an ON after a bare FROM as a join constraint, not the upsert.)
    return "SELECT d, m, v, n FROM (" + " UNION ALL ".join(parts) + ") q WHERE 1 = 1"


def _line_select(source: tuple[str, ...], issue_date: str) -> str:
    """The ``KpiLineDay`` rows of the legal-fee lines of the invoices of ``source``."""
    from_, where, times = source
    kinds = ", ".join(f"'{str(k)}'" for k in LEGAL_FEE_LINES)
    keys = f"{issue_date}, l.kind, COALESCE(l.timekeeper_id, 0), COALESCE(l.service_id, 0)"
    return (
        f"SELECT {keys}, SUM({times} * CAST(ROUND(l.quantity * 100) AS BIGINT)), "
        f"SUM({times} * l.amount_cents), SUM({times})"
        f"{from_} JOIN billing_invoiceline l ON l.invoice_id = i.id{where}"
        f" AND l.kind IN ({kinds}) GROUP BY {keys}"
    )


def _all_invoice_select() -> str:
    return _invoice_select(_ALL_INVOICES, "i.issue_date", "i.issued_at")


def _all_line_select() -> str:
    return _line_select(_ALL_INVOICES, "i.issue_date")


def _entry_invoice_rows(entry: Any) -> None:
    """An INVOICE_ISSUED entry adds the invoices its postings name to ``KpiInvoiceDay`` and
    ``KpiLineDay``; the reversal of one (a void) takes them off again."""
    from caseledger.ledger.choices import EntryKind

    if entry.kind == EntryKind.INVOICE_ISSUED:
        sign = 1
    elif entry.kind == EntryKind.REVERSAL and entry.reverses_id is not None:
        reversed_kind = (
            type(entry).objects.filter(pk=entry.reverses_id).values_list("kind", flat=True)
        )
        if reversed_kind.first() != EntryKind.INVOICE_ISSUED:
            return
        sign = -1
    else:
        return
    source = (*_ENTRY_INVOICES, str(sign))
    issue_date = "COALESCE(i.issue_date, e.entry_date)"
    issued_at = "COALESCE(i.issued_at, e.created_at)"
    with connection.cursor() as cur:
        cur.execute(
            _upsert(
                INVOICE_TABLE,
                INVOICE_KEY,
                INVOICE_COLUMNS,
                _invoice_select(source, issue_date, issued_at),
            ),
            [entry.pk] * 4,
        )
        cur.execute(
            _upsert(LINE_TABLE, LINE_KEY, LINE_COLUMNS, _line_select(source, issue_date)),
            [entry.pk],
        )


def _upsert(table: str, key: tuple[str, ...], columns: tuple[str, ...], select: str) -> str:
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    return (
        f"INSERT INTO {table} ({', '.join(key + columns)}) {select} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {added}"
    )


def _ar_account_id() -> int:
    from caseledger.ledger import accounts
    from caseledger.ledger.services import account_info

    return account_info(accounts.ACCOUNTS_RECEIVABLE).id


def on_postings(*, entry: Any, rows: Any) -> None:
    """Ledger posting listener: add ``entry``'s A/R postings to the summary rows of their day
    (and issue date, and way of payment for collections), and an invoice's issue (or its void's
    reversal) to the invoice-level rows.
    No A/R line and no invoice issue or void: no query. Runs inside the posting transaction; an
    error rolls the entry back."""
    from caseledger.ledger.hooks import POSTED_ACCOUNT

    _entry_invoice_rows(entry)
    ar = _ar_account_id()
    if not any(row[POSTED_ACCOUNT] == ar for row in rows):
        return
    where = " AND p.entry_id = %s"
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(_COHORT_LOCK, [entry.pk, entry.pk])
        cur.execute(_upsert(DAY_TABLE, ("day",), DAY_COLUMNS, _day_select(where)), [ar, entry.pk])
        cur.execute(
            _upsert(ISSUE_TABLE, ("issue_date", "day"), ISSUE_COLUMNS, _issue_select(where)),
            [ar, entry.pk],
        )
        for statement in _cohort_upserts(where):
            cur.execute(statement, [ar, entry.pk])
        if entry.kind in _CASH_KINDS:
            cash = _upsert(CASH_TABLE, CASH_KEY, CASH_COLUMNS, _cash_select(where))
            cur.execute(cash, [ar, entry.pk])


def rebuild() -> int:
    """Recompute the tables from every A/R posting (set-based, two statements each; the cash
    table from the collections joined to their payments); returns
    the number of day rows. For bulk loads that bypass ``entry_post`` (the benches) and repair
    after ``verify`` reports a difference; call it inside a transaction."""
    ar = _ar_account_id()
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {DAY_TABLE}")
        cur.execute(f"DELETE FROM {ISSUE_TABLE}")
        cur.execute(f"DELETE FROM {CASH_TABLE}")
        cur.execute(
            f"INSERT INTO {DAY_TABLE} (day, {', '.join(DAY_COLUMNS)}) {_day_select()}", [ar]
        )
        days = max(int(cur.rowcount), 0)
        cur.execute(
            f"INSERT INTO {ISSUE_TABLE} (issue_date, day, {', '.join(ISSUE_COLUMNS)}) "
            f"{_issue_select()}",
            [ar],
        )
        cur.execute(
            f"INSERT INTO {CASH_TABLE} ({', '.join(CASH_KEY + CASH_COLUMNS)}) {_cash_select()}",
            [ar],
        )
    rebuild_cohorts()
    rebuild_invoices()
    return days


def rebuild_cohorts() -> None:
    """Recompute the cohort tables (``KpiCohortDay``, ``KpiCohortIssueDay``) from every A/R
    posting and the current client and matter; part of ``rebuild``. Call it inside a
    transaction."""
    ar = _ar_account_id()
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {COHORT_DAY_TABLE}")
        cur.execute(f"DELETE FROM {COHORT_ISSUE_TABLE}")
        cur.execute(
            f"INSERT INTO {COHORT_DAY_TABLE} ({', '.join(COHORT_DAY_KEY + COHORT_DAY_COLUMNS)}) "
            f"{_cohort_day_select()}",
            [ar],
        )
        cur.execute(
            f"INSERT INTO {COHORT_ISSUE_TABLE} "
            f"({', '.join(COHORT_ISSUE_KEY + COHORT_ISSUE_COLUMNS)}) {_cohort_issue_select()}",
            [ar],
        )


def rebuild_invoices() -> None:
    """Recompute the invoice-level tables (``KpiInvoiceDay``, ``KpiLineDay``) from every issued
    invoice not voided and its lines; part of ``rebuild``. Call it inside a transaction."""
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {INVOICE_TABLE}")
        cur.execute(f"DELETE FROM {LINE_TABLE}")
        cur.execute(
            f"INSERT INTO {INVOICE_TABLE} ({', '.join(INVOICE_KEY + INVOICE_COLUMNS)}) "
            f"{_all_invoice_select()}"
        )
        cur.execute(
            f"INSERT INTO {LINE_TABLE} ({', '.join(LINE_KEY + LINE_COLUMNS)}) {_all_line_select()}"
        )


SUMMARY_DIFFERS = "KPI summary {table} {key}: {column} is {stored}, the postings give {posted}"


def _differences(
    table: str, key: tuple[str, ...], columns: tuple[str, ...], select: str, params: list[Any]
) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(select, params)
        # Keys as text: SQLite returns a computed date (the issue date's COALESCE) as a string.
        posted = {tuple(str(v) for v in row[: len(key)]): row[len(key) :] for row in cur.fetchall()}
        cur.execute(f"SELECT {', '.join(key + columns)} FROM {table}")
        stored = {tuple(str(v) for v in row[: len(key)]): row[len(key) :] for row in cur.fetchall()}
    zero = (0,) * len(columns)
    lines = []
    for k in sorted(posted.keys() | stored.keys()):
        have = [int(v) for v in stored.get(k, zero)]
        want = [int(v) for v in posted.get(k, zero)]
        label = " ".join(str(v) for v in k)
        if k not in stored:
            lines.append(
                SUMMARY_DIFFERS.format(
                    table=table, key=label, column="row", stored="missing", posted=want
                )
            )
            continue
        for column, a, b in zip(columns, have, want, strict=True):
            if a != b:
                lines.append(
                    SUMMARY_DIFFERS.format(
                        table=table, key=label, column=column, stored=a, posted=b
                    )
                )
    return lines


def verify() -> list[str]:
    """``manage.py verify`` check ``kpi_summary``: recompute the tables from the postings (and
    the invoice-level ones from the issued invoices and their lines) and return one line per
    differing value (or missing row), naming the table, the key and the column; empty when they
    agree."""
    ar = _ar_account_id()
    return (
        _differences(DAY_TABLE, ("day",), DAY_COLUMNS, _day_select(), [ar])
        + _differences(ISSUE_TABLE, ("issue_date", "day"), ISSUE_COLUMNS, _issue_select(), [ar])
        + _differences(CASH_TABLE, CASH_KEY, CASH_COLUMNS, _cash_select(), [ar])
        + _differences(
            COHORT_DAY_TABLE, COHORT_DAY_KEY, COHORT_DAY_COLUMNS, _cohort_day_select(), [ar]
        )
        + _differences(
            COHORT_ISSUE_TABLE,
            COHORT_ISSUE_KEY,
            COHORT_ISSUE_COLUMNS,
            _cohort_issue_select(),
            [ar],
        )
        + _differences(INVOICE_TABLE, INVOICE_KEY, INVOICE_COLUMNS, _all_invoice_select(), [])
        + _differences(LINE_TABLE, LINE_KEY, LINE_COLUMNS, _all_line_select(), [])
    )
