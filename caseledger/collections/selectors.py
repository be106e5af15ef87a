"""Reads of the collections app: aging, the work queue, reminder history, at-risk matters.

Aging design (see docs/architecture.md, "Credits and collections", and ADR 007, 022): the
report is one grouped query over the A/R as of the date per (client, matter), read as what is
open today less what was posted after the date. What is open today is ``ARAgingOpen``: one row
per receivable (invoice, client, matter, due date, reference) with the sum of its aging facts,
kept only while that sum is not zero, upserted in the posting's transaction by the same ledger
listener that writes the facts (``services.aging_facts``); the same listener keeps its sums per
(client, matter) in the buckets of one stored date (``ARAgingBuckets``, moved to the firm's
today by the roll the consumer checks every minute). The aging facts (``ARAgingFact``: one
narrow row per ledger posting to accounts receivable, carrying the posting's date, amount,
client, matter and invoice and the invoice's due date) dated after the as-of date are taken off
(an index on their entry date; none for today's report):

    SELECT a.*, c.name FROM (
        SELECT f.client_id AS k, SUM(f.t) AS t, SUM(f.c0) AS c0, ... (c30, c60, c90)
        FROM (
            SELECT client_id, matter_id, total_cents AS t, due_cents AS c0, ...
            FROM collections_aragingbuckets WHERE <the buckets are of :as_of>
          UNION ALL
            SELECT client_id, matter_id, SUM(open_cents) AS t,
                   SUM(open_cents) FILTER (WHERE due_date < :as_of) AS c0,
                   SUM(open_cents) FILTER (WHERE due_date < :as_of - 30) AS c30, ... (c60, c90)
            FROM collections_aragingopen WHERE <they are not> GROUP BY client_id, matter_id
          UNION ALL
            SELECT client_id, matter_id, <the same sums of -amount_cents>
            FROM collections_aragingfact WHERE entry_date > :as_of GROUP BY client_id, matter_id
        ) f GROUP BY f.client_id
    ) a LEFT JOIN clients_client c ON c.id = a.k

each bucket being the difference of two neighbouring cumulative sums (current = total - due
before the as-of date, so a row without a due date is current; 90+ = due before d90).

Summing the postings of an invoice into the bucket of its due date gives the same totals as
first computing each invoice's balance and bucketing it, without the per-invoice step; sums are
additive and the open rows keep the client, matter and due date apart, so the open rows less
the later facts group exactly as the facts dated up to the date would. The facts are exactly the
postings that make up the A/R balance (one fact per A/R posting, checked by
``aging_facts_verify`` / ``manage.py verify_aging``) and the open rows exactly their non-zero
sums (``aging_open_verify``), so the grand total equals
``ledger.selectors.account_balance(code=ACCOUNTS_RECEIVABLE, as_of=...)`` to the cent, on any
date. A/R postings without an invoice (an opening balance, say) count as current rather than
vanish. The group key is read from the row (client, matter) or its matter (responsible partner,
case type: these may change, so they are not copied); the row labels are joined to the grouped
rows in the same statement. The fact table exists because the same query over
``ledger_posting`` joined to ``billing_invoice`` cost 4.4 s at 1,000,000 invoices; the open table
because a scan of every fact still cost about half a second there, growing with all the history
of paid invoices; the buckets because summing 800,000 open receivables into five sums each
still cost 0.25-0.6 s there (``python -m bench aging --full``). The drill-down and the
matter/client panel still read the facts dated up to the date.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Sum

from caseledger.collections.choices import HoldStatus
from caseledger.collections.models import (
    ARAgingFact,
    ARAgingOpen,
    AtRiskMatter,
    CollectionActivity,
    CollectionHold,
    CollectionPolicy,
    CollectionRun,
    InvoiceDispute,
    PaymentPlan,
    Reminder,
)
from caseledger.core.amounts import firm_decimal
from caseledger.core.paging import SqlRows

BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")
BUCKET_LABELS = {
    "current": "Current",
    "d1_30": "1-30",
    "d31_60": "31-60",
    "d61_90": "61-90",
    "d90_plus": "90+",
}
# Group dimension -> the key on the aging fact (the fact carries client and matter; partner and
# case type come from the fact's matter).
GROUPS: dict[str, str] = {
    "client": "client_id",
    "matter": "matter_id",
    "partner": "matter__responsible_partner_id",
    "case_type": "matter__case_type_id",
}
GROUP_LABELS = {
    "client": "Client",
    "matter": "Matter",
    "partner": "Responsible partner",
    "case_type": "Case type",
}


def bucket_conditions(as_of: date, prefix: str = "") -> dict[str, Q]:
    """Q per bucket on a due date (default: the aging fact's ``due_date``; ``prefix`` for a
    related one): current = not yet due, or no due date (no invoice)."""
    due = f"{prefix}due_date"
    return {
        "current": Q(**{f"{due}__isnull": True}) | Q(**{f"{due}__gte": as_of}),
        "d1_30": Q(**{f"{due}__lt": as_of, f"{due}__gte": as_of - timedelta(days=30)}),
        "d31_60": Q(
            **{f"{due}__lt": as_of - timedelta(days=30), f"{due}__gte": as_of - timedelta(days=60)}
        ),
        "d61_90": Q(
            **{f"{due}__lt": as_of - timedelta(days=60), f"{due}__gte": as_of - timedelta(days=90)}
        ),
        "d90_plus": Q(**{f"{due}__lt": as_of - timedelta(days=90)}),
    }


def bucket_of(due_date: date | None, as_of: date) -> str:
    """The bucket of one due date (the Python twin of ``bucket_conditions``)."""
    if due_date is None or due_date >= as_of:
        return "current"
    days = (as_of - due_date).days
    if days <= 30:
        return "d1_30"
    if days <= 60:
        return "d31_60"
    if days <= 90:
        return "d61_90"
    return "d90_plus"


@dataclass
class AgingRow:
    key: Any
    label: str
    buckets: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.buckets.values())

    @property
    def drill_key(self) -> str:
        """The row's ``key`` as the drill-down link gives it ("none": no partner/matter)."""
        return "none" if self.key is None else str(self.key)


