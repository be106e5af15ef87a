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
right. What is NOT summarised: the matter's partner, case type, office and attorney and the
client's type are current attributes that change (a matter is reassigned), so filtered KPIs and
cohorts keep reading the postings joined to the matter and client.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from caseledger.reports.metrics import BILLED, COLLECTED, CREDITED, KINDS, WRITTEN_OFF

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
    (and issue date). No A/R line: no query. Runs inside the posting transaction; an error
    rolls the entry back."""
    from caseledger.ledger.hooks import POSTED_ACCOUNT

    ar = _ar_account_id()
    if not any(row[POSTED_ACCOUNT] == ar for row in rows):
        return
    where = " AND p.entry_id = %s"
    with connection.cursor() as cur:
        cur.execute(_upsert(DAY_TABLE, ("day",), DAY_COLUMNS, _day_select(where)), [ar, entry.pk])
        cur.execute(
            _upsert(ISSUE_TABLE, ("issue_date", "day"), ISSUE_COLUMNS, _issue_select(where)),
            [ar, entry.pk],
        )


def rebuild() -> int:
    """Recompute both tables from every A/R posting (set-based, two statements each); returns
    the number of day rows. For bulk loads that bypass ``entry_post`` (the benches) and repair
    after ``verify`` reports a difference; call it inside a transaction."""
    ar = _ar_account_id()
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {DAY_TABLE}")
        cur.execute(f"DELETE FROM {ISSUE_TABLE}")
        cur.execute(
            f"INSERT INTO {DAY_TABLE} (day, {', '.join(DAY_COLUMNS)}) {_day_select()}", [ar]
        )
        days = max(int(cur.rowcount), 0)
        cur.execute(
            f"INSERT INTO {ISSUE_TABLE} (issue_date, day, {', '.join(ISSUE_COLUMNS)}) "
            f"{_issue_select()}",
            [ar],
        )
    return days


SUMMARY_DIFFERS = "KPI summary {table} {key}: {column} is {stored}, the postings give {posted}"


def _differences(
    table: str, key: tuple[str, ...], columns: tuple[str, ...], select: str, ar: int
) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(select, [ar])
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
    """``manage.py verify`` check ``kpi_summary``: recompute both tables from the postings and
    return one line per differing value (or missing row), naming the table, the day (and issue
    date) and the column; empty when they agree."""
    ar = _ar_account_id()
    return _differences(DAY_TABLE, ("day",), DAY_COLUMNS, _day_select(), ar) + _differences(
        ISSUE_TABLE, ("issue_date", "day"), ISSUE_COLUMNS, _issue_select(), ar
    )
