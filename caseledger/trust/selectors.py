"""Reads for trust: settings, clearing dates, balances (ledger), cleared/available funds,
dashboards, statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Sum

from caseledger.billing.hooks import InvoiceActivity
from caseledger.clients.models import Client
from caseledger.core.changes import Watched, cached_read
from caseledger.core.context import memoized
from caseledger.core.ids import only_ids
from caseledger.core.paging import SqlRows
from caseledger.ledger.selectors import client_trust_balance
from caseledger.matters.choices import MatterStatus
from caseledger.matters.models import Matter
from caseledger.payments.choices import ReversalStatus
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementStatus,
    DisputeStatus,
    TrustRequestStatus,
)
from caseledger.trust.models import (
    DepositReversal,
    Disbursement,
    DisputeHold,
    MatterTrust,
    TrustDeposit,
    TrustRequest,
    TrustSettings,
    TrustTransfer,
)


def trust_settings_get() -> TrustSettings:
    """The firm's trust settings; the defaults (unsaved) until someone saves the settings page.
    A read never writes."""
    return TrustSettings.objects.filter(id=1).first() or TrustSettings(id=1)


def business_days_after(start: date, days: int) -> date:
    """``start`` plus ``days`` business days (Monday-Friday). 0 days: ``start`` itself."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def clearing_date(
    *, method: str, received_date: date, settings_row: TrustSettings, card_settled: bool
) -> date | None:
    """When a deposit's funds clear: the firm's business days per method; card on settlement
    (None until the processor has settled it)."""
    if method == DepositMethod.CARD:
        return received_date if card_settled else None
    days = {
        DepositMethod.CHECK: settings_row.check_clear_days,
        DepositMethod.ACH: settings_row.ach_clear_days,
        DepositMethod.WIRE: settings_row.wire_clear_days,
        DepositMethod.CASH: settings_row.cash_clear_days,
    }[DepositMethod(method)]
    return business_days_after(received_date, days)


def matter_trust_balance(matter: Matter, as_of: date | None = None) -> int:
    """The matter's client trust balance from the ledger (cents, >= 0)."""
    return client_trust_balance(client=matter.client, matter=matter, as_of=as_of)


def uncleared_cents(matter: Matter, as_of: date) -> int:
    """Deposits received by ``as_of`` whose funds have not cleared on ``as_of``."""
    total = (
        _live_deposits()
        .filter(matter=matter, received_date__lte=as_of)
        .filter(Q(clears_on__isnull=True) | Q(clears_on__gt=as_of))
        .aggregate(total=Sum("amount_cents"))["total"]
    )
    return int(total or 0)


def trust_bank_accounts() -> list[Any]:
    """The firm's active trust bank accounts (ledger 1010-1099), the primary (1010) first."""
    from caseledger.ledger.models import Account

    return [
        a
        for a in Account.objects.filter(is_trust=True, is_active=True).order_by("code", "id")
        if a.is_trust_bank
    ]


def primary_trust_account() -> Any:
    from caseledger.ledger import accounts
    from caseledger.ledger.models import Account

    return Account.objects.get(code=accounts.TRUST_BANK)


def _in_account(qs: QuerySet[Any], account: Any) -> QuerySet[Any]:
    """Rows of ``qs`` in trust account ``account`` (rows without one are in the primary)."""
    from caseledger.ledger import accounts

    if account.code == accounts.TRUST_BANK:
        return qs.filter(Q(trust_account=account) | Q(trust_account__isnull=True))
    return qs.filter(trust_account=account)


def account_held_cents(matter: Matter, account: Any) -> int:
    """What ``matter`` holds in trust bank account ``account`` (the ledger's balance row for
    account, client and matter; cents, >= 0)."""
    from caseledger.ledger.models import SubledgerBalance

    row = (
        SubledgerBalance.objects.filter(account=account, client_id=matter.client_id, matter=matter)
        .values_list("balance_cents", flat=True)
        .first()
    )
    return int(row or 0)