@dataclass
class AgingReport:
    as_of: date
    group: str
    rows: list[AgingRow] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {b: sum(r.buckets[b] for r in self.rows) for b in BUCKETS}

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def aging_facts(as_of: date) -> QuerySet[ARAgingFact]:
    """The aging fact rows (A/R postings) dated on or before ``as_of``."""
    return ARAgingFact.objects.filter(entry_date__lte=as_of)


def _label_join(group: str) -> tuple[str, str]:
    """(table, three label columns of ``l``) of the group's row labels, joined to the aggregate
    ``a`` on its key: fetched with the totals, in the same statement."""
    from caseledger.clients.models import Client
    from caseledger.core.models import User
    from caseledger.matters.models import CaseType, Matter

    return {
        "client": (Client._meta.db_table, "l.name, NULL, NULL"),
        "matter": (Matter._meta.db_table, "l.number, l.title, NULL"),
        "partner": (User._meta.db_table, "l.first_name, l.last_name, l.username"),
        "case_type": (CaseType._meta.db_table, "l.name, NULL, NULL"),
    }[group]


def _label(group: str, a: Any, b: Any, c: Any) -> str:
    """A row's display name from its three label columns (all NULL: no such row)."""
    if group == "matter":
        label = f"{a or ''} {b or ''}".strip()
    elif group == "partner":
        label = f"{a or ''} {b or ''}".strip() or (c or "")
    else:
        label = a or ""
    return label or ("Unassigned" if group in {"client", "matter"} else "(none)")


def _cumulative_sums(amount: str, due: str) -> list[str]:
    """The total of ``amount`` and its four cumulative sums by ``due`` (due before the as-of
    date, and before as-of - 30, - 60 and - 90 days: four parameters, in that order), each one
    comparison per row; a bucket is the difference of two neighbours (current = total - due
    before the as-of date; a NULL due date compares false, so it stays current). Cheaper than
    five range conditions. CAST ... AS BIGINT: PostgreSQL sums bigint as numeric, and the
    driver would build a Decimal per cell."""
    return [
        f"CAST(SUM({amount}) AS BIGINT)",
        *[f"CAST(SUM({amount}) FILTER (WHERE {due} < %s) AS BIGINT)"] * 4,
    ]


