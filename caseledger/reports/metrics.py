"""Every KPI, defined once, with its formula beside it.

Pages, exports, the API and scheduled reports all read these functions; none computes a KPI
of its own. Money figures come from the ledger's accounts-receivable postings, so a KPI's
billed, collected, credited and written-off totals tie to the books by construction: each A/R
posting is classified by its journal entry's kind (a reversal takes the kind of the entry it
reverses, and its opposite sign undoes it). Every aggregate runs in the database; Python only
walks the handful of monthly totals the count-back needs.

The firm-wide figures (no filter) read the KPI summary instead (``KpiDay``, ``KpiIssueDay``:
the same A/R postings summed per day and per issue date by the same categories, kept in the
posting's transaction; ADR 020), a few thousand rows whatever the number of postings. Filtered
figures read the postings joined to the matter and client, whose partner, type, case type and
office are current attributes the summary does not copy.

Filters narrow by the matter's responsible partner, the client's type (private or corporate),
the matter's case type and office (and, on the attorney dashboard, the matter's attorney).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth

from caseledger.billing.choices import InvoiceStatus, LineKind
from caseledger.billing.models import HourlyRate, Invoice, InvoiceLine, Service
from caseledger.clients.choices import ClientType, IntakeSource
from caseledger.core.context import memoized
from caseledger.core.models import User
from caseledger.ledger.accounts import ACCOUNTS_RECEIVABLE
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import Account, Posting
from caseledger.matters.models import CaseType
from caseledger.reports.models import (
    KpiCashDay,
    KpiCohortDay,
    KpiCohortIssueDay,
    KpiDay,
    KpiInvoiceDay,
    KpiIssueDay,
    KpiLineDay,
)

BILLED = "billed"
COLLECTED = "collected"
CREDITED = "credited"
WRITTEN_OFF = "written_off"
OTHER = "other"

# The entry kinds behind each A/R movement. A void takes an issued invoice back off billing;
# a refund that reopens what a payment paid (kind REFUND) is a negative collection.
KINDS: dict[str, frozenset[str]] = {
    BILLED: frozenset({EntryKind.INVOICE_ISSUED, EntryKind.INVOICE_VOID}),
    COLLECTED: frozenset(
        {
            EntryKind.PAYMENT_RECEIVED,
            EntryKind.PAYMENT_APPLIED,
            EntryKind.TRUST_TRANSFER_EARNED,
            EntryKind.PROCESSOR_SETTLEMENT,
            EntryKind.REFUND,
        }
    ),
    CREDITED: frozenset({EntryKind.CREDIT_NOTE}),
    WRITTEN_OFF: frozenset({EntryKind.WRITE_OFF, EntryKind.WRITE_OFF_REVERSAL}),
}


@dataclass(frozen=True)
class Filters:
    partner_id: int | None = None
    client_type: str = ""
    case_type_id: int | None = None
    attorney_id: int | None = None  # the matter's attorney (the attorney dashboard)
    office: str = ""  # the matter's office

    def q(self) -> Q:
        """The filter on any row with ``matter`` and ``client`` (A/R postings, invoices)."""
        return self.on(
            "matter__responsible_partner_id",
            "client__client_type",
            "matter__case_type_id",
            "matter__attorney_id",
            "matter__office",
        )

    def matter_q(self, path: str = "matter") -> Q:
        """The same filter on rows that reach the client through their matter (time entries,
        collection activities: ``path`` is the way to the matter)."""
        return self.on(
            f"{path}__responsible_partner_id",
            f"{path}__client__client_type",
            f"{path}__case_type_id",
            f"{path}__attorney_id",
            f"{path}__office",
        )

    def on(
        self, partner: str, client_type: str, case_type: str, attorney: str | None, office: str
    ) -> Q:
        """The filter with each field that is set on its lookup (``attorney`` None: rows that
        hold no attorney, read only when the filter has none)."""
        q = Q()
        for lookup, value in (
            (partner, self.partner_id),
            (client_type, self.client_type),
            (case_type, self.case_type_id),
            (attorney, self.attorney_id),
            (office, self.office),
        ):
            if lookup is not None and value:
                q &= Q(**{lookup: value})
        return q


# No filter: the whole firm.
ALL = Filters()


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def kpi_display(value: float | None, unit: str) -> str:
    """A KPI as pages, PDFs and the narrative write it: shares as percentages, days and hours
    with one decimal and their unit, a dash when there is no figure."""
    if value is None:
        return "—"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "tasks":
        return f"{value:,.0f} {'task' if round(value) == 1 else unit}"
    return f"{value:,.1f} {unit}"


# -- database expressions ------------------------------------------------------------------


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (dates), on both databases: ``DaysBetween(end,
    start)``."""

    output_field = IntegerField()
    template = "(%(expressions)s)"  # PostgreSQL: date - date is a number of days
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


class HoursBetween(Func):
    """Hours (fractional) from ``start`` to ``end`` (timestamps), on both databases:
    ``HoursBetween(end, start)``."""

    output_field = FloatField()
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 24.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _category() -> Case:
    whens = []
    for name, kinds in KINDS.items():
        whens.append(When(entry__kind__in=kinds, then=Value(name)))
        whens.append(
            When(entry__kind=EntryKind.REVERSAL, entry__reverses__kind__in=kinds, then=Value(name))
        )
    return Case(*whens, default=Value(OTHER), output_field=CharField())


def _ar_account_id() -> int:
    # By id, not a join on the code: the (account, entry_date) index then serves every range.
    # Once per request: the home panel and the dashboards read A/R for more than one period.
    return memoized(
        "reports.ar_account_id",
        lambda: int(Account.objects.values_list("id", flat=True).get(code=ACCOUNTS_RECEIVABLE)),
    )


def ar_postings(filters: Filters = ALL) -> QuerySet[Any]:
    """The ledger's A/R postings, each with its ``category`` (billed, collected, ...)."""
    return (
        Posting.objects.filter(account_id=_ar_account_id())
        .filter(filters.q())
        .annotate(category=_category())
    )


def in_category(name: str) -> Q:
    """The A/R postings of one category, as a WHERE on the entry kinds (no CASE to evaluate
    per row): the entry's own kind, or for a reversal the kind of the entry it reverses."""
    kinds = KINDS[name]
    return Q(entry__kind__in=kinds) | Q(
        entry__kind=EntryKind.REVERSAL, entry__reverses__kind__in=kinds
    )