def account_available_cents(matter: Matter, account: Any, as_of: date) -> int:
    """What ``matter`` may spend from ``account`` on ``as_of``: held there, less deposits into
    that account not yet cleared."""
    uncleared = (
        _in_account(_live_deposits(), account)
        .filter(matter=matter, received_date__lte=as_of)
        .filter(Q(clears_on__isnull=True) | Q(clears_on__gt=as_of))
        .aggregate(total=Sum("amount_cents"))["total"]
    )
    return account_held_cents(matter, account) - int(uncleared or 0)


def matter_balances_by_account(matters: list[Matter]) -> dict[int, list[tuple[Any, int]]]:
    """Per matter id: [(trust account, cents held)] for each account holding anything (one
    query for the accounts, one for the balances)."""
    from caseledger.ledger.models import SubledgerBalance

    by_id = {a.pk: a for a in trust_bank_accounts()}
    out: dict[int, list[tuple[Any, int]]] = {}
    rows = (
        SubledgerBalance.objects.filter(
            account_id__in=list(by_id), matter_id__in=[m.pk for m in matters]
        )
        .exclude(balance_cents=0)
        .order_by("matter_id", "account_id", "id")
        .values_list("matter_id", "account_id", "balance_cents")
    )
    for matter_id, account_id, cents in rows:
        out.setdefault(matter_id, []).append((by_id[account_id], int(cents)))
    return out


def held_by_account(matters: QuerySet[Matter]) -> list[tuple[Any, int]]:
    """[(trust account, cents held for ``matters`` together)] for every trust bank account
    (one query for the accounts, one grouped sum over the matters' ids as a subquery)."""
    from caseledger.ledger.models import SubledgerBalance

    accounts_ = trust_bank_accounts()
    held = dict(
        SubledgerBalance.objects.filter(
            account_id__in=[a.pk for a in accounts_],
            matter_id__in=matters.order_by().values("pk"),
        )
        .values("account_id")
        .annotate(total=Sum("balance_cents"))
        .order_by()
        .values_list("account_id", "total")
    )
    return [(a, int(held.get(a.pk) or 0)) for a in accounts_]


def _live_deposits() -> QuerySet[TrustDeposit]:
    """Deposits not reversed (a reversed deposit's money is gone: it never clears)."""
    return TrustDeposit.objects.exclude(reversals__status=ReversalStatus.POSTED)


def disputed_cents(matter: Matter) -> int:
    total = DisputeHold.objects.filter(matter=matter, status=DisputeStatus.OPEN).aggregate(
        total=Sum("amount_cents")
    )["total"]
    return int(total or 0)


@dataclass(frozen=True)
class TrustFigures:
    """One matter's trust money on a date, in cents (by matter id: no Matter row needed).

    available = balance - uncleared - disputed (never below 0). Every outflow (earned transfer,
    disbursement) already reduced ``balance``; uncleared deposits are inside ``balance`` but
    may not move, and disputed amounts may not move either. So whatever leaves trust comes out of
    cleared, undisputed money only.
    """

    matter_id: int
    balance_cents: int
    uncleared_cents: int
    disputed_cents: int
    threshold_cents: int

    # ``trust_totals`` sums these two rules in SQL (a CASE for the floor at 0): keep them alike.
    @property
    def available_cents(self) -> int:
        return max(self.balance_cents - self.uncleared_cents - self.disputed_cents, 0)

    @property
    def is_low(self) -> bool:
        return self.threshold_cents > 0 and self.balance_cents < self.threshold_cents


@dataclass(frozen=True, kw_only=True)
class TrustPosition(TrustFigures):
    """``TrustFigures`` with the matter itself, for the pages that show it."""

    matter: Matter
    matter_id: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "matter_id", self.matter.pk)


def matter_threshold_cents(matter: Matter, settings_row: TrustSettings | None = None) -> int:
    row = MatterTrust.objects.filter(matter_id=matter.pk).first()
    if row is not None and row.low_balance_threshold_cents is not None:
        return row.low_balance_threshold_cents
    return (settings_row or trust_settings_get()).low_balance_threshold_cents