def _as_of_sums(as_of: date) -> tuple[str, list[Any]]:
    """(SQL, params) of the A/R as of ``as_of`` per (client, matter): rows ``client_id,
    matter_id, t, c0, c30, c60, c90`` (``_cumulative_sums``) whose sums by client, matter,
    partner or case type give, bucket by bucket, what summing the facts dated on or before the
    date would. Two parts (ADR 022):

    - what is open today per (client, matter), in the buckets of ``as_of``: when the buckets
      (``ARAgingBuckets``, kept by the posting listener) are of that date, their rows, one per
      client and matter; otherwise the open rows (``ARAgingOpen``) summed per client and matter
      (on PostgreSQL one ordered read of the covering index ``collections_open_cm_cover``,
      grouped as it streams). One statement either way: the date test is a one-time condition
      on each branch, so the branch not taken reads nothing;
    - less the facts dated after the date, summed the same way (none for today's report; read
      by their entry-date index).

    Sums are additive and an open row keeps its receivable's client, matter and due date, so
    the open rows less the later facts group exactly as the facts dated up to the date would."""
    from caseledger.collections.models import ARAgingBuckets, ARAgingBucketsDate

    d30, d60, d90 = (as_of - timedelta(days=n) for n in (30, 60, 90))
    columns = ("t", "c0", "c30", "c60", "c90")
    stored = ", ".join(
        f"b.{c} AS {alias}"
        for c, alias in zip(
            ("total_cents", "due_cents", "due30_cents", "due60_cents", "due90_cents"),
            columns,
            strict=True,
        )
    )
    opened = ", ".join(
        f"{sql} AS {c}"
        for sql, c in zip(_cumulative_sums("o.open_cents", "o.due_date"), columns, strict=True)
    )
    later = ", ".join(
        f"{sql} AS {c}"
        for sql, c in zip(_cumulative_sums("-l.amount_cents", "l.due_date"), columns, strict=True)
    )
    dated = (
        f"EXISTS (SELECT 1 FROM {ARAgingBucketsDate._meta.db_table} d "
        "WHERE d.id = 1 AND d.as_of = %s)"
    )
    sql = (
        f"SELECT b.client_id, b.matter_id, {stored} FROM {ARAgingBuckets._meta.db_table} b "
        f"WHERE {dated} UNION ALL "
        f"SELECT o.client_id, o.matter_id, {opened} FROM {ARAgingOpen._meta.db_table} o "
        f"WHERE NOT {dated} GROUP BY o.client_id, o.matter_id UNION ALL "
        f"SELECT l.client_id, l.matter_id, {later} FROM {ARAgingFact._meta.db_table} l "
        "WHERE l.entry_date > %s GROUP BY l.client_id, l.matter_id"
    )
    return sql, [as_of, as_of, d30, d60, d90, as_of, as_of, d30, d60, d90, as_of]


# The cumulative sums of the (client, matter) rows of ``_as_of_sums``, summed again.
_RESUMS = [f"CAST(SUM(f.{c}) AS BIGINT)" for c in ("t", "c0", "c30", "c60", "c90")]


def _aging_sql(*, as_of: date, group: str) -> tuple[str, str, str, list[Any]]:
    """(aggregate subquery ``a`` with HAVING, label table, label columns, params) of the grouped
    aggregate over the A/R as of the date per (client, matter) (``_as_of_sums``), in portable
    SQL (SQLite and PostgreSQL). Rows whose buckets are all zero are left out by the HAVING
    clause: a row is kept when any of its cumulative sums is not zero."""
    from caseledger.matters.models import Matter

    matter = Matter._meta.db_table
    key_sql = {
        "client": "f.client_id",
        "matter": "f.matter_id",
        "partner": "m.responsible_partner_id",
        "case_type": "m.case_type_id",
    }[group]
    matter_join = (
        f" LEFT JOIN {matter} m ON m.id = f.matter_id" if group in {"partner", "case_type"} else ""
    )
    label_table, label_columns = _label_join(group)
    sums_sql, params = _as_of_sums(as_of)
    having = " OR ".join(f"COALESCE({s_}, 0) <> 0" for s_ in _RESUMS)
    aggregate = (
        f"SELECT {key_sql} AS k, {_RESUMS[0]} AS t, {_RESUMS[1]} AS c0, {_RESUMS[2]} AS c30, "
        f"{_RESUMS[3]} AS c60, {_RESUMS[4]} AS c90 "
        f"FROM ({sums_sql}) f{matter_join} "
        f"GROUP BY 1 HAVING {having}"
    )
    return aggregate, label_table, label_columns, params


def _bucket_sums(t: Any, c0: Any, c30: Any, c60: Any, c90: Any) -> dict[str, int]:
    """The five buckets (``BUCKETS``' keys and order) from the total and the four cumulative
    sums (NULL: nothing summed, 0). A dict display: built once per report row."""
    c0, c30, c60, c90 = c0 or 0, c30 or 0, c60 or 0, c90 or 0
    return {
        "current": (t or 0) - c0,
        "d1_30": c0 - c30,
        "d31_60": c30 - c60,
        "d61_90": c60 - c90,
        "d90_plus": c90,
    }