def ar_of(filters: Filters = ALL) -> QuerySet[Posting]:
    """The ledger's A/R postings, filtered, without the category annotation."""
    return Posting.objects.filter(account_id=_ar_account_id()).filter(filters.q())


def _signed(category: str) -> int:
    """Billed is a debit of A/R; the others are credits, reported as positive amounts."""
    return 1 if category == BILLED else -1


# -- money moved in a period ---------------------------------------------------------------


@dataclass(frozen=True)
class Movements:
    billed_cents: int = 0
    collected_cents: int = 0
    credited_cents: int = 0
    written_off_cents: int = 0


def ar_balance(as_of: dt.date, filters: Filters = ALL) -> int:
    """A/R at the end of ``as_of``, in cents (the ledger's balance, filtered): unfiltered, the
    summary's daily A/R changes up to ``as_of``; filtered, the matching postings."""
    if filters == ALL:
        total = KpiDay.objects.filter(day__lte=as_of).aggregate(t=Sum("net_cents"))
    else:
        total = ar_of(filters).filter(entry_date__lte=as_of).aggregate(t=Sum("amount_cents"))
    return int(total["t"] or 0)


class MonthKey(Func):
    """ "YYYY-MM" of a date, with each database's own native function (no per-row Python
    function, which is what TruncMonth costs on SQLite)."""

    output_field = CharField()
    template = "to_char(%(expressions)s, 'YYYY-MM')"

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="strftime('%%%%Y-%%%%m', %(expressions)s)",
            **extra_context,
        )


def billed_by_month(
    until: dt.date, months: int, filters: Filters = ALL, *, skip: int = 0
) -> list[int]:
    """Billed cents for each calendar month, newest first: the month of ``until`` (up to that
    day) and the ``months - 1`` before it, less the ``skip`` newest; one grouped query."""
    first = month_start(until, back=months - 1)
    last = until if skip == 0 else month_start(until, back=skip - 1) - dt.timedelta(days=1)
    rows: QuerySet[Any]
    if filters == ALL:
        rows = (
            KpiDay.objects.filter(day__gte=first, day__lte=last)
            .annotate(month=MonthKey("day"))
            .values("month")
            .annotate(total=Sum("billed_cents"))
            .order_by()
        )
    else:
        rows = (
            ar_of(filters)
            .filter(in_category(BILLED), entry_date__gte=first, entry_date__lte=last)
            .annotate(month=MonthKey("entry_date"))
            .values("month")
            .annotate(total=Sum("amount_cents"))
            .order_by()
        )
    by_month = {r["month"]: int(r["total"] or 0) for r in rows}
    return [
        by_month.get(month_start(until, back=k).strftime("%Y-%m"), 0) for k in range(skip, months)
    ]


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def month_start(day: dt.date, *, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


# -- the KPIs ------------------------------------------------------------------------------

# The time entries that count as staff time on billing (DOMAIN.md "Time spent on billing"):
# non-billable time with the firm's billing activity code (report settings). UTBMS has no
# billing-administration activity, so by default the firm records it as A111 "Other",
# non-billable (billing's own work on the matter).
BILLING_ACTIVITY_CODE = "A111"


def billing_activity_code() -> str:
    """The firm's activity code of staff time on billing (report settings; the default until
    they are saved), from the settings row read once per request (a dashboard's trend reads it
    for every month)."""
    from caseledger.reports.selectors import settings_get

    return settings_get().billing_activity_code or BILLING_ACTIVITY_CODE


# Formulas as shown on the pages (DOMAIN.md "Collections and reporting").
FORMULAS = {
    "dso_countback_days": (
        "Count-back DSO: start from A/R at period end and subtract each month's billing, newest "
        "first; the days of every month fully used, plus the used share of the last one."
    ),
    "dso_simple_days": "A/R at period end / amount billed in the period x days in the period.",
    "dso_paid_days": (
        "Average days to pay: the amount-weighted mean of (date collected - invoice issue "
        "date) over collections dated in the period."
    ),
    "turnaround_median_hours": (
        "Invoice turnaround: hours from the billing trigger (stage completed, period end) to "
        "issue, median over invoices issued in the period."
    ),
    "turnaround_p90_hours": "The 90th percentile of the same turnaround.",
    "review_wait_median_hours": "Median hours from trigger to partner approval.",
    "issue_wait_median_hours": "Median hours from approval to issue.",
    "collection_rate_30d": (
        "Of the amount billed in the period, the share collected within 30 days of each "
        "invoice's issue date. On the trend, a month whose last invoices are not yet 30 days "
        "old is left blank."
    ),
    "collection_rate_target": (
        "The same within the firm's target days (report settings); on the trend, a month "
        "still inside its target days is left blank."
    ),
    "write_off_rate": "Amount written off in the period / amount billed in the period.",
    "credit_rate": "Amount credited (credit notes) in the period / amount billed in the period.",
    "realization": (
        "Legal fees billed on invoices issued in the period / their standard value (time at "
        "each timekeeper's standard rate, fees at the catalogue price); government fees and "
        "expenses are left out."
    ),
    "billing_hours": (
        "Staff time on billing: hours of the time entries coded as billing administration "
        "(non-billable, with the activity code set in the report settings: "
        f"{BILLING_ACTIVITY_CODE} unless the firm chose another) with a work date in the period."
    ),
    "billing_minutes_per_invoice": (
        "Staff time on billing per invoice: the minutes of staff time on billing in the period "
        "/ invoices issued in the period."
    ),
    "reconciliation_median_hours": (
        "Reconciliation, prepare to sign: median hours from a bank reconciliation's "
        "preparation to its signature, over those signed in the period (every bank account)."
    ),
    "collection_tasks": (
        "Collections tasks: manual reminders, promises to pay and notes staff recorded in the "
        "period (automatic reminders are not counted)."
    ),
}


def dso_countback_days(
    period: Period, filters: Filters = ALL, *, history: int = 24, ar_cents: int | None = None
) -> float | None:
    """See FORMULAS (``ar_cents``: A/R at the period's end, when the caller has it)."""
    remaining = ar_balance(period.end, filters) if ar_cents is None else ar_cents
    if remaining <= 0:
        return 0.0
    days = 0.0
    for k, billed in enumerate(_billed_newest_first(period.end, history, filters)):
        start = month_start(period.end, back=k)
        end = period.end if k == 0 else month_start(period.end, back=k - 1) - dt.timedelta(1)
        window = (end - start).days + 1
        if billed >= remaining:
            return round(days + window * remaining / billed, 1)
        remaining -= max(billed, 0)
        days += window
    return round(days, 1)  # A/R older than the history counted: at least this many days


# The count-back reads the monthly billing in chunks of this many months, newest first, and
# stops at the chunk that uses up the A/R: the months it never reaches are never scanned.
COUNTBACK_CHUNK = 6


def _billed_newest_first(until: dt.date, history: int, filters: Filters) -> Iterator[int]:
    """``billed_by_month(until, history, filters)``, read a chunk at a time; months before the
    first A/R posting are known to be 0 without a query."""
    # Once per request: a dashboard's trend counts back from every month's end.
    earliest = memoized(
        "reports.first_kpi_day", lambda: KpiDay.objects.aggregate(first=Min("day"))["first"]
    )
    for skip in range(0, history, COUNTBACK_CHUNK):
        newest = month_start(until, back=skip)
        if earliest is None or newest < month_start(earliest):
            yield from [0] * (history - skip)
            return
        yield from billed_by_month(until, min(skip + COUNTBACK_CHUNK, history), filters, skip=skip)


def issued_in(period: Period, filters: Filters = ALL) -> QuerySet[Invoice]:
    """Invoices issued in ``period`` and not voided (the population of turnaround,
    collection rate and realization)."""
    return Invoice.objects.filter(
        filters.q(), issue_date__gte=period.start, issue_date__lte=period.end
    ).exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])