def trust_position(matter: Matter, as_of: date) -> TrustPosition:
    return TrustPosition(
        matter=matter,
        balance_cents=matter_trust_balance(matter, as_of=as_of),
        uncleared_cents=uncleared_cents(matter, as_of),
        disputed_cents=disputed_cents(matter),
        threshold_cents=matter_threshold_cents(matter),
    )


@dataclass(frozen=True)
class FeePromise:
    """A government fee an issued invoice shows as paid from trust (billing ADR 011) that no
    disbursement pays yet: that much of the matter's trust is promised to USCIS."""

    invoice_id: int
    invoice: str
    fee_code: str
    amount_cents: int


def trust_fee_promises(matter: Matter, *, exclude_fee_code: str = "") -> list[FeePromise]:
    """The matter's fee promises, one per fee code (the first issued invoice's), without the fee
    ``exclude_fee_code`` (the disbursement being checked pays it)."""
    from caseledger.billing.choices import FeePath, InvoiceStatus, LineKind
    from caseledger.billing.models import InvoiceLine

    paying = set(
        Disbursement.objects.filter(
            matter_id=matter.pk,
            status__in=[
                DisbursementStatus.REQUESTED,
                DisbursementStatus.APPROVED,
                DisbursementStatus.POSTED,
            ],
        )
        .exclude(fee_code="")
        .values_list("fee_code", flat=True)
    )
    lines = (
        InvoiceLine.objects.filter(
            invoice__matter_id=matter.pk,
            invoice__status=InvoiceStatus.ISSUED,
            kind=LineKind.GOVERNMENT_FEE,
            fee_path=FeePath.FROM_TRUST,
            fee_amount_cents__gt=0,
        )
        .exclude(fee_code="")
        .select_related("invoice")
        .order_by("invoice_id", "position", "id")
    )
    promises: dict[str, FeePromise] = {}
    for line in lines:
        code = line.fee_code
        if code in paying or code == exclude_fee_code or code in promises:
            continue
        promises[code] = FeePromise(line.invoice_id, str(line.invoice), code, line.fee_amount_cents)
    return list(promises.values())


def trust_matters(matters: QuerySet[Matter] | None = None) -> QuerySet[Matter]:
    """Matters that have ever had trust money or a trust setting, for the dashboard: one IN over
    the UNION of the (small) trust tables' matter ids. Not joins with DISTINCT, nor three OR'd
    EXISTS tests: PostgreSQL guesses those match most matters and walks every client by name
    (150 ms at 20,000 matters, against under 1 ms for the IN)."""
    qs = matters if matters is not None else Matter.objects.all()
    ids = TrustDeposit.objects.values("matter_id").union(
        MatterTrust.objects.values("matter_id"), TrustRequest.objects.values("matter_id")
    )
    return (
        qs.filter(pk__in=ids)
        .select_related("client", "attorney", "responsible_partner")
        .order_by("client__name", "number", "id")
    )