class AgingRows(SqlRows[AgingRow]):
    """The report's rows as a lazy sequence read page by page in SQL: ``len()`` is one
    COUNT over the grouped aggregate, a slice one grouped query with ORDER BY (largest
    total first, then the label) and LIMIT/OFFSET; iterating reads every row (the CSV export).
    Django's ``Paginator`` and ``api.pagination.paginate`` take it as they take a QuerySet."""

    def __init__(self, *, as_of: date, group: str) -> None:
        self.as_of, self.group = as_of, group
        self._count: int | None = None
        self._window: tuple[int, int, list[AgingRow]] | None = None  # (offset, limit, rows)
        self.totals: dict[str, int] | None = None  # the bucket totals, once a window read them

    def __len__(self) -> int:
        from django.db import connection

        if self._count is None:
            aggregate, _, _, params = _aging_sql(as_of=self.as_of, group=self.group)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM ({aggregate}) a", params)
                self._count = int(cursor.fetchone()[0])
        return self._count

    def read_window(self, offset: int, limit: int) -> None:
        """Read the rows ``[offset:offset + limit]`` together with the number of rows and the
        bucket totals over all of them, in ONE grouped query (window functions over the grouped
        aggregate: it is computed once, not three times). ``len()``, that slice and ``totals``
        then read no more. A window past the last row reads nothing it can keep."""
        rows, extra = self._query(limit, max(offset, 0), with_totals=True)
        if not rows:
            return
        count, t, c0, c30, c60, c90 = extra
        self._count = int(count)
        self.totals = _bucket_sums(t, c0, c30, c60, c90)
        self._window = (max(offset, 0), limit, rows)

    def _query(
        self, limit: int | None, offset: int, *, with_totals: bool = False
    ) -> tuple[list[AgingRow], tuple[Any, ...]]:
        from django.db import connection

        aggregate, label_table, label_columns, params = _aging_sql(
            as_of=self.as_of, group=self.group
        )
        columns = f"a.k, a.t, a.c0, a.c30, a.c60, a.c90, {label_columns}"
        order = "ORDER BY a.t DESC, 7, 8, 9, a.k"
        if limit is None:
            sql = f"SELECT {columns} FROM ({aggregate}) a LEFT JOIN {label_table} l ON l.id = a.k"
            sql += f" {order}"
        else:
            # The grouped rows once (a CTE); the page's rows are among those whose total is at
            # least the total of the page's last row in total order (``cut``; all rows when
            # there are fewer): only those are joined to their labels and sorted by label
            # within a total, not every row (33,346 clients: 140 -> 78 ms). Same rows, same
            # order. ``with_totals`` adds every row's count and sums (the report's totals: rows
            # left out by the HAVING clause are all zero) from the same CTE.
            overall, totals_join = "", ""
            if with_totals:
                overall = ", s.n, s.t, s.c0, s.c30, s.c60, s.c90"
                totals_join = (
                    " CROSS JOIN (SELECT COUNT(*) AS n"
                    + "".join(
                        f", CAST(SUM({c}) AS BIGINT) AS {c}"
                        for c in ("t", "c0", "c30", "c60", "c90")
                    )
                    + " FROM a) s"
                )
            sql = (
                f"WITH a AS MATERIALIZED ({aggregate}), "
                "cut AS (SELECT t FROM a ORDER BY t DESC LIMIT 1 OFFSET %s) "
                f"SELECT {columns}{overall} FROM a "
                f"LEFT JOIN {label_table} l ON l.id = a.k{totals_join} "
                "WHERE NOT EXISTS (SELECT 1 FROM cut) OR a.t >= (SELECT t FROM cut) "
                f"{order} LIMIT %s OFFSET %s"
            )
            params = [*params, max(offset + limit - 1, 0), limit, offset]
        out: list[AgingRow] = []
        extra: tuple[Any, ...] = ()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for k, t, c0, c30, c60, c90, l1, l2, l3, *rest in cursor.fetchall():
                out.append(
                    AgingRow(
                        key=k,
                        label=_label(self.group, l1, l2, l3),
                        buckets=_bucket_sums(t, c0, c30, c60, c90),
                    )
                )
                extra = tuple(rest)
        return out, extra

    def _fetch(self, limit: int | None, offset: int) -> list[AgingRow]:
        if self._window is not None and limit is not None:
            start, size, rows = self._window
            if offset == start and limit <= size:
                return rows[:limit]
        return self._query(limit, offset)[0]


def aging_totals(*, as_of: date) -> dict[str, int]:
    """The five bucket totals over every open row as of ``as_of``: one ungrouped aggregate over
    the same rows as the report's (its rows added up; rows left out of the report are all
    zero)."""
    from django.db import connection

    sums_sql, params = _as_of_sums(as_of)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_RESUMS)} FROM ({sums_sql}) f", params)
        return _bucket_sums(*cursor.fetchone())


def _aging_rows(*, as_of: date, group: str) -> list[AgingRow]:
    """Every row of the report (the CSV export and callers wanting them all): one statement."""
    return AgingRows(as_of=as_of, group=group)._fetch(None, 0)  # not list(): len() would COUNT


def _check_group(group: str) -> None:
    from caseledger.collections.exceptions import AGING_GROUP_INVALID, CollectionsError

    if group not in GROUPS:
        raise CollectionsError(
            AGING_GROUP_INVALID.format(choices=", ".join(GROUPS), value=group), field="group"
        )


def aging_rows(*, as_of: date, group: str = "client") -> AgingRows:
    """The report's rows, to be read a page at a time (pages and the API); the totals over all
    of them come from ``aging_totals``."""
    _check_group(group)
    return AgingRows(as_of=as_of, group=group)


def aging_report(*, as_of: date, group: str = "client") -> AgingReport:
    """Open A/R as of ``as_of`` by ``group`` in the five buckets, with the row labels, every row
    (largest total first): ONE grouped SQL query over the aging facts."""
    _check_group(group)
    return AgingReport(as_of=as_of, group=group, rows=_aging_rows(as_of=as_of, group=group))