def _percentiles(
    values_qs: QuerySet[Any], column: str, fractions: Iterable[float]
) -> list[float | None]:
    fractions = list(fractions)
    if connection.vendor == "postgresql":
        sql, params = values_qs.values(column).query.sql_with_params()
        cols = ", ".join(
            f"percentile_cont({f}) WITHIN GROUP (ORDER BY q.{column})" for f in fractions
        )
        with connection.cursor() as cur:
            cur.execute(f"SELECT {cols} FROM ({sql}) q", params)
            row = cur.fetchone()
        return [None if v is None else round(float(v), 1) for v in row]
    # SQLite has no percentile aggregate: sorted in the database, the rank read here.
    ordered = list(values_qs.order_by(column).values_list(column, flat=True))
    out: list[float | None] = []
    for f in fractions:
        if not ordered:
            out.append(None)
            continue
        pos = f * (len(ordered) - 1)
        low = int(pos)
        high = min(low + 1, len(ordered) - 1)
        out.append(round(ordered[low] + (ordered[high] - ordered[low]) * (pos - low), 1))
    return out


@dataclass(frozen=True)
class Turnaround:
    median_hours: float | None
    p90_hours: float | None
    review_median_hours: float | None
    issue_median_hours: float | None
    invoices: int


def turnaround(period: Period, filters: Filters = ALL) -> Turnaround:
    """See FORMULAS. The whole firm: from the invoice summary's histogram (``KpiInvoiceDay``,
    ADR 021), the same percentiles. Filtered, on PostgreSQL one scan of the period's invoices
    computes every percentile and the count (ordered-set aggregates with FILTER)."""
    if filters == ALL:
        return _turnaround_summary(period)
    base = issued_in(period, filters).filter(triggered_at__isnull=False, issued_at__isnull=False)
    if connection.vendor == "postgresql":
        return _turnaround_pg(base)
    total = base.annotate(h=HoursBetween(F("issued_at"), F("triggered_at")))
    median, p90 = _percentiles(total, "h", [0.5, 0.9])
    approved = base.filter(approved_at__isnull=False)
    (review,) = _percentiles(
        approved.annotate(h=HoursBetween(F("approved_at"), F("triggered_at"))), "h", [0.5]
    )
    (issue,) = _percentiles(
        approved.annotate(h=HoursBetween(F("issued_at"), F("approved_at"))), "h", [0.5]
    )
    return Turnaround(median, p90, review, issue, base.count())


def _turnaround_pg(base: QuerySet[Invoice]) -> Turnaround:
    sql, params = (
        base.annotate(
            total_h=HoursBetween(F("issued_at"), F("triggered_at")),
            review_h=HoursBetween(F("approved_at"), F("triggered_at")),
            issue_h=HoursBetween(F("issued_at"), F("approved_at")),
        )
        .values("total_h", "review_h", "issue_h", "approved_at")
        .query.sql_with_params()
    )
    approved = "FILTER (WHERE q.approved_at IS NOT NULL)"
    with connection.cursor() as cur:
        cur.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY q.total_h), "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY q.total_h), "
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY q.review_h) {approved}, "
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY q.issue_h) {approved}, "
            f"count(*) FROM ({sql}) q",
            params,
        )
        *hours, count = cur.fetchone()
    median, p90, review, issue = (None if v is None else round(float(v), 1) for v in hours)
    return Turnaround(median, p90, review, issue, int(count))


# The measures of the invoice summary (``summary``'s ISSUED, TOTAL, REVIEW, ISSUE).
_MICROS_PER_HOUR = 3_600_000_000


def _invoice_counts(period: Period) -> dict[str, list[tuple[int, int]]]:
    """The invoice summary of the period's issue dates: per measure, (value, invoices) in
    ascending value order, values counted at least once."""
    rows = (
        KpiInvoiceDay.objects.filter(issue_date__gte=period.start, issue_date__lte=period.end)
        .values("measure", "micros")
        .annotate(n=Sum("invoices"))
        .filter(n__gt=0)
        .order_by("measure", "micros")
        .values_list("measure", "micros", "n")
    )
    out: dict[str, list[tuple[int, int]]] = {}
    for measure, micros, n in rows:
        out.setdefault(measure, []).append((int(micros), int(n)))
    return out


def percentiles_of_counts(
    counts: list[tuple[int, int]], fractions: Iterable[float]
) -> list[float | None]:
    """``percentile_cont`` of each fraction over the values ``counts`` lists (value in
    microseconds, how many times, ascending), in hours rounded to 0.1: the value at rank
    ``f x (n - 1)`` (0-based), interpolated between its two neighbours as PostgreSQL does."""
    total = sum(n for _, n in counts)

    def at(rank: int) -> float:
        seen = 0
        for value, n in counts:
            seen += n
            if rank < seen:
                return value / _MICROS_PER_HOUR
        raise IndexError(rank)

    out: list[float | None] = []
    for f in fractions:
        if total == 0:
            out.append(None)
            continue
        pos = f * (total - 1)
        low = math.floor(pos)
        high = math.ceil(pos)
        lo = at(low)
        value = lo if high == low else lo + (at(high) - lo) * (pos - low)
        out.append(round(value, 1))
    return out