def trust_figures(matter_ids: Sequence[int], as_of: date) -> list[TrustFigures]:
    """The trust money of each of ``matter_ids`` (in their order) in four grouped queries,
    whatever their number (past ``core.ids.IN_LIST_MAX`` ids, grouped over every matter)."""
    ids = list(matter_ids)
    if not ids:
        return []
    settings_row = trust_settings_get()
    uncleared = dict(
        only_ids(_live_deposits(), "matter_id", ids)
        .filter(received_date__lte=as_of)
        .filter(Q(clears_on__isnull=True) | Q(clears_on__gt=as_of))
        .values("matter_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("matter_id", "total")
    )
    disputed = dict(
        only_ids(DisputeHold.objects.filter(status=DisputeStatus.OPEN), "matter_id", ids)
        .values("matter_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("matter_id", "total")
    )
    thresholds = dict(
        only_ids(
            MatterTrust.objects.filter(low_balance_threshold_cents__isnull=False), "matter_id", ids
        ).values_list("matter_id", "low_balance_threshold_cents")
    )
    from caseledger.ledger.selectors import matter_trust_balances

    balances = matter_trust_balances(matter_ids=ids, as_of=as_of)
    return [
        TrustFigures(
            matter_id=pk,
            balance_cents=balances[pk],
            uncleared_cents=int(uncleared.get(pk) or 0),
            disputed_cents=int(disputed.get(pk) or 0),
            threshold_cents=(
                int(thresholds[pk] or 0)
                if pk in thresholds
                else settings_row.low_balance_threshold_cents
            ),
        )
        for pk in ids
    ]


def trust_positions(
    matters: Sequence[Matter],
    as_of: date,
    *,
    figures: Mapping[int, TrustFigures] | None = None,
) -> list[TrustPosition]:
    """The trust position of each of ``matters`` (in their order), in the queries of
    ``trust_figures``: pass a page of matters to read only that page's money. With ``figures``
    (by matter id, already read: a dashboard window's rows, ``TrustTotals.first_low``) for all
    of them, no query."""
    if figures is not None:
        each = [figures[m.pk] for m in matters]
    else:
        each = trust_figures([m.pk for m in matters], as_of)
    return [
        TrustPosition(
            matter=m,
            balance_cents=f.balance_cents,
            uncleared_cents=f.uncleared_cents,
            disputed_cents=f.disputed_cents,
            threshold_cents=f.threshold_cents,
        )
        for m, f in zip(matters, each, strict=True)
    ]


def trust_dashboard(as_of: date, matters: QuerySet[Matter] | None = None) -> list[TrustPosition]:
    """Every trust matter's position (``trust_matters`` of ``matters``)."""
    return trust_positions(list(trust_matters(matters)), as_of)


FIRST_LOW = 50  # low matters read with their figures: at least core.waiting.LIMIT and the home's 5


@dataclass(frozen=True)
class TrustTotals:
    """The trust money of every trust matter in a scope, summed exactly in SQL (each matter's
    available amount is floored at 0 before summing, as on its own row), the number below
    their minimum, and the first of those with their figures (the panels show the first ones)."""

    count: int  # the trust matters summed (the dashboard's rows)
    balance_cents: int
    uncleared_cents: int
    disputed_cents: int
    available_cents: int
    low: int  # matters below their minimum
    low_open: int  # of them, the ones not closed
    # By matter id, in the dashboard's order: the first FIRST_LOW low matters and the first
    # FIRST_LOW open low matters, with their figures (none from a dashboard window, whose page
    # rows carry their own).
    first_low: dict[int, TrustFigures] = field(default_factory=dict)
    closed_matter_ids: frozenset[int] = frozenset()  # of ``first_low``, the closed ones

    def first_low_ids(self, n: int, *, open_only: bool = False) -> list[int]:
        """The first ``n`` (at most FIRST_LOW) matters below their minimum in the dashboard's
        order, or the first ``n`` open ones."""
        if n > FIRST_LOW:
            raise ValueError(f"n: at most {FIRST_LOW} low matters are read (got {n})")
        ids = [pk for pk in self.first_low if not (open_only and pk in self.closed_matter_ids)]
        return ids[:n]


_ORDER = "{0}.t_client, {0}.t_number, {0}.t_id"  # the dashboard's order, over a row alias
# What the trust dashboard's statement (``_trust_read``) may read and trust 0008's triggers
# watch (core.changes): the statement is cached per change of these, and computed every time
# when it reads anything else (a user's scope over another table: a client's portal users).
# ``ledger_posting`` through the trust liability's sub-ledger rows: every posting on that
# account moves one, and the statement reads only that account's postings.
_MATTER_COLUMNS = frozenset(
    ("id", "number", "client_id", "status", "attorney_id", "paralegal_id", "responsible_partner_id")
)
TRUST_WATCHED = Watched(
    "trust",
    {
        "trust_trustdeposit": None,
        "trust_depositreversal": None,
        "trust_disputehold": None,
        "trust_mattertrust": None,
        "trust_trustrequest": None,
        "ledger_subledgerbalance": frozenset(
            {"account_id", "client_id", "matter_id", "balance_cents", "is_trust_liability"}
        ),
        "ledger_posting": frozenset({"account_id", "matter_id", "entry_date", "amount_cents"}),
        "matters_matter": _MATTER_COLUMNS,
        "clients_client": frozenset({"id", "name"}),
    },
)
_LOW = "r.t_threshold > 0 AND r.t_balance < r.t_threshold"  # TrustFigures.is_low
_FREE = "r.t_balance - r.t_uncleared - r.t_disputed"


def _trust_read(
    as_of: date, matters: QuerySet[Matter] | None, rows_sql: str, rows_params: list[Any]
) -> tuple[TrustTotals, list[TrustFigures], frozenset[int]]:
    """One statement over every trust matter of ``matters`` (``trust_matters``) with its money
    on ``as_of``, the figures of ``trust_figures``: the grouped sums (the ledger's
    ``matter_trust_balance_sums`` among them) joined to the matters in the database as the rows
    ``r`` (t_id, t_status, t_client, t_number, t_balance, t_uncleared, t_disputed,
    t_threshold), a CTE read twice (PostgreSQL computes it once). It returns their count, sums
    (available floored at 0 per matter by a CASE, on SQLite and PostgreSQL alike) and low
    counts as one row, joined to the few rows ``rows_sql`` selects from ``r`` in the
    dashboard's order (none: one row of sums with NULLs). No row per trust matter leaves the
    database. Returns the totals, the selected rows' figures and the closed ones among them."""
    from caseledger.ledger.selectors import matter_trust_balance_sums

    listed = (
        trust_matters(matters)
        .order_by()
        .values(
            t_id=F("pk"),
            t_status=F("status"),
            t_client=F("client__name"),
            t_number=F("number"),
            t_minimum=F("trust__low_balance_threshold_cents"),
        )
    )
    balances, sign = matter_trust_balance_sums(as_of, kept=True)
    uncleared = (
        _live_deposits()
        .filter(received_date__lte=as_of)
        .filter(Q(clears_on__isnull=True) | Q(clears_on__gt=as_of))
        .values("matter_id")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    disputed = (
        DisputeHold.objects.filter(status=DisputeStatus.OPEN)
        .values("matter_id")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    alias = listed.db
    parts = [q.query.get_compiler(alias).as_sql() for q in (listed, balances, uncleared, disputed)]
    sql = (
        "WITH r AS (SELECT m.t_id, m.t_status, m.t_client, m.t_number,"
        " COALESCE(b.total, 0) * %s AS t_balance, COALESCE(u.total, 0) AS t_uncleared,"
        " COALESCE(d.total, 0) AS t_disputed, COALESCE(m.t_minimum, %s) AS t_threshold"
        f" FROM ({parts[0][0]}) m"
        f" LEFT JOIN ({parts[1][0]}) b ON b.matter_id = m.t_id"
        f" LEFT JOIN ({parts[2][0]}) u ON u.matter_id = m.t_id"
        f" LEFT JOIN ({parts[3][0]}) d ON d.matter_id = m.t_id)"
        " SELECT s.n, s.balance, s.uncleared, s.disputed, s.available, s.low, s.low_open,"
        " x.t_id, x.t_status, x.t_balance, x.t_uncleared, x.t_disputed, x.t_threshold"
        " FROM (SELECT COUNT(*) AS n, SUM(r.t_balance) AS balance,"
        " SUM(r.t_uncleared) AS uncleared, SUM(r.t_disputed) AS disputed,"
        f" SUM(CASE WHEN {_FREE} > 0 THEN {_FREE} ELSE 0 END) AS available,"
        f" SUM(CASE WHEN {_LOW} THEN 1 ELSE 0 END) AS low,"
        f" SUM(CASE WHEN {_LOW} AND r.t_status <> %s THEN 1 ELSE 0 END) AS low_open FROM r) s"
        f" LEFT JOIN ({rows_sql}) x ON 1 = 1 ORDER BY {_ORDER.format('x')}"
    )
    default = trust_settings_get().low_balance_threshold_cents
    params = [sign, default, *(p for _, ps in parts for p in ps), MatterStatus.CLOSED]
    params += rows_params

    def read() -> tuple[TrustTotals, list[TrustFigures], frozenset[int]]:
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return _trust_rows(cursor.fetchall())

    # Computed once per change of what it reads (core.changes; trust 0008's triggers).
    return cached_read(TRUST_WATCHED, alias, sql, params, read)


def _trust_rows(
    rows: list[tuple[Any, ...]],
) -> tuple[TrustTotals, list[TrustFigures], frozenset[int]]:
    """``_trust_read``'s result from its statement's rows."""
    n, balance, uncleared_, disputed_, available, low, low_open = rows[0][:7]
    picked = [row[7:] for row in rows if row[7] is not None]  # (id, status, figures...)
    totals = TrustTotals(
        count=int(n),
        balance_cents=int(balance or 0),
        uncleared_cents=int(uncleared_ or 0),
        disputed_cents=int(disputed_ or 0),
        available_cents=int(available or 0),
        low=int(low or 0),
        low_open=int(low_open or 0),
    )
    figures = [
        TrustFigures(int(pk), int(b), int(u), int(d), int(t)) for pk, _, b, u, d, t in picked
    ]
    closed = frozenset(int(row[0]) for row in picked if row[1] == MatterStatus.CLOSED)
    return totals, figures, closed


def trust_totals(as_of: date, matters: QuerySet[Matter] | None = None) -> TrustTotals:
    """Totals over ``trust_matters(matters)`` and the first low matters' figures (``first_low``),
    summed in the database in one statement (``_trust_read``; and the trust liability account's
    and the settings' reads): what runs in Python does not grow with the trust matters. Each
    matter's figures are those ``trust_figures`` reads (a test holds the sums equal)."""
    order = _ORDER.format("r")
    first_low = (
        "SELECT * FROM (SELECT r.*,"
        f" ROW_NUMBER() OVER w AS n_low,"
        " SUM(CASE WHEN r.t_status <> %s THEN 1 ELSE 0 END) OVER w AS n_open"
        f" FROM r WHERE {_LOW} WINDOW w AS (ORDER BY {order} ROWS UNBOUNDED PRECEDING)) k"
        " WHERE k.n_low <= %s OR (k.t_status <> %s AND k.n_open <= %s)"
    )  # one window (one sort): the running count of low rows and of the open ones
    closed = MatterStatus.CLOSED
    totals, figures, closed_ids = _trust_read(
        as_of, matters, first_low, [closed, FIRST_LOW, closed, FIRST_LOW]
    )
    return replace(
        totals, first_low={f.matter_id: f for f in figures}, closed_matter_ids=closed_ids
    )


class TrustRows(SqlRows[TrustFigures]):
    """The trust dashboard's rows (``trust_matters(matters)`` in its order) with their figures
    on ``as_of``, as a lazy sequence Django's ``Paginator`` takes: ``read_window`` reads a page
    (LIMIT/OFFSET on the ordered rows in SQL) with the totals over every row in one statement
    (``_trust_read``), so ``len()`` (the totals' count), that slice and ``totals`` read no more.
    Any other slice is one such statement; ``len()`` before any, ``trust_totals``'."""

    def __init__(self, as_of: date, matters: QuerySet[Matter] | None = None) -> None:
        self.as_of, self.matters = as_of, matters
        self.totals: TrustTotals | None = None
        self._window: tuple[int, list[TrustFigures]] | None = None  # (offset, rows)

    def read_window(self, offset: int, limit: int) -> list[TrustFigures]:
        """The rows ``[offset:offset + limit]``, the count and the totals: one statement."""
        page = f"SELECT * FROM r ORDER BY {_ORDER.format('r')} LIMIT %s OFFSET %s"
        totals, rows, _ = _trust_read(self.as_of, self.matters, page, [limit, offset])
        self.totals, self._window = totals, (offset, rows)
        return rows

    def __len__(self) -> int:
        if self.totals is None:
            self.totals = trust_totals(self.as_of, self.matters)
        return self.totals.count

    def _fetch(self, limit: int | None, offset: int) -> list[TrustFigures]:
        if limit is None:
            limit = max(len(self) - offset, 0)
        if self._window is not None and self._window[0] == offset:
            kept = self._window[1]
            if limit <= len(kept) or offset + len(kept) >= len(self):
                return kept[:limit]
        return self.read_window(offset, limit)


def trust_totals_of(user: Any, as_of: date) -> TrustTotals:
    """``trust_totals`` over the matters ``user`` may see, read once per request: the home
    page's trust panel and its "waiting on you" list both show them (``core.context.memoized``)."""
    from caseledger.matters.selectors import matters_visible_to

    return memoized(
        ("trust.totals", user.pk, as_of), lambda: trust_totals(as_of, matters_visible_to(user))
    )


def trust_matters_by_ids(ids: Sequence[int]) -> list[Matter]:
    """The matters of ``ids`` (a few: a panel's first rows), in the order of ``ids``, loaded as
    ``trust_matters`` loads them (their clients' identity numbers left unread)."""
    from caseledger.clients.selectors import without_pii

    found = without_pii(
        Matter.objects.select_related("client", "attorney", "responsible_partner"), "client"
    ).in_bulk(list(ids))
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class StatementLine:
    day: date
    kind: str
    description: str
    reference: str
    matter: Matter
    amount_cents: int  # + into trust, - out of trust
    balance_cents: int = 0
    account: str = ""  # the trust bank account, "1010 Trust bank (IOLTA)"


def client_trust_movements(client: Client, matter: Matter | None = None) -> list[StatementLine]:
    """Every movement of the client's trust money (deposits in; earned transfers and posted
    disbursements out), oldest first, with a running balance per statement."""
    deposits = TrustDeposit.objects.filter(client=client).select_related("matter", "trust_account")
    transfers = TrustTransfer.objects.filter(client=client).select_related(
        "matter", "invoice", "trust_account"
    )
    disbursements = Disbursement.objects.filter(
        client=client, status=DisbursementStatus.POSTED
    ).select_related("matter", "trust_account")
    reversals = DepositReversal.objects.filter(
        client=client, status=ReversalStatus.POSTED
    ).select_related("matter", "deposit", "deposit__trust_account")
    primary = primary_trust_account()

    def label(account: Any) -> str:
        account = account or primary
        return f"{account.code} {account.name}"

    if matter is not None:
        deposits = deposits.filter(matter=matter)
        transfers = transfers.filter(matter=matter)
        disbursements = disbursements.filter(matter=matter)
        reversals = reversals.filter(matter=matter)
    raw: list[tuple[date, int, int, StatementLine]] = []
    for d in deposits:
        raw.append(
            (
                d.received_date,
                0,
                d.pk,
                StatementLine(
                    d.received_date,
                    "Deposit",
                    f"Received from {d.payer} ({d.get_method_display()})",
                    d.receipt_number,
                    d.matter,
                    d.amount_cents,
                    account=label(d.trust_account),
                ),
            )
        )
    for t in transfers:
        raw.append(
            (
                t.transfer_date,
                1,
                t.pk,
                StatementLine(
                    t.transfer_date,
                    "Earned fees",
                    f"Applied to invoice {t.invoice}",
                    str(t.invoice),
                    t.matter,
                    -t.amount_cents,
                    account=label(t.trust_account),
                ),
            )
        )
    for x in disbursements:
        assert x.posted_date is not None
        raw.append(
            (
                x.posted_date,
                2,
                x.pk,
                StatementLine(
                    x.posted_date,
                    "Disbursement",
                    f"Paid to {x.payee} ({x.get_purpose_display()})",
                    x.number,
                    x.matter,
                    -x.amount_cents,
                    account=label(x.trust_account),
                ),
            )
        )
    for r in reversals:
        assert r.posted_date is not None
        raw.append(
            (
                r.posted_date,
                3,
                r.pk,
                StatementLine(
                    r.posted_date,
                    "Deposit reversed",
                    f"Reversal of receipt {r.deposit.receipt_number}: {r.reason}",
                    r.deposit.receipt_number,
                    r.matter,
                    -r.amount_cents,
                    account=label(r.deposit.trust_account),
                ),
            )
        )
    raw.sort(key=lambda r: (r[0], r[1], r[2]))
    running = 0
    lines = []
    for _day, _order, _pk, line in raw:
        running += line.amount_cents
        lines.append(
            StatementLine(
                line.day,
                line.kind,
                line.description,
                line.reference,
                line.matter,
                line.amount_cents,
                running,
                line.account,
            )
        )
    return lines


def account_totals(lines: list[StatementLine]) -> list[tuple[str, int]]:
    """What the movements leave in each trust bank account, in account order."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.account] = totals.get(line.account, 0) + line.amount_cents
    return sorted(totals.items())


def open_trust_requests() -> QuerySet[TrustRequest]:
    return TrustRequest.objects.filter(
        status__in=[TrustRequestStatus.OPEN, TrustRequestStatus.PARTIALLY_PAID]
    )


def trust_request_list(status: str | None = None) -> QuerySet[TrustRequest]:
    qs = TrustRequest.objects.select_related("client", "matter")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-issue_date", "-id")


def disbursement_queue() -> QuerySet[Disbursement]:
    return (
        Disbursement.objects.filter(
            status__in=[DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED]
        )
        .select_related("client", "matter", "requested_by")
        .prefetch_related("approvals__approver")
        .order_by("requested_at", "id")
    )


def disbursements_to_approve(user: Any, matters: QuerySet[Matter]) -> QuerySet[Disbursement]:
    """Requested disbursements of ``matters`` that ``user`` did not request and has not
    approved, oldest first, each with ``approval_count`` (the approvals it has so far)."""
    return (
        Disbursement.objects.filter(status=DisbursementStatus.REQUESTED, matter__in=matters)
        .exclude(requested_by=user)
        .exclude(approvals__approver=user)
        .annotate(approval_count=Count("approvals"))
        .order_by("requested_at", "id")
    )


def disbursement_list(status: str | None = None) -> QuerySet[Disbursement]:
    qs = Disbursement.objects.select_related("client", "matter", "requested_by").prefetch_related(
        "approvals__approver"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-requested_at", "-id")


def invoice_trust_activity(invoice: Any, user: Any) -> list[InvoiceActivity]:
    """Trust money applied to ``invoice`` (earned fees), for its page's "Payments and
    adjustments" (``billing.hooks.register_invoice_activity_listener``); each row links to the
    matter's trust ledger."""
    from django.urls import reverse

    from caseledger.core.permissions import authorize

    rows = []
    for transfer in TrustTransfer.objects.filter(invoice_id=invoice.pk).order_by(
        "transfer_date", "id"
    ):
        may_open = authorize(user, "trust.view", invoice.matter)
        rows.append(
            InvoiceActivity(
                on=transfer.transfer_date,
                kind="Trust application",
                document=f"Trust {invoice.matter.number}",
                detail="applied automatically on issue" if transfer.automatic else "from trust",
                amount_cents=transfer.amount_cents,
                url=reverse("trust:matter", args=[transfer.matter_id]) if may_open else None,
                at=transfer.created_at,
            )
        )
    return rows


def deposits_ledger_verify() -> list[str]:
    """Each trust deposit's amount against what its entry credited the client's trust ledger
    (client, matter and amount). One line per difference, naming the receipt."""
    from caseledger.ledger import accounts
    from caseledger.ledger.models import Posting

    credited: dict[tuple[int, int | None, int | None], int] = {}
    for entry_id, client_id, matter_id, cents in Posting.objects.filter(
        entry_id__in=TrustDeposit.objects.values("entry_id"),
        account__code=accounts.CLIENT_TRUST_LIABILITY,
    ).values_list("entry_id", "client_id", "matter_id", "amount_cents"):
        key = (entry_id, client_id, matter_id)
        credited[key] = credited.get(key, 0) - cents
    problems: list[str] = []
    for did, receipt, entry_id, client_id, matter_id, amount in TrustDeposit.objects.order_by(
        "id"
    ).values_list("id", "receipt_number", "entry_id", "client_id", "matter_id", "amount_cents"):
        got = credited.get((entry_id, client_id, matter_id), 0)
        if got != amount:
            problems.append(
                f"trust deposit {receipt} (#{did}): amount {amount}, its entry JE-{entry_id} "
                f"credited the client's trust ledger {got}"
            )
    return problems