@dataclass
class AgingInvoice:
    invoice_id: int | None
    number: str
    client: str
    matter: str
    due_date: date | None
    days_past_due: int
    bucket: str
    balance_cents: int


def aging_invoices_query(
    *,
    as_of: date,
    group: str | None = None,
    key: Any = None,
    bucket: str | None = None,
) -> QuerySet[Any]:
    """The drill-down's rows as a values queryset (one per invoice with an open balance, earliest
    due first), to be sliced a page at a time; ``aging_invoice_rows`` turns a page into rows.

    When no aging fact is dated after ``as_of`` (today's drill-down), the open A/R table holds
    exactly these rows (ADR 022: the non-zero sums of the facts per invoice, client, matter,
    due date and reference), so the page and its count read it, one row per receivable, instead
    of grouping every fact; for an earlier date, the facts up to it, grouped.

    Order: oldest due first (the receivables longest unpaid at the top, those without a due
    date last), then invoice. On the open rows a page is the first rows of the index
    ``collections_open_due_cover`` in that order, joined to its labels, not a sort of every
    open receivable (200,165 open rows: 337 -> 1 ms)."""
    fields = ("invoice_id", "invoice__number", "reference", "due_date", "client__name")
    if _open_rows_current(as_of):
        open_rows = _aging_filtered(ARAgingOpen.objects.all(), as_of, group, key, bucket)
        return open_rows.values(*fields, "matter__number", balance=F("open_cents")).order_by(
            "due_date", "invoice_id"
        )
    qs = _aging_invoice_facts(as_of=as_of, group=group, key=key, bucket=bucket)
    return (
        qs.values(*fields, "matter__number")
        .annotate(balance=Sum("amount_cents"))
        .exclude(balance=0)
        .order_by("due_date", "invoice_id")
    )


def _open_rows_current(as_of: date) -> bool:
    """True when the open A/R rows are the balances as of ``as_of``: no fact dated after it
    (one probe of the facts' entry-date index)."""
    return not ARAgingFact.objects.filter(entry_date__gt=as_of).exists()


def _aging_filtered(
    qs: QuerySet[Any], as_of: date, group: str | None, key: Any, bucket: str | None
) -> QuerySet[Any]:
    """``qs`` (facts or open rows: both carry client, matter and due date) within one group
    row and one bucket."""
    if group:
        lookup = GROUPS[group]
        qs = qs.filter(**({f"{lookup}__isnull": True} if key is None else {lookup: key}))
    if bucket:
        qs = qs.filter(bucket_conditions(as_of)[bucket])
    return qs


def _aging_invoice_facts(
    *, as_of: date, group: str | None, key: Any, bucket: str | None
) -> QuerySet[ARAgingFact]:
    return _aging_filtered(aging_facts(as_of), as_of, group, key, bucket)


def aging_invoices_count(
    *, as_of: date, group: str | None = None, key: Any = None, bucket: str | None = None
) -> int:
    """The number of the drill-down's rows (``aging_invoices_query``). Today's: a COUNT of the
    open rows alone, without the joins to their labels (they change no row's presence); for
    an earlier date, the grouped rows counted."""
    if _open_rows_current(as_of):
        return _aging_filtered(ARAgingOpen.objects.all(), as_of, group, key, bucket).count()
    return aging_invoices_query(as_of=as_of, group=group, key=key, bucket=bucket).count()


def aging_invoices_total(
    *, as_of: date, group: str | None = None, key: Any = None, bucket: str | None = None
) -> int:
    """The drill-down's total balance over all its rows, exact: the aging report's figure for
    the same group row and bucket (``_as_of_sums``: the stored buckets when they are of
    ``as_of``, else the open rows summed per client and matter, less the facts dated after
    it), one statement. The drill-down's rows are the per-receivable sums of the same facts
    (zero balances add nothing), so the two agree to the cent; reading the (client, matter)
    sums instead of every open receivable costs 5,000 rows, not 200,165, at 250,000 invoices
    (``test_aging.py`` holds it equal to the rows' sum)."""
    from django.db import connection

    from caseledger.matters.models import Matter

    sums_sql, params = _as_of_sums(as_of)
    where, join = "", ""
    if group:
        _check_group(group)
        column = {
            "client": "f.client_id",
            "matter": "f.matter_id",
            "partner": "m.responsible_partner_id",
            "case_type": "m.case_type_id",
        }[group]
        if group in {"partner", "case_type"}:
            join = f" LEFT JOIN {Matter._meta.db_table} m ON m.id = f.matter_id"
        if key is None:
            where = f" WHERE {column} IS NULL"
        else:
            where, params = f" WHERE {column} = %s", [*params, key]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_RESUMS)} FROM ({sums_sql}) f{join}{where}", params)
        buckets = _bucket_sums(*cursor.fetchone())
    return buckets[bucket] if bucket else sum(buckets.values())