def _turnaround_summary(period: Period) -> Turnaround:
    from caseledger.reports import summary

    counts = _invoice_counts(period)
    total = counts.get(summary.TOTAL, [])
    median, p90 = percentiles_of_counts(total, [0.5, 0.9])
    (review,) = percentiles_of_counts(counts.get(summary.REVIEW, []), [0.5])
    (issue,) = percentiles_of_counts(counts.get(summary.ISSUE, []), [0.5])
    return Turnaround(median, p90, review, issue, sum(n for _, n in total))


def invoices_issued(period: Period, filters: Filters = ALL) -> int:
    """How many invoices were issued in ``period`` and not voided: the whole firm from the
    invoice summary, filtered by counting them."""
    if filters == ALL:
        from caseledger.reports import summary

        got = KpiInvoiceDay.objects.filter(
            issue_date__gte=period.start, issue_date__lte=period.end, measure=summary.ISSUED
        ).aggregate(n=Sum("invoices"))
        return int(got["n"] or 0)
    return issued_in(period, filters).count()


def _rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


# The lines realization counts: legal fees (government fees and expenses are left out).
LEGAL_FEE_LINES = (LineKind.FEE, LineKind.TIME, LineKind.INSTALLMENT)


def realization(period: Period, filters: Filters = ALL) -> float | None:
    """See FORMULAS. The period's legal-fee lines are summed in the database per (kind,
    timekeeper, catalogue item), one grouped query over the lines, and each group is valued
    here at today's standard rate or catalogue price (a few dozen groups, whatever the number
    of lines): the same sum as valuing line by line, since rate x hours and price x units are
    linear in the quantity. The whole firm reads the same groups per issue date from the line
    summary (``KpiLineDay``, ADR 021) instead of the lines."""
    groups: list[dict[str, Any]]
    if filters == ALL:
        groups = [
            {
                "kind": g["kind"],
                "timekeeper_id": g["timekeeper_id"] or None,
                "service_id": g["service_id"] or None,
                "quantity": Decimal(int(g["hundredths"] or 0)) / 100,
                "billed": g["billed"],
            }
            for g in KpiLineDay.objects.filter(
                issue_date__gte=period.start, issue_date__lte=period.end
            )
            .values("kind", "timekeeper_id", "service_id")
            .annotate(hundredths=Sum("quantity_hundredths"), billed=Sum("amount_cents"))
            .order_by()
        ]
    else:
        groups = [
            dict(g)
            for g in InvoiceLine.objects.filter(
                invoice__in=issued_in(period, filters), kind__in=LEGAL_FEE_LINES
            )
            .values("kind", "timekeeper_id", "service_id")
            .annotate(quantity=Sum("quantity"), billed=Sum("amount_cents"))
            .order_by()
        ]
    timekeepers = {g["timekeeper_id"] for g in groups if g["kind"] == LineKind.TIME}
    services = {g["service_id"] for g in groups if g["kind"] == LineKind.FEE}
    rates = dict(
        HourlyRate.objects.filter(
            timekeeper_id__in=timekeepers - {None}, client__isnull=True, matter__isnull=True
        ).values_list("timekeeper_id", "rate_cents")
    )
    prices = dict(
        Service.objects.filter(id__in=services - {None}).values_list("id", "default_price_cents")
    )
    billed = 0
    standard = Decimal(0)
    for g in groups:
        cents = int(g["billed"] or 0)
        quantity = Decimal(str(g["quantity"] or 0))
        billed += cents
        rate = rates.get(g["timekeeper_id"]) if g["kind"] == LineKind.TIME else None
        price = prices.get(g["service_id"], 0) if g["kind"] == LineKind.FEE else 0
        if rate is not None:  # time at the timekeeper's standard rate (none: as billed)
            standard += rate * quantity
        elif price > 0:  # a fee at its catalogue price (none, or free: as billed)
            standard += price * quantity
        else:
            standard += cents
    if standard <= 0:
        return None
    return round(float(Decimal(billed) / standard), 4)


# -- time spent on billing and reconciliation ----------------------------------------------


def billing_minutes(period: Period, filters: Filters = ALL) -> int:
    """See FORMULAS ``billing_hours``: the minutes of staff time on billing in ``period``."""
    from caseledger.billing.models import TimeEntry

    minutes = TimeEntry.objects.filter(
        filters.matter_q(),
        activity_code=billing_activity_code(),
        billable=False,
        work_date__gte=period.start,
        work_date__lte=period.end,
    ).aggregate(m=Sum("minutes"))["m"]
    return int(minutes or 0)


def reconciliation_median_hours(period: Period) -> float | None:
    """See FORMULAS: over the reconciliations signed in ``period`` (every bank account)."""
    from caseledger.banking.choices import ReconciliationStatus
    from caseledger.banking.models import Reconciliation

    start, end = _day_bounds(period)
    signed = Reconciliation.objects.filter(
        status__in=[ReconciliationStatus.SIGNED, ReconciliationStatus.REOPENED],
        signed_at__gte=start,
        signed_at__lt=end,
    ).annotate(h=HoursBetween(F("signed_at"), F("prepared_at")))
    (median,) = _percentiles(signed, "h", [0.5])
    return median


def collection_tasks(period: Period, filters: Filters = ALL) -> int:
    """See FORMULAS: the collections activities staff recorded in ``period``."""
    from caseledger.collections.models import CollectionActivity

    return CollectionActivity.objects.filter(
        filters.matter_q("invoice__matter"),
        activity_date__gte=period.start,
        activity_date__lte=period.end,
    ).count()


