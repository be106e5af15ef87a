"""The reconciliation report of one bank account as of a statement date, computed with SQL
aggregates (no Python loop over postings or lines):

1. the bank: the latest statement's closing balance on or before the date (plus any line booked
   after it up to the date), + deposits in transit - outstanding disbursements: the account's
   postings dated on or before the date without a match to a line booked on or before it;
2. the journal: the ledger account's balance at the end of the date;
3. trust accounts only: every client/matter trust ledger as of the date (client trust
   liability), negative ones first.

Differences are explained by items: (1) - (2) by the statement lines not (fully) matched to
postings dated on or before the date (unrecorded bank items: fees, interest, returned checks);
(2) - (3) by the client ledgers whose trust bank side differs from their liability side. What
no item explains is ``unexplained_cents`` (for instance a first statement's opening balance the
journal never recorded).

An account whose books start on a day (``BankAccount.books_start``, the cutover) has no item
dated on or before it in a report of that day or later: its bank side that day is the opening
statement's closing balance, its journal the opening entry; the lines before it are the old
system's history. The report then states ``books_start``.

``Report.canonical`` holds ids, dates and cents only (names can change, the figures of a date
cannot once it is closed), so a signed month re-run later gives the same SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery

from caseledger.banking.models import BankAccount, BankStatement
from caseledger.ledger import accounts as codes
from caseledger.ledger.choices import AccountType
from caseledger.ledger.models import Account, Posting

REPORT_VERSION = 1


@dataclass
class Report:
    """One reconciliation. ``canonical`` is what is hashed and stored; the other fields are
    the same figures with names for pages and the PDF."""

    bank_account: BankAccount
    as_of: date
    is_trust: bool
    canonical: dict[str, Any]
    statement: BankStatement | None
    deposits: list[dict[str, Any]] = field(default_factory=list)
    outstanding: list[dict[str, Any]] = field(default_factory=list)
    unrecorded: list[dict[str, Any]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)
    client_differences: list[dict[str, Any]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        # Figures read as attributes (report.journal_cents) from the canonical dict.
        canonical = self.__dict__.get("canonical")
        if canonical is not None and name in canonical:
            return canonical[name]
        raise AttributeError(name)

    @property
    def foundation_cents(self) -> int:
        """IOLTA interest the account holds for the bar foundation (0 when none)."""
        return int(self.canonical.get("foundation_cents", 0))

    @property
    def sha256(self) -> str:
        return report_hash(self.canonical)


def report_hash(canonical: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of a report."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _scalar(sql: str, params: list[Any]) -> int:
    rows = _rows(sql, params)
    return int(rows[0][0] or 0) if rows else 0


def _day(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _balance_as_of(account_id: int, day: Any) -> int:
    """Debit-positive balance at the end of ``day``: the balance row minus later postings
    (one index range scan over the postings after the date)."""
    return _scalar(
        "SELECT COALESCE((SELECT balance_cents FROM ledger_accountbalance"
        " WHERE account_id = %s), 0) - COALESCE((SELECT SUM(amount_cents) FROM ledger_posting"
        " WHERE account_id = %s AND entry_date > %s), 0)",
        [account_id, account_id, day],
    )


def _subledger_as_of(account_id: int, day: Any) -> dict[tuple[int, int], int]:
    """{(client, matter): debit-positive balance at the end of ``day``} from the sub-ledger
    balance rows minus later postings, zero balances left out."""
    rows = _rows(
        "SELECT s.client_id, s.matter_id, s.balance_cents - COALESCE(a.later, 0) "
        "FROM ledger_subledgerbalance s LEFT JOIN ("
        "  SELECT client_id, matter_id, SUM(amount_cents) AS later FROM ledger_posting"
        "  WHERE account_id = %s AND entry_date > %s GROUP BY client_id, matter_id"
        ") a ON a.client_id = s.client_id AND a.matter_id = s.matter_id "
        "WHERE s.account_id = %s AND s.balance_cents - COALESCE(a.later, 0) <> 0",
        [account_id, day, account_id],
    )
    return {(c, m): int(b) for c, m, b in rows}


def latest_statement(bank_account: BankAccount, as_of: date) -> BankStatement | None:
    return (
        BankStatement.objects.filter(
            bank_account=bank_account, period_end__lte=as_of, closing_cents__isnull=False
        )
        .order_by("-period_end", "-id")
        .first()
    )


# Postings of the account dated on or before the date with no match to a line booked on or
# before it. Params: account, date, date.
_IN_TRANSIT = (
    "SELECT p.id, p.entry_id, p.entry_date, p.amount_cents, p.client_id, p.matter_id,"
    " (SELECT e.memo FROM ledger_journalentry e WHERE e.id = p.entry_id) "
    "FROM ledger_posting p WHERE p.account_id = %s AND p.entry_date <= %s AND NOT EXISTS ("
    "  SELECT 1 FROM banking_linematch m JOIN banking_statementline l ON l.id = m.line_id"
    "  WHERE m.posting_id = p.id AND l.booking_date <= %s)"
)
# Postings split over several lines (``LineMatch.part`` > 0, few: the partial index) that some
# line booked on or before the date shows and some later one does not yet: in transit for the
# part not yet shown (the query above leaves out every posting a line has shown). Params:
# date, account, date.
_SPLIT_IN_TRANSIT = (
    "SELECT s.id, s.entry_id, s.entry_date, s.open_cents, s.client_id, s.matter_id,"
    " (SELECT e.memo FROM ledger_journalentry e WHERE e.id = s.entry_id) FROM ("
    "  SELECT p.id, p.entry_id, p.entry_date, p.amount_cents, p.client_id, p.matter_id,"
    "  p.amount_cents - COALESCE((SELECT SUM(m.amount_cents) FROM banking_linematch m"
    "    JOIN banking_statementline l ON l.id = m.line_id"
    "    WHERE m.posting_id = p.id AND l.booking_date <= %s), 0) AS open_cents"
    # One part-1 row per split posting, found through the partial index (part > 0); CROSS
    # JOIN keeps SQLite from scanning the account's postings instead (PostgreSQL plans it as
    # the inner join it is).
    "  FROM banking_linematch sm CROSS JOIN ledger_posting p"
    "  WHERE p.id = sm.posting_id AND sm.part > 0 AND sm.part = 1"
    "  AND p.account_id = %s AND p.entry_date <= %s{extra}) s"
    " WHERE s.open_cents <> 0 AND s.open_cents <> s.amount_cents"
)
# Lines booked on or before the date and what of them no posting dated on or before it
# explains. Params: date, bank account, date.
_UNRECORDED = (
    "SELECT * FROM (SELECT l.id, l.booking_date, l.amount_cents - COALESCE(("
    "  SELECT SUM(m.amount_cents) FROM banking_linematch m"
    "  JOIN ledger_posting p ON p.id = m.posting_id"
    "  WHERE m.line_id = l.id AND p.entry_date <= %s), 0) AS open_cents,"
    " l.amount_cents AS line_cents, l.description, l.bank_reference "
    "FROM banking_statementline l WHERE l.bank_account_id = %s AND l.booking_date <= %s{extra}) u "
    "WHERE u.open_cents <> 0 ORDER BY u.booking_date, u.id"
)
# Beyond this many items carried from the previous signed month, scan the whole history.
CHECKPOINT_MAX_ITEMS = 5_000


def _checkpoint(bank_account: BankAccount, as_of: date) -> tuple[date, list[int], list[int]] | None:
    """The latest signed month before ``as_of`` whose period is still closed, as (its date,
    its in-transit posting ids, its unrecorded line ids). Nothing dated in a closed period can
    change any more (no posting, no line, no match of a line and a posting both in it), so a
    posting cleared by then stays cleared and a line explained by then stays explained: the
    report only needs to look at that month's open items and at what is dated after it. The
    result is the same report a scan of the whole history gives (tested)."""
    from caseledger.banking.models import Reconciliation
    from caseledger.ledger.models import ClosedPeriod

    rec = (
        Reconciliation.objects.filter(
            bank_account=bank_account, status="SIGNED", period_end__lt=as_of
        )
        .annotate(
            still_closed=Exists(
                ClosedPeriod.objects.filter(
                    account_id=bank_account.ledger_account_id,
                    is_active=True,
                    closed_through__gte=OuterRef("period_end"),
                )
            )
        )
        .order_by("-period_end", "-id")
        .only("id", "period_end", "report")
        .first()
    )
    if rec is None or not getattr(rec, "still_closed", False):
        return None
    report = rec.report or {}
    if report.get("version") != REPORT_VERSION:
        return None
    transit = [int(r[0]) for r in report.get("deposits_in_transit", [])]
    transit += [int(r[0]) for r in report.get("outstanding", [])]
    lines = [int(r[0]) for r in report.get("unrecorded", [])]
    if len(transit) + len(lines) > CHECKPOINT_MAX_ITEMS:
        return None
    return rec.period_end, transit, lines


def reconciliation_compute(
    *, bank_account: BankAccount, as_of: date, use_checkpoint: bool = True
) -> Report:
    """The report of ``bank_account`` at the end of ``as_of`` (see the module docstring).
    ``use_checkpoint=False`` scans the whole history instead of starting from the latest
    signed month (same result; verify_reconciliations uses it).

    On PostgreSQL the queries run with ``jit`` off (``SET LOCAL``, this transaction only): at a
    million postings the planner's cost estimates switch JIT compilation on, which took 0.5 s
    of the report's 1.2 s (EXPLAIN ANALYZE: 377 ms of JIT for a 150 ms query) and saves nothing
    on these index look-ups."""
    if connection.vendor != "postgresql":
        return _compute(bank_account=bank_account, as_of=as_of, use_checkpoint=use_checkpoint)
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")
        return _compute(bank_account=bank_account, as_of=as_of, use_checkpoint=use_checkpoint)


def _bank_balance(
    bank_account: BankAccount, as_of: date, day: Any
) -> tuple[BankStatement | None, int]:
    """The latest statement on or before ``as_of`` and the bank balance at the end of it."""
    statement = latest_statement(bank_account, as_of)
    if statement is not None and statement.period_end and statement.period_end < as_of:
        # A sub-select per statement would sum the lines after each one (SQLite runs it for
        # every statement before the LIMIT): a second query for the latest one only.
        after = _scalar(
            "SELECT SUM(amount_cents) FROM banking_statementline WHERE bank_account_id = %s "
            "AND booking_date > %s AND booking_date <= %s",
            [bank_account.pk, connection.ops.adapt_datefield_value(statement.period_end), day],
        )
        bank_cents = int(statement.closing_cents or 0) + after
    elif statement is not None:
        bank_cents = int(statement.closing_cents or 0)
    else:
        bank_cents = 0
    return statement, bank_cents


def books_start(bank_account: BankAccount, as_of: date) -> date | None:
    """The day the account's books start (``BankAccount.books_start``) when the report's date
    is on or after it, else None (a report before it is of the bank's history alone)."""
    start = bank_account.books_start
    return start if start is not None and start <= as_of else None


def _open_items(
    bank_account: BankAccount,
    account_id: int,
    as_of: date,
    day: Any,
    use_checkpoint: bool,
    start: date | None,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The postings in transit and the unrecorded statement lines as of the date; none dated
    on or before ``start`` (the books start: the old system's bank lines and the opening entry
    are not items)."""
    posting_after = line_after = ""
    after: list[Any] = []
    if start is not None:
        posting_after, line_after = " AND p.entry_date > %s", " AND l.booking_date > %s"
        after = [connection.ops.adapt_datefield_value(start)]
    checkpoint = _checkpoint(bank_account, as_of) if use_checkpoint else None
    if checkpoint is None:
        in_transit = _rows(
            _IN_TRANSIT + posting_after + " ORDER BY p.entry_date, p.id",
            [account_id, day, day, *after],
        )
        unrecorded = _rows(
            _UNRECORDED.format(extra=line_after), [day, bank_account.pk, day, *after]
        )
    else:
        since, transit_ids, unrecorded_ids = checkpoint
        since_day = connection.ops.adapt_datefield_value(since)
        # What is dated after the signed month, and that month's open items (one query each).
        marks = ", ".join(["%s"] * len(transit_ids))
        in_transit = _rows(
            _IN_TRANSIT
            + posting_after
            + (
                f" AND (p.entry_date > %s OR p.id IN ({marks}))"
                if transit_ids
                else " AND p.entry_date > %s"
            )
            + " ORDER BY p.entry_date, p.id",
            [account_id, day, day, *after, since_day, *transit_ids],
        )
        marks = ", ".join(["%s"] * len(unrecorded_ids))
        unrecorded = _rows(
            _UNRECORDED.format(
                extra=line_after
                + (
                    f" AND (l.booking_date > %s OR l.id IN ({marks}))"
                    if unrecorded_ids
                    else " AND l.booking_date > %s"
                )
            ),
            [day, bank_account.pk, day, *after, since_day, *unrecorded_ids],
        )
    split = _rows(_SPLIT_IN_TRANSIT.format(extra=posting_after), [day, account_id, day, *after])
    if split:
        in_transit = sorted([*in_transit, *split], key=lambda r: (_day(r[2]), r[0]))
    return in_transit, unrecorded


def _canonical(
    *,
    bank_account: BankAccount,
    as_of: date,
    is_trust: bool,
    statement: BankStatement | None,
    bank_cents: int,
    in_transit: list[tuple[Any, ...]],
    unrecorded: list[tuple[Any, ...]],
    journal_cents: int,
) -> dict[str, Any]:
    """The bank and journal figures of the report, ids, dates and cents only."""
    deposits = [r for r in in_transit if r[3] > 0]
    outstanding = [r for r in in_transit if r[3] < 0]
    deposits_cents = sum(int(r[3]) for r in deposits)
    outstanding_cents = -sum(int(r[3]) for r in outstanding)
    adjusted_cents = bank_cents + deposits_cents - outstanding_cents
    unrecorded_cents = sum(int(r[2]) for r in unrecorded)
    return {
        "version": REPORT_VERSION,
        "kind": "three_way" if is_trust else "two_way",
        "bank_account": bank_account.pk,
        "ledger_account": bank_account.ledger_account.code,
        "as_of": as_of.isoformat(),
        "statement": (
            {
                "id": statement.pk,
                "period_end": _day(statement.period_end),
                "closing_cents": int(statement.closing_cents or 0),
            }
            if statement is not None
            else None
        ),
        "bank_balance_cents": bank_cents,
        "deposits_in_transit": [[r[0], r[1], _day(r[2]), int(r[3])] for r in deposits],
        "deposits_in_transit_cents": deposits_cents,
        "outstanding": [[r[0], r[1], _day(r[2]), -int(r[3])] for r in outstanding],
        "outstanding_cents": outstanding_cents,
        "adjusted_bank_cents": adjusted_cents,
        "journal_cents": journal_cents,
        "unrecorded": [[r[0], _day(r[1]), int(r[2])] for r in unrecorded],
        "unrecorded_cents": unrecorded_cents,
        # Adjusted bank - journal = unrecorded bank items + this.
        "unexplained_cents": adjusted_cents - journal_cents - unrecorded_cents,
    }


def _trust_chart() -> tuple[int, int | None, list[int]]:
    """The client trust liability, the IOLTA interest payable (if ever used) and every trust
    bank: one query."""
    chart = list(
        Account.objects.filter(
            Q(code__in=[codes.CLIENT_TRUST_LIABILITY, codes.IOLTA_INTEREST_PAYABLE])
            | Q(is_trust=True, account_type=AccountType.ASSET)
        )
        # "Ever used" as the account's first posting by date: an index look-up on
        # (account, date); an EXISTS lets PostgreSQL pick a sequential scan of every
        # posting (0.2 s at a million postings when the account has none).
        .annotate(
            used=Subquery(
                Posting.objects.filter(account_id=OuterRef("pk"))
                .order_by("entry_date")
                .values("pk")[:1]
            )
        )
        .values_list("id", "code", "account_type", "is_trust", "used")
    )
    liability_id = next(r[0] for r in chart if r[1] == codes.CLIENT_TRUST_LIABILITY)
    # Only when the bar foundation's liability was ever used.
    interest_id = next(
        (r[0] for r in chart if r[1] == codes.IOLTA_INTEREST_PAYABLE and r[4] is not None),
        None,
    )
    trust_banks = [r[0] for r in chart if r[3] and r[2] == AccountType.ASSET]
    return liability_id, interest_id, trust_banks


def _client_rows(
    account_id: int, liability_id: int, trust_banks: list[int], day: Any
) -> list[tuple[int, int, int, int]]:
    """Every client/matter: (client, matter, held for it, this trust bank's side), sorted."""
    bank_side = _subledger_as_of(account_id, day)
    if len(trust_banks) > 1:
        # Several trust banks: a client's ledger in this account is the client's side of
        # this bank (every trust bank posting that moves client money names the client and
        # matter), so the listing sums to the journal but for non-client money; a client
        # differs when its liability is not what all the trust banks hold for it (a
        # liability-only transfer between clients, a posting without its client).
        held = {k: -v for k, v in bank_side.items()}
        everywhere: dict[tuple[int, int], int] = {}
        for bank_id in trust_banks:
            for k, v in _subledger_as_of(bank_id, day).items():
                everywhere[k] = everywhere.get(k, 0) + v
        owed = _subledger_as_of(liability_id, day)
        client_rows = [
            (
                c,
                m,
                -held.get((c, m), 0),
                -owed.get((c, m), 0) - everywhere.get((c, m), 0) + bank_side.get((c, m), 0),
            )
            for c, m in sorted(set(held))
        ]
    else:
        held = _subledger_as_of(liability_id, day)
        keys = sorted(set(held) | set(bank_side))
        # (client, matter, held for the client (liability, credit-positive), bank side)
        client_rows = [(c, m, -held.get((c, m), 0), bank_side.get((c, m), 0)) for c, m in keys]
    client_rows.sort(key=lambda r: (r[2] >= 0, r[0], r[1]))
    return client_rows


def _trust_side(
    canonical: dict[str, Any], account_id: int, day: Any
) -> tuple[list[tuple[int, int, int, int]], int, bool]:
    """Add the client ledgers and the bar foundation's interest to ``canonical``; return the
    client rows, the client trust liability's id and whether all three agree."""
    liability_id, interest_id, trust_banks = _trust_chart()
    client_rows = _client_rows(account_id, liability_id, trust_banks, day)
    journal_cents = canonical["journal_cents"]
    client_total = sum(r[2] for r in client_rows)
    canonical["clients"] = [[c, m, h] for c, m, h, _b in client_rows if h != 0]
    canonical["client_total_cents"] = client_total
    canonical["client_differences"] = [[c, m, h, b] for c, m, h, b in client_rows if h != b]
    # IOLTA interest this account holds for the bar foundation (no client's money): the
    # journal side counts it until it is remitted. Stated only when there is some, so the
    # reports signed before it existed hash the same.
    foundation = (
        -_scalar(
            "SELECT SUM(p.amount_cents) FROM ledger_posting p WHERE p.account_id = %s"
            " AND p.entry_date <= %s AND EXISTS (SELECT 1 FROM ledger_posting b"
            " WHERE b.entry_id = p.entry_id AND b.account_id = %s)",
            [interest_id, day, account_id],
        )
        if interest_id is not None
        else 0
    )
    if foundation:
        canonical["foundation_cents"] = foundation
    canonical["journal_minus_clients_cents"] = journal_cents - client_total - foundation
    canonical["negative_clients"] = sum(1 for r in client_rows if r[2] < 0)
    balanced = canonical["adjusted_bank_cents"] == journal_cents == client_total + foundation
    return client_rows, liability_id, balanced


def _compute(*, bank_account: BankAccount, as_of: date, use_checkpoint: bool) -> Report:
    """The report: bank side, open items, journal balance, and for trust the client side."""
    ledger_account = bank_account.ledger_account
    account_id = ledger_account.pk
    day = connection.ops.adapt_datefield_value(as_of)
    is_trust = bool(ledger_account.is_trust)

    start = books_start(bank_account, as_of)
    statement, bank_cents = _bank_balance(bank_account, as_of, day)
    in_transit, unrecorded = _open_items(
        bank_account, account_id, as_of, day, use_checkpoint, start
    )
    journal_cents = _balance_as_of(account_id, day)
    canonical = _canonical(
        bank_account=bank_account,
        as_of=as_of,
        is_trust=is_trust,
        statement=statement,
        bank_cents=bank_cents,
        in_transit=in_transit,
        unrecorded=unrecorded,
        journal_cents=journal_cents,
    )
    if start is not None:
        # Stated only when the books start, so the reports of other accounts hash the same.
        canonical["books_start"] = start.isoformat()
    client_rows: list[tuple[int, int, int, int]] = []
    liability_ids: list[int] = []
    if is_trust:
        client_rows, liability_id, balanced = _trust_side(canonical, account_id, day)
        liability_ids.append(liability_id)
    else:
        balanced = canonical["adjusted_bank_cents"] == journal_cents
    canonical["balanced"] = balanced
    report = Report(
        bank_account=bank_account,
        as_of=as_of,
        is_trust=is_trust,
        canonical=canonical,
        statement=statement,
    )
    _describe(report, in_transit, unrecorded, client_rows, [account_id, *liability_ids])
    return report


def _describe(
    report: Report,
    in_transit: list[tuple[Any, ...]],
    unrecorded: list[tuple[Any, ...]],
    client_rows: list[tuple[int, int, int, int]],
    ledger_accounts: list[int],
) -> None:
    """Names for the listed items (memos and line descriptions come with the items' own rows):
    the client listing's names by a sub-select of the ledger rows, not a list of ids, and
    any other client or matter of an item in transit."""
    from caseledger.clients.models import Client
    from caseledger.ledger.models import SubledgerBalance
    from caseledger.matters.models import Matter

    clients: dict[int, str] = {}
    matters: dict[int, str] = {}
    if client_rows:
        rows = Matter.objects.filter(
            pk__in=SubledgerBalance.objects.filter(account_id__in=ledger_accounts).values(
                "matter_id"
            )
        ).values_list("pk", "number", "client_id", "client__name")
        for matter_id, number, client_id, name in rows:
            matters[matter_id] = number
            clients[client_id] = name
    client_ids = {r[4] for r in in_transit if r[4] and r[4] not in clients}
    matter_ids = {r[5] for r in in_transit if r[5] and r[5] not in matters}
    if client_ids:
        clients.update(Client.objects.filter(pk__in=client_ids).values_list("pk", "name"))
    if matter_ids:
        matters.update(Matter.objects.filter(pk__in=matter_ids).values_list("pk", "number"))
    for r in in_transit:
        item = {
            "posting": r[0],
            "entry": r[1],
            "date": r[2],
            "amount_cents": abs(int(r[3])),
            "memo": r[6] or "",
            "client": clients.get(r[4], ""),
            "matter": matters.get(r[5], ""),
        }
        (report.deposits if r[3] > 0 else report.outstanding).append(item)
    for r in unrecorded:
        report.unrecorded.append(
            {
                "line": r[0],
                "date": r[1],
                "amount_cents": int(r[2]),
                "line_amount_cents": int(r[3]),
                "description": r[4] or r[5] or "",
            }
        )
    for c, m, held, bank in client_rows:
        row = {
            "client_id": c,
            "matter_id": m,
            "client": clients.get(c, f"client {c}"),
            "matter": matters.get(m, f"matter {m}"),
            "balance_cents": held,
            "bank_cents": bank,
        }
        if held != 0:
            report.clients.append(row)
        if held != bank:
            report.client_differences.append(row)