def aging_invoice_rows(rows: Any, *, as_of: date) -> list[AgingInvoice]:
    out = []
    for r in rows:
        due = r["due_date"]
        out.append(
            AgingInvoice(
                invoice_id=r["invoice_id"],
                number=r["invoice__number"] or r["reference"] or "(no invoice)",
                client=r["client__name"] or "Unassigned",
                matter=r["matter__number"] or "",
                due_date=due,
                days_past_due=max((as_of - due).days, 0) if due else 0,
                bucket=bucket_of(due, as_of),
                balance_cents=int(r["balance"]),
            )
        )
    return out


def aging_invoices(
    *,
    as_of: date,
    group: str | None = None,
    key: Any = None,
    bucket: str | None = None,
) -> list[AgingInvoice]:
    """Drill-down: each invoice's A/R balance as of ``as_of`` (the aging facts grouped per
    invoice in the database), optionally within one group row and one bucket. Every row."""
    query = aging_invoices_query(as_of=as_of, group=group, key=key, bucket=bucket)
    return aging_invoice_rows(query, as_of=as_of)


AGING_FACTS_DIFFER = (
    "invoice {invoice}: ledger has {postings} A/R posting(s) totalling {posted} cents, the aging "
    "facts {facts} row(s) totalling {facted} cents"
)
AGING_FACTS_MISMATCH = (
    "invoice {invoice}: {count} aging fact(s) differ from their posting (amount, date, client, "
    "matter, invoice or due date) or name no A/R posting"
)


def aging_facts_verify() -> list[str]:
    """Check the aging facts against the ledger: per invoice (and for A/R postings without
    one), the count and sum of A/R postings equal those of the facts, and every fact carries its
    A/R posting's values and its invoice's due date. Returns one line per invoice that differs,
    naming it (empty: they agree). Three grouped queries, plus one for the invoice numbers."""
    from django.db import connection

    from caseledger.billing.models import Invoice
    from caseledger.ledger import accounts
    from caseledger.ledger.services import account_info

    ar = account_info(accounts.ACCOUNTS_RECEIVABLE).id
    facts = ARAgingFact._meta.db_table

    def same(a: str, b: str) -> str:
        return f"({a} = {b} OR ({a} IS NULL AND {b} IS NULL))"

    with connection.cursor() as cur:
        cur.execute(
            "SELECT invoice_id, COUNT(*), SUM(amount_cents) FROM ledger_posting "
            "WHERE account_id = %s GROUP BY invoice_id",
            [ar],
        )
        posted = {inv: (int(n), int(t)) for inv, n, t in cur.fetchall()}
        cur.execute(f"SELECT invoice_id, COUNT(*), SUM(amount_cents) FROM {facts} GROUP BY 1")
        facted = {inv: (int(n), int(t)) for inv, n, t in cur.fetchall()}
        cur.execute(
            f"SELECT f.invoice_id, COUNT(*) FROM {facts} f "
            "LEFT JOIN ledger_posting p ON p.id = f.posting_id "
            "LEFT JOIN billing_invoice i ON i.id = p.invoice_id "
            "WHERE p.id IS NULL OR p.account_id <> %s OR p.amount_cents <> f.amount_cents "
            "OR p.entry_date <> f.entry_date "
            f"OR NOT {same('p.client_id', 'f.client_id')} "
            f"OR NOT {same('p.matter_id', 'f.matter_id')} "
            f"OR NOT {same('p.invoice_id', 'f.invoice_id')} "
            # A receivable without an invoice carries the due date its app gave it
            # (aging_facts.receivables); an invoice's facts carry the invoice's.
            f"OR (p.invoice_id IS NOT NULL AND NOT {same('i.due_date', 'f.due_date')}) "
            "GROUP BY f.invoice_id",
            [ar],
        )
        mismatched = {inv: int(n) for inv, n in cur.fetchall()}
    differ = sorted(
        (inv for inv in posted.keys() | facted.keys() if posted.get(inv) != facted.get(inv)),
        key=lambda inv: (inv is not None, inv or 0),
    )
    wrong = sorted(mismatched, key=lambda inv: (inv is not None, inv or 0))
    ids = [inv for inv in {*differ, *wrong} if inv is not None]
    numbers = dict(Invoice.objects.filter(pk__in=ids).values_list("pk", "number")) if ids else {}

    def label(inv: int | None) -> str:
        if inv is None:
            return "(none)"
        return f"{numbers.get(inv) or '(no number)'} (id {inv})"

    lines = [
        AGING_FACTS_DIFFER.format(
            invoice=label(inv),
            postings=posted.get(inv, (0, 0))[0],
            posted=posted.get(inv, (0, 0))[1],
            facts=facted.get(inv, (0, 0))[0],
            facted=facted.get(inv, (0, 0))[1],
        )
        for inv in differ
    ]
    lines += [
        AGING_FACTS_MISMATCH.format(invoice=label(inv), count=mismatched[inv]) for inv in wrong
    ]
    return lines