def _day_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period as instants: from the firm's midnight of its first day to the midnight after
    its last."""
    from caseledger.core import clock

    zone = clock.firm_zone()
    first = dt.datetime.combine(period.start, dt.time(0), tzinfo=zone)
    after = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return first, after


# -- the dashboard's figures ---------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    period: Period
    dso_countback_days: float | None
    dso_simple_days: float | None
    dso_paid_days: float | None
    turnaround_median_hours: float | None
    turnaround_p90_hours: float | None
    review_wait_median_hours: float | None
    issue_wait_median_hours: float | None
    collection_rate_30d: float | None
    collection_rate_target: float | None
    write_off_rate: float | None
    credit_rate: float | None
    realization: float | None
    billing_hours: float
    billing_minutes_per_invoice: float | None
    reconciliation_median_hours: float | None
    collection_tasks: int
    billed_cents: int
    collected_cents: int
    credited_cents: int
    written_off_cents: int
    ar_cents: int
    invoices_issued: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in KPI_KEYS + MONEY_KEYS}


KPI_KEYS = [
    "dso_countback_days",
    "dso_simple_days",
    "dso_paid_days",
    "turnaround_median_hours",
    "turnaround_p90_hours",
    "review_wait_median_hours",
    "issue_wait_median_hours",
    "collection_rate_30d",
    "collection_rate_target",
    "write_off_rate",
    "credit_rate",
    "realization",
    "billing_hours",
    "billing_minutes_per_invoice",
    "reconciliation_median_hours",
    "collection_tasks",
]
MONEY_KEYS = [
    "billed_cents",
    "collected_cents",
    "credited_cents",
    "written_off_cents",
    "ar_cents",
    "invoices_issued",
]


@dataclass(frozen=True)
class PeriodFigures:
    moved: Movements
    dso_paid_days: float | None
    collection_rates: dict[int, float | None]


def _figure_aggregates(period: Period, windows: tuple[int, ...]) -> dict[str, Any]:
    """The aggregates behind every money figure of a period, over the A/R postings that
    ``_figure_rows`` selects: each category's movement dated in the period, the weight and
    weighted days of the collections dated in it (average days to pay), and what was billed in
    the period and collected within each window of its issue (collection rates)."""
    in_period = Q(entry_date__lte=period.end)
    issued = Q(invoice__issue_date__gte=period.start, invoice__issue_date__lte=period.end)
    collected = in_category(COLLECTED)
    paid = in_period & collected & Q(invoice__issue_date__isnull=False)
    aggregates: dict[str, Any] = {
        name: Sum("amount_cents", filter=in_period & in_category(name)) for name in KINDS
    }
    aggregates["paid_weight"] = Sum("amount_cents", filter=paid)
    aggregates["paid_weighted"] = Sum(
        F("amount_cents") * F("days"), filter=paid, output_field=IntegerField()
    )
    aggregates["issued_billed"] = Sum(
        "amount_cents", filter=issued & Q(entry__kind=EntryKind.INVOICE_ISSUED)
    )
    for w in windows:
        aggregates[f"w{w}"] = Sum("amount_cents", filter=issued & collected & Q(days__lte=w))
    return aggregates


def _figure_rows(period: Period, filters: Filters, windows: tuple[int, ...]) -> QuerySet[Any]:
    """The A/R postings dated from the period's start to its end plus the longest window (a
    collection within the window of an invoice issued on the period's last day is dated no
    later), each with its days since the invoice's issue. The same range on their entries
    (a posting's date is its entry's, copied) lets the database read only the range's entries
    by their date index instead of hashing every entry; the invoices are then looked up by id."""
    reach = period.end + dt.timedelta(days=max(windows))
    return (
        ar_of(filters)
        .filter(
            entry_date__gte=period.start,
            entry_date__lte=reach,
            entry__entry_date__gte=period.start,
            entry__entry_date__lte=reach,
        )
        .annotate(days=DaysBetween(F("entry_date"), F("invoice__issue_date")))
    )


def _figures_of(sums: dict[str, Any], windows: tuple[int, ...]) -> PeriodFigures:
    got = {name: _signed(name) * int(sums[name] or 0) for name in KINDS}
    weight = -int(sums["paid_weight"] or 0)
    billed_issued = int(sums["issued_billed"] or 0)
    return PeriodFigures(
        moved=Movements(
            billed_cents=got[BILLED],
            collected_cents=got[COLLECTED],
            credited_cents=got[CREDITED],
            written_off_cents=got[WRITTEN_OFF],
        ),
        dso_paid_days=(round(-int(sums["paid_weighted"] or 0) / weight, 1) if weight > 0 else None),
        collection_rates={
            w: (round(-int(sums[f"w{w}"] or 0) / billed_issued, 4) if billed_issued > 0 else None)
            for w in windows
        },
    )


def period_figures(
    period: Period, filters: Filters = ALL, *, windows: tuple[int, ...] = (30,)
) -> PeriodFigures:
    """The period's money movements (billed, collected, credited, written off), average days to
    pay and collection rates: ONE aggregate, the only place these figures are computed (the
    KPIs, the cohorts, the pages, the PDF, the narrative and the API all read it)."""
    if filters == ALL:
        return _figures_of(_summary_sums(period, windows), windows)
    sums = _figure_rows(period, filters, windows).aggregate(**_figure_aggregates(period, windows))
    return _figures_of(sums, windows)


def _summary_sums(period: Period, windows: tuple[int, ...]) -> dict[str, Any]:
    """``_figure_aggregates`` over the whole firm, read from the KPI summary: the same sums of
    the same postings (``summary.verify`` checks the rows against them), in two aggregates over
    the period's days and issue dates."""
    sums: dict[str, Any] = KpiDay.objects.filter(
        day__gte=period.start, day__lte=period.end
    ).aggregate(
        **{name: Sum(f"{name}_cents") for name in KINDS},
        paid_weight=Sum("paid_cents"),
        paid_weighted=Sum("paid_day_cents"),
    )
    reach = period.end + dt.timedelta(days=max(windows))
    sums |= (
        KpiIssueDay.objects.filter(
            issue_date__gte=period.start,
            issue_date__lte=period.end,
            day__gte=period.start,
            day__lte=reach,
        )
        .annotate(days=DaysBetween(F("day"), F("issue_date")))
        .aggregate(
            issued_billed=Sum("issued_cents"),
            **{f"w{w}": Sum("collected_cents", filter=Q(days__lte=w)) for w in windows},
        )
    )
    return sums


class PeriodKpis:
    """Every KPI of ``period`` (the fields of ``Kpis``), each computed when first read from the
    parts it needs (the period's figures, the turnaround, A/R at its end, the billing minutes,
    the reconciliation median, the collections tasks, invoices issued), each part read once: a
    page that shows a few KPIs (the home page's panel, a trend line per month) reads only their
    parts (staff time on billing reads the time entries alone); ``kpis`` reads them all. The
    same functions either way, so the same values."""

    def __init__(self, period: Period, filters: Filters = ALL, *, target_days: int = 45) -> None:
        self.period = period
        self.filters = filters
        self.target_days = target_days

    # The parts.
    @cached_property
    def _figures(self) -> PeriodFigures:
        return period_figures(self.period, self.filters, windows=(30, self.target_days))

    @cached_property
    def _speed(self) -> Turnaround:
        return turnaround(self.period, self.filters)

    @cached_property
    def _billing_minutes(self) -> int:
        return billing_minutes(self.period, self.filters)

    # The KPIs and money figures.
    @cached_property
    def ar_cents(self) -> int:
        return ar_balance(self.period.end, self.filters)

    @cached_property
    def invoices_issued(self) -> int:
        return invoices_issued(self.period, self.filters)

    @cached_property
    def billed_cents(self) -> int:
        return self._figures.moved.billed_cents

    @cached_property
    def collected_cents(self) -> int:
        return self._figures.moved.collected_cents

    @cached_property
    def credited_cents(self) -> int:
        return self._figures.moved.credited_cents

    @cached_property
    def written_off_cents(self) -> int:
        return self._figures.moved.written_off_cents

    @cached_property
    def dso_countback_days(self) -> float | None:
        return dso_countback_days(self.period, self.filters, ar_cents=self.ar_cents)

    @cached_property
    def dso_simple_days(self) -> float | None:
        billed = self.billed_cents
        return round(self.ar_cents / billed * self.period.days, 1) if billed > 0 else None

    @cached_property
    def dso_paid_days(self) -> float | None:
        return self._figures.dso_paid_days

    @cached_property
    def turnaround_median_hours(self) -> float | None:
        return self._speed.median_hours

    @cached_property
    def turnaround_p90_hours(self) -> float | None:
        return self._speed.p90_hours

    @cached_property
    def review_wait_median_hours(self) -> float | None:
        return self._speed.review_median_hours

    @cached_property
    def issue_wait_median_hours(self) -> float | None:
        return self._speed.issue_median_hours

    @cached_property
    def collection_rate_30d(self) -> float | None:
        return self._figures.collection_rates[30]

    @cached_property
    def collection_rate_target(self) -> float | None:
        return self._figures.collection_rates[self.target_days]

    @cached_property
    def write_off_rate(self) -> float | None:
        return _rate(self.written_off_cents, self.billed_cents)

    @cached_property
    def credit_rate(self) -> float | None:
        return _rate(self.credited_cents, self.billed_cents)

    @cached_property
    def realization(self) -> float | None:
        return realization(self.period, self.filters)

    @cached_property
    def billing_hours(self) -> float:
        return round(self._billing_minutes / 60, 1)

    @cached_property
    def billing_minutes_per_invoice(self) -> float | None:
        issued = self.invoices_issued
        return round(self._billing_minutes / issued, 1) if issued else None

    @cached_property
    def reconciliation_median_hours(self) -> float | None:
        return reconciliation_median_hours(self.period)

    @cached_property
    def collection_tasks(self) -> int:
        return collection_tasks(self.period, self.filters)


def kpis(period: Period, filters: Filters = ALL, *, target_days: int = 45) -> Kpis:
    """Every KPI for ``period``."""
    lazy = PeriodKpis(period, filters, target_days=target_days)
    return Kpis(period=period, **{key: getattr(lazy, key) for key in KPI_KEYS + MONEY_KEYS})


# -- cohorts -------------------------------------------------------------------------------

# Cohort dimensions: (label, the posting's path to the group key, the path to its label).
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "client_type": ("Client type", "client__client_type", "client__client_type"),
    "case_type": ("Case type", "matter__case_type_id", "matter__case_type__name"),
    "partner": (
        "Responsible partner",
        "matter__responsible_partner_id",
        "matter__responsible_partner__last_name",
    ),
    "intake_source": ("Intake source", "client__intake_source", "client__intake_source"),
    "office": ("Office", "matter__office", "matter__office"),
}
# Stored values shown by their label.
CHOICES: dict[str, dict[Any, str]] = {
    "client_type": dict(ClientType.choices),
    "intake_source": {"": "(not known)", **dict(IntakeSource.choices)},
    "office": {"": "(main office)"},
}
# The cohorts' collection rate: collected within this many days of the invoice's issue (the
# cohort summary keeps the collections of this window only).
COHORT_WINDOW = 30
# Each dimension in the cohort summary (``KpiCohortDay``): the column of its key, and the column
# that is "" or 0 where the postings have no client or matter (the group the postings path keys
# None), and the model and field of the label where the key is an id.
_COHORT_COLUMNS: dict[str, tuple[str, str]] = {
    "client_type": ("client_type", "client_type"),
    "case_type": ("case_type_id", "case_type_id"),
    "partner": ("partner_id", "partner_id"),
    "intake_source": ("intake_source", "client_type"),
    "office": ("office", "case_type_id"),
}
_COHORT_LABELS: dict[str, tuple[Any, str]] = {
    "case_type": (CaseType, "name"),
    "partner": (User, "last_name"),
}


@dataclass(frozen=True)
class CohortRow:
    key: Any
    label: str
    billed_cents: int
    collected_cents: int
    written_off_cents: int
    credited_cents: int
    dso_paid_days: float | None
    collection_rate_30d: float | None

    @property
    def write_off_rate(self) -> float | None:
        return _rate(self.written_off_cents, self.billed_cents)


def cohorts(dimension: str, period: Period, filters: Filters = ALL) -> list[CohortRow]:
    """``period_figures`` per group of ``dimension``: the same aggregate, grouped, so the groups
    add up to the firm's figures. Read from the cohort summary (ADR 024: a few rows per day and
    group, whatever the number of postings), filtered by partner, client type, case type and
    office there too; the attorney's filter, which the summary does not key, reads the
    postings (one grouped query)."""
    windows = (COHORT_WINDOW,)
    if filters.attorney_id is None:
        groups = _summary_cohorts(dimension, period, filters)
    else:
        groups = _posted_cohorts(dimension, period, filters)
    choices = CHOICES.get(dimension, {})
    rows = []
    for key, label, sums in groups:
        figures = _figures_of(sums, windows)
        moved = figures.moved
        amounts = (moved.billed_cents, moved.collected_cents, moved.credited_cents)
        if not any(amounts) and not moved.written_off_cents:
            continue  # only collections of later months' postings reached: nothing in the period
        rows.append(
            CohortRow(
                key=key,
                label=str(choices.get(label, label) or "(none)"),
                billed_cents=moved.billed_cents,
                collected_cents=moved.collected_cents,
                written_off_cents=moved.written_off_cents,
                credited_cents=moved.credited_cents,
                dso_paid_days=figures.dso_paid_days,
                collection_rate_30d=figures.collection_rates[COHORT_WINDOW],
            )
        )
    # Ties (the same billing and label, e.g. two partners without a last name) by their key.
    return sorted(rows, key=lambda row: (-row.billed_cents, row.label, str(row.key)))