AGING_OPEN_DIFFERS = "open A/R {key}: the table has {stored}, the aging facts give {posted}"


def aging_open_verify() -> list[str]:
    """``manage.py verify`` check ``aging_open``: recompute the open rows (``ARAgingOpen``) from
    the aging facts (their sums per receivable, the zero ones left out) and return one line per
    receivable whose stored row differs, is missing or should not be there (a zero row included);
    empty when they agree. Two statements. The facts themselves are checked against the ledger's
    postings by ``aging_facts_verify`` (check ``aging``)."""
    from django.db import connection

    from caseledger.collections.services.aging_facts import OPEN_COLUMNS, OPEN_TABLE, open_select

    def text(row: Sequence[Any]) -> tuple[str, ...]:
        # Values as text: SQLite returns the key's dates as strings.
        return tuple("-" if v is None else str(v) for v in row)

    with connection.cursor() as cur:
        cur.execute(open_select(having="HAVING SUM(f.amount_cents) <> 0"))
        want = {row[0]: text(row[1:]) for row in cur.fetchall()}
        cur.execute(f"SELECT {OPEN_COLUMNS} FROM {OPEN_TABLE} ORDER BY key")
        have = {row[0]: text(row[1:]) for row in cur.fetchall()}

    def show(values: tuple[str, ...] | None) -> str:
        if values is None:
            return "no row"
        invoice, client, matter, due, reference, cents = values
        return (
            f"{cents} cents open (invoice {invoice}, client {client}, matter {matter}, "
            f"due {due}, reference {reference})"
        )

    return [
        AGING_OPEN_DIFFERS.format(key=key, stored=show(have.get(key)), posted=show(want.get(key)))
        for key in sorted(want.keys() | have.keys())
        if have.get(key) != want.get(key)
    ]


AGING_BUCKETS_DIFFER = (
    "A/R buckets {key} as of {as_of}: the table has {stored}, the open A/R gives {posted}"
)


def aging_buckets_verify() -> list[str]:
    """``manage.py verify`` check ``aging_buckets``: recompute the buckets (``ARAgingBuckets``)
    from the open rows as of their stored date (per client and matter, the rows with any sum
    not zero) and return one line per (client, matter) whose stored row differs, is missing or
    should not be there (rows whose sums are all zero are not compared: the listener leaves
    them until the next rebuild); empty when they agree. Without a stored date every non-zero
    row is one too many. The open rows themselves are checked against the facts by
    ``aging_open_verify`` (check ``aging_open``)."""
    from django.db import connection

    from caseledger.collections.services.aging_facts import (
        BUCKETS_COLUMNS,
        BUCKETS_SUMS,
        BUCKETS_TABLE,
        OPEN_TABLE,
        buckets_date,
        buckets_nonzero,
        buckets_select,
    )

    as_of = buckets_date()
    nonzero = " OR ".join(f"{c} <> 0" for c in BUCKETS_SUMS)
    with connection.cursor() as cur:
        cur.execute(buckets_select(OPEN_TABLE, "open_cents", having=buckets_nonzero("open_cents")))
        want = {row[0]: tuple(row[3:]) for row in cur.fetchall()}
        cur.execute(f"SELECT {BUCKETS_COLUMNS} FROM {BUCKETS_TABLE} WHERE {nonzero} ORDER BY key")
        have = {row[0]: tuple(row[3:]) for row in cur.fetchall()}

    def show(sums: tuple[Any, ...] | None) -> str:
        if sums is None:
            return "no row"
        total, due, due30, due60, due90 = sums
        return (
            f"{total} cents open ({due} due before the date, {due30}, {due60} and {due90} "
            "before 30, 60 and 90 days earlier)"
        )

    return [
        AGING_BUCKETS_DIFFER.format(
            key=key,
            as_of=as_of or "(no date)",
            stored=show(have.get(key)),
            posted=show(want.get(key)),
        )
        for key in sorted(want.keys() | have.keys())
        if have.get(key) != want.get(key)
    ]