Cohort = tuple[Any, Any, dict[str, Any]]  # the group's key, its label, its ``_figure_aggregates``


def _posted_cohorts(dimension: str, period: Period, filters: Filters) -> list[Cohort]:
    """``_figure_aggregates`` per group over the A/R postings joined to client and matter."""
    _, key_path, label_path = DIMENSIONS[dimension]
    windows = (COHORT_WINDOW,)
    grouped = (
        _figure_rows(period, filters, windows)
        .values(key_path, label_path)
        .annotate(**_figure_aggregates(period, windows))
        .order_by()
    )
    return [(r[key_path], r[label_path], r) for r in grouped]


def _summary_cohorts(dimension: str, period: Period, filters: Filters) -> list[Cohort]:
    """``_figure_aggregates`` per group read from the cohort summary: the period's days of
    ``KpiCohortDay`` and its issue dates of ``KpiCohortIssueDay`` (``_summary_sums``, grouped),
    the two merged per group in Python (sums add) and each id's label read once."""
    column, present = _COHORT_COLUMNS[dimension]
    # Filters.q on the cohort summary's key columns (no attorney: the summary has none).
    q = filters.on("partner_id", "client_type", "case_type_id", None, "office")
    moved = (
        KpiCohortDay.objects.filter(q, day__gte=period.start, day__lte=period.end)
        .values(column, present)
        .annotate(
            **{name: Sum(f"{name}_cents") for name in KINDS},
            paid_weight=Sum("paid_cents"),
            paid_weighted=Sum("paid_day_cents"),
        )
        .order_by()
    )
    reach = period.end + dt.timedelta(days=COHORT_WINDOW)
    issued = (
        KpiCohortIssueDay.objects.filter(
            q,
            issue_date__gte=period.start,
            issue_date__lte=period.end,
            day__gte=period.start,
            day__lte=reach,
        )
        .annotate(days=DaysBetween(F("day"), F("issue_date")))
        .values(column, present)
        .annotate(
            issued_billed=Sum("issued_cents"),
            **{f"w{COHORT_WINDOW}": Sum("collected_cents", filter=Q(days__lte=COHORT_WINDOW))},
        )
        .order_by()
    )
    names = [*KINDS, "paid_weight", "paid_weighted", "issued_billed", f"w{COHORT_WINDOW}"]
    sums: dict[Any, dict[str, int]] = {}
    for row in [*moved, *issued]:
        key = row[column] if row[present] else None
        group = sums.setdefault(key, dict.fromkeys(names, 0))
        for name in names:
            group[name] += int(row.get(name) or 0)
    if dimension in _COHORT_LABELS:
        model, field_name = _COHORT_LABELS[dimension]
        names = model.objects.filter(pk__in=[k for k in sums if k is not None])
        labels = dict(names.values_list("pk", field_name))
    else:
        labels = {key: key for key in sums}
    return [(key, labels.get(key), group) for key, group in sums.items()]


@dataclass(frozen=True)
class CollectionCohort:
    month: dt.date
    billed_cents: int
    # Cumulative share collected by the end of month 0, 1, 2 ... after the issue month
    # (None for months that have not ended yet).
    collected: list[float | None]
    # Later months not reached yet (blank cells of the triangle).
    pending: int = 0

    @property
    def blanks(self) -> range:
        return range(self.pending)


def collection_cohorts(
    until: dt.date, months: int = 12, filters: Filters = ALL
) -> list[CollectionCohort]:
    """How each month's billing was collected over the months after it: one row per issue
    month (oldest first), the cumulative share collected by each later month's end."""
    first = month_start(until, back=months - 1)
    billed_rows: QuerySet[Any]
    paid_rows: QuerySet[Any]
    if filters == ALL:  # the KPI summary's rows per (issue date, day)
        base = KpiIssueDay.objects.filter(issue_date__gte=first, issue_date__lte=until)
        billed_rows = base.annotate(month=TruncMonth("issue_date")).values("month")
        billed_rows = billed_rows.annotate(total=Sum("billed_cents"))
        paid_rows = (
            base.filter(day__lte=until)
            .annotate(month=TruncMonth("issue_date"), paid_month=TruncMonth("day"))
            .values("month", "paid_month")
            .annotate(total=Sum("collected_cents"))
        )
    else:
        postings = ar_postings(filters).filter(
            invoice__issue_date__gte=first, invoice__issue_date__lte=until
        )
        billed_rows = (
            postings.filter(in_category(BILLED))
            .annotate(month=TruncMonth("invoice__issue_date"))
            .values("month")
            .annotate(total=Sum("amount_cents"))
        )
        paid_rows = (
            postings.filter(in_category(COLLECTED), entry_date__lte=until)
            .annotate(month=TruncMonth("invoice__issue_date"), paid_month=TruncMonth("entry_date"))
            .values("month", "paid_month")
            .annotate(total=Sum("amount_cents"))
        )
    billed = {_as_date(r["month"]): int(r["total"] or 0) for r in billed_rows}
    paid: dict[tuple[dt.date, dt.date], int] = {}
    for r in paid_rows:
        paid[(_as_date(r["month"]), _as_date(r["paid_month"]))] = -int(r["total"] or 0)
    rows = []
    for back in range(months - 1, -1, -1):
        month = month_start(until, back=back)
        total = billed.get(month, 0)
        shares: list[float | None] = []
        running = 0
        for offset in range(back + 1):
            paid_month = month_start(until, back=back - offset)
            running += paid.get((month, paid_month), 0)
            shares.append(round(running / total, 4) if total > 0 else None)
        rows.append(
            CollectionCohort(
                month=month, billed_cents=total, collected=shares, pending=months - 1 - back
            )
        )
    return rows


# -- cash --------------------------------------------------------------------------------------

# How money came off A/R, by the entry that took it (a payment by its own method).
TRUST = "TRUST"
CREDIT_APPLIED = "CREDIT"
SETTLEMENT = "SETTLED"
REFUNDED = "REFUND"
REVERSED = "REVERSED"
CASH_METHOD_LABELS = {
    "CARD": "Card",
    "ACH": "ACH",
    "CHECK": "Check",
    "WIRE": "Wire",
    "CASH": "Cash",
    TRUST: "From trust",
    CREDIT_APPLIED: "Credit applied",
    SETTLEMENT: "Card settlement",
    REFUNDED: "Refunds",
    REVERSED: "Reversed",
}
FORMULAS["collections_by_method"] = (
    "Collected (the A/R postings of collections) by month of the collection and by how it was "
    "paid: a payment by its method, a transfer of earned funds from trust, unapplied credit "
    "applied, a card processor's settlement; refunds that reopen invoices count negative."
)
FORMULAS["cash_position"] = (
    "Trust held for clients (the client trust liability), unapplied client credit (the "
    "unapplied-credits liability), both from the ledger at period end; unbilled WIP (billable "
    "time and expenses not yet on an invoice, as recorded today) by the age of the work at "
    "period end."
)
WIP_BUCKETS = ((0, 30, "0-30 days"), (31, 60, "31-60 days"), (61, 90, "61-90 days"))
WIP_OLDEST = "over 90 days"


def _collection_method() -> Case:
    """How an A/R posting of a collection was paid. A receipt's method is its payment's, joined
    by the entry (one payment per receipt entry, ``Payment.entry`` is one-to-one): a hash join
    with the range's postings, not a lookup per posting. ``summary._CASH_METHOD`` is the same
    CASE for the cash summary (the firm-wide panel)."""
    return Case(
        When(entry__kind=EntryKind.PAYMENT_RECEIVED, then=F("entry__payment__method")),
        When(entry__kind=EntryKind.TRUST_TRANSFER_EARNED, then=Value(TRUST)),
        When(entry__kind=EntryKind.PAYMENT_APPLIED, then=Value(CREDIT_APPLIED)),
        When(entry__kind=EntryKind.PROCESSOR_SETTLEMENT, then=Value(SETTLEMENT)),
        When(entry__kind=EntryKind.REFUND, then=Value(REFUNDED)),
        default=Value(REVERSED),
        output_field=CharField(),
    )


@dataclass(frozen=True)
class MonthCollections:
    month: dt.date
    by_method: dict[str, int]  # cents collected, by CASH_METHOD_LABELS key

    @property
    def total_cents(self) -> int:
        return sum(self.by_method.values())


def collections_by_month(
    until: dt.date, months: int = 12, filters: Filters = ALL
) -> list[MonthCollections]:
    """See FORMULAS: one grouped query; each month's total is that month's collected figure.
    Unfiltered it reads the cash summary (``KpiCashDay``: the same postings summed per day and
    method, ADR 020); a row left with no posting is no method of the month."""
    first = month_start(until, back=months - 1)
    rows: QuerySet[Any]
    if filters == ALL:
        rows = (
            KpiCashDay.objects.filter(day__gte=first, day__lte=until, postings__gt=0)
            .annotate(month=MonthKey("day"))
            .values("month", "method")
            .annotate(total=Sum("cents"))
            .order_by()
        )
    else:
        rows = (
            ar_of(filters)
            .filter(in_category(COLLECTED), entry_date__gte=first, entry_date__lte=until)
            .filter(entry__entry_date__gte=first, entry__entry_date__lte=until)
            .annotate(month=MonthKey("entry_date"), method=_collection_method())
            .values("month", "method")
            .annotate(total=Sum("amount_cents"))
            .order_by()
        )
    got: dict[str, dict[str, int]] = {}
    for r in rows:
        by = got.setdefault(r["month"], {})
        method = r["method"] or REVERSED
        by[method] = by.get(method, 0) - int(r["total"] or 0)
    out = []
    for back in range(months - 1, -1, -1):
        month = month_start(until, back=back)
        out.append(MonthCollections(month, got.get(month.strftime("%Y-%m"), {})))
    return out


@dataclass(frozen=True)
class CashPosition:
    as_of: dt.date
    trust_cents: int
    unapplied_cents: int
    wip: list[tuple[str, int]]  # (age bucket, cents), youngest first

    @property
    def wip_cents(self) -> int:
        return sum(cents for _, cents in self.wip)


def cash_position(as_of: dt.date, filters: Filters = ALL) -> CashPosition:
    """See FORMULAS: two ledger balances and two grouped sums of unbilled work."""
    from caseledger.billing.models import Expense, TimeEntry
    from caseledger.ledger.accounts import CLIENT_TRUST_LIABILITY, UNAPPLIED_CLIENT_CREDITS
    from caseledger.ledger.selectors import account_balances_as_of

    codes = [CLIENT_TRUST_LIABILITY, UNAPPLIED_CLIENT_CREDITS]
    if filters == ALL:  # the kept account balances when nothing is dated after the day
        balances = account_balances_as_of(account_codes=codes, as_of=as_of)
    else:
        held = (
            Posting.objects.filter(filters.q(), entry_date__lte=as_of, account__code__in=codes)
            .values("account__code")
            .annotate(total=Sum("amount_cents"))
            .order_by()
        )
        balances = {r["account__code"]: -int(r["total"] or 0) for r in held}  # credit-normal

    def bucket(date_field: str) -> Case:
        whens = [
            When(
                **{
                    f"{date_field}__gte": as_of - dt.timedelta(days=high),
                    f"{date_field}__lte": as_of - dt.timedelta(days=low),
                },
                then=Value(label),
            )
            for low, high, label in WIP_BUCKETS
        ]
        return Case(*whens, default=Value(WIP_OLDEST), output_field=CharField())

    wip: dict[str, int] = {}
    for model, date_field in ((TimeEntry, "work_date"), (Expense, "expense_date")):
        rows = (
            model.objects.filter(  # type: ignore[attr-defined]
                filters.matter_q(),
                billable=True,
                invoice_line__isnull=True,
                **{f"{date_field}__lte": as_of},
            )
            .annotate(age=bucket(date_field))
            .values("age")
            .annotate(total=Sum("amount_cents"))
            .order_by()
        )
        for r in rows:
            wip[r["age"]] = wip.get(r["age"], 0) + int(r["total"] or 0)
    labels = [label for _, _, label in WIP_BUCKETS] + [WIP_OLDEST]
    return CashPosition(
        as_of=as_of,
        trust_cents=balances.get(CLIENT_TRUST_LIABILITY, 0),
        unapplied_cents=balances.get(UNAPPLIED_CLIENT_CREDITS, 0),
        wip=[(label, wip.get(label, 0)) for label in labels],
    )