def aging_csv(report: AgingReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([GROUP_LABELS[report.group], *(BUCKET_LABELS[b] for b in BUCKETS), "Total"])
    for row in report.rows:
        writer.writerow(
            [row.label, *(firm_decimal(row.buckets[b]) for b in BUCKETS), firm_decimal(row.total)]
        )
    totals = report.totals
    writer.writerow(
        ["Total", *(firm_decimal(totals[b]) for b in BUCKETS), firm_decimal(report.total)]
    )
    return buffer.getvalue()


def aging_invoices_csv(rows: list[AgingInvoice]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["Invoice", "Client", "Matter", "Due date", "Days past due", "Bucket", "Balance"]
    )
    for r in rows:
        writer.writerow(
            [
                r.number,
                r.client,
                r.matter,
                r.due_date.isoformat() if r.due_date else "",
                r.days_past_due,
                BUCKET_LABELS[r.bucket],
                firm_decimal(r.balance_cents),
            ]
        )
    return buffer.getvalue()


# --- work queue, history, at risk ----------------------------------------------------------------


def run_latest() -> CollectionRun | None:
    return CollectionRun.objects.order_by("-started_at", "-id").first()


def run_list(limit: int = 20) -> list[CollectionRun]:
    return list(CollectionRun.objects.order_by("-started_at", "-id")[:limit])


def reminders_for_run(run: CollectionRun) -> QuerySet[Reminder]:
    return (
        Reminder.objects.filter(run=run)
        .select_related("invoice", "invoice__client", "invoice__matter", "stage")
        .order_by("invoice_id", "stage__days_from", "channel", "id")
    )


def reminders_letters_ready() -> QuerySet[Reminder]:
    from caseledger.collections.choices import Channel, ReminderStatus

    return (
        Reminder.objects.filter(channel=Channel.LETTER, status=ReminderStatus.LETTER_READY)
        .select_related("invoice", "invoice__client", "stage")
        .order_by("run_date", "id")
    )


def reminders_failed() -> QuerySet[Reminder]:
    from caseledger.collections.choices import ReminderStatus

    return (
        Reminder.objects.filter(status=ReminderStatus.FAILED)
        .select_related("invoice", "invoice__client", "stage")
        .order_by("id")
    )


def reminder_emails_failed(limit: int = 200) -> list[tuple[Reminder, Any]]:
    """Failed reminder emails (the outbox gave up) with their outbox message, for its error."""
    from caseledger.collections.choices import Channel, ReminderStatus
    from caseledger.collections.services.delivery import reminder_key
    from caseledger.core.models import OutboxMessage

    rows = list(
        Reminder.objects.filter(channel=Channel.EMAIL, status=ReminderStatus.FAILED)
        .select_related("invoice", "stage")
        .order_by("id")[:limit]
    )
    messages = {
        m.related_id: m
        for m in OutboxMessage.objects.filter(key__in=[reminder_key(r.pk) for r in rows]).defer(
            "body", "html", "attachments"
        )
    }
    return [(r, messages.get(r.pk)) for r in rows]


def invoice_collection_history(invoice: Any) -> list[dict[str, Any]]:
    """Reminders, activities, disputes and plans on one invoice, newest first."""
    items: list[dict[str, Any]] = []
    for r in Reminder.objects.filter(invoice=invoice).select_related("stage"):
        items.append(
            {
                "at": r.sent_at or r.created_at,
                "kind": "reminder",
                "title": f"{r.stage.name}: {r.get_channel_display()}",
                "status": r.get_status_display(),
                "detail": r.note or r.subject,
                "reminder": r,
            }
        )
    for a in CollectionActivity.objects.filter(invoice=invoice).select_related("actor"):
        detail = a.note
        if a.promised_date:
            detail = f"promised by {a.promised_date.isoformat()} {detail}".strip()
        items.append(
            {
                "at": a.at,
                "kind": "activity",
                "title": a.get_kind_display(),
                "status": str(a.actor),
                "detail": detail,
            }
        )
    for d in InvoiceDispute.objects.filter(invoice=invoice):
        items.append(
            {
                "at": d.opened_at,
                "kind": "dispute",
                "title": "Dispute opened" if d.resolved_at is None else "Dispute (resolved)",
                "status": "open" if d.resolved_at is None else "resolved",
                "detail": d.reason if d.resolved_at is None else f"{d.reason} — {d.resolution}",
                "dispute": d,
            }
        )
    for p in PaymentPlan.objects.filter(invoice=invoice):
        items.append(
            {
                "at": p.agreed_at,
                "kind": "plan",
                "title": "Payment plan" + (" (cancelled)" if p.cancelled_at else ""),
                "status": "",
                "detail": (
                    f"{firm_decimal(p.installment_cents)} every {p.interval_days} days from "
                    f"{p.first_due_date.isoformat()}"
                ),
                "plan": p,
            }
        )
    items.sort(key=lambda i: i["at"], reverse=True)
    return items


def at_risk_list(*, matters: QuerySet[Any] | None = None) -> QuerySet[AtRiskMatter]:
    qs = AtRiskMatter.objects.select_related(
        "matter", "matter__client", "matter__responsible_partner"
    )
    if matters is not None:
        qs = qs.filter(matter__in=matters)
    return qs.order_by("deadline_date", "-overdue_cents", "id")


def holds_active() -> QuerySet[CollectionHold]:
    return (
        CollectionHold.objects.filter(status=HoldStatus.ACTIVE)
        .select_related("matter", "matter__client", "invoice")
        .order_by("set_at", "id")
    )


def policy_list() -> list[CollectionPolicy]:
    return list(CollectionPolicy.objects.prefetch_related("stages").order_by("client_type", "id"))
