"""``reconcile``: the three-way reconciliation report of a trust account (SQL aggregates:
journal, deposits in transit and outstanding disbursements, unrecorded bank lines, every client
ledger) vs the same figures computed by a Python loop over the same posting, match and line
rows, in the same run. Full: 10,000 client ledgers and 1,000,000 postings (500,000 trust
entries of two postings, each bank posting cleared by a statement line and matched, except the
last days' and a few bank fees), monthly statements, and the month before the report's date
signed (as a firm that signs every month has it: the report starts from that month's open
items; the full-history scan is timed too and printed to stderr); quick: 200 ledgers and
20,000 postings. Goal (issue 16) on
PostgreSQL: the report under 1 s and ratio >= 5. The two computations must agree to the cent,
and (2) must equal (3), or the bench fails."""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.generate import generate_firm
from bench.receivables import _next_id, _reset_sequences, bulk_load_guards_lifted, copy_rows
from bench.registry import BenchContext, register, result

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
AS_OF = date(2026, 10, 31)
DAYS = 730  # entries spread over two years before AS_OF
IN_TRANSIT_DAYS = 4  # bank postings of the last days have no statement line yet


class BenchFailure(RuntimeError):
    pass


def _generate(*, ledgers: int, postings: int) -> Any:
    """Trust entries (Dr trust bank / Cr client trust liability and back), the balance rows
    entry_post would have left, one statement with a line per cleared bank posting, and the
    matches. Loaded with COPY on PostgreSQL (per-row triggers off for the load only)."""
    from django.db import connection, transaction

    from caseledger.banking import services as banking_services
    from caseledger.banking.models import (
        BankStatement,
        LineMatch,
        StatementImport,
        StatementLine,
    )
    from caseledger.ledger import accounts as A
    from caseledger.ledger.models import (
        Account,
        AccountBalance,
        JournalEntry,
        Posting,
        SubledgerBalance,
    )

    firm = generate_firm(matters=ledgers)
    bank_acct = Account.objects.get(code=A.TRUST_BANK)
    liab = Account.objects.get(code=A.CLIENT_TRUST_LIABILITY)
    bank = banking_services.bank_account_create(
        name="IOLTA",
        bank_name="Bench Bank",
        number="4400123456",
        ledger_account=bank_acct,
        formats=["CAMT053"],
        actor=None,
        now=NOW,
    )
    rng = random.Random(11)
    entry_id = _next_id(JournalEntry)
    posting_id = _next_id(Posting)
    line_id = _next_id(StatementLine)
    held: dict[int, int] = dict.fromkeys(firm.matter_ids, 0)
    entries: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    matches: list[dict[str, Any]] = []
    start = AS_OF - timedelta(days=DAYS)
    n_entries = postings // 2
    # Dates in order, so every client's balance stays >= 0 at every date.
    days = sorted(start + timedelta(days=rng.randrange(DAYS + 1)) for _ in range(n_entries))
    imp = StatementImport.objects.create(
        bank_account=bank,
        file_name="bench.xml",
        file_sha256="0" * 64,
        format="CAMT053",
        status="DONE",
        created_at=NOW,
    )
    from caseledger.banking.reconciliation.services import month_bounds

    statements: dict[date, Any] = {}
    month_end = month_bounds(start)[1]
    while True:
        statements[month_end] = BankStatement.objects.create(
            statement_import=imp,
            bank_account=bank,
            format="CAMT053",
            currency="USD",
            period_start=max(month_end.replace(day=1), start),
            period_end=min(month_end, AS_OF),
            opening_cents=0,
            closing_cents=0,
            opening_stated=True,
            credits_cents=0,
            debits_cents=0,
            entries=0,
            created_at=NOW,
        )
        if month_end >= AS_OF:
            break
        month_end = month_bounds(month_end + timedelta(days=1))[1]
    moved: dict[date, list[int]] = {end: [0, 0, 0] for end in statements}  # credits, debits, n

    def statement_of(booked: date) -> Any:
        end = month_bounds(booked)[1]
        return statements[end]

    def count(booked: date, cents: int) -> None:
        totals = moved[month_bounds(booked)[1]]
        totals[0] += max(cents, 0)
        totals[1] += max(-cents, 0)
        totals[2] += 1

    for i, day in enumerate(days):
        matter = firm.matter_ids[i % len(firm.matter_ids)]
        client = firm.matter_client[matter]
        if held[matter] > 50_000 and rng.random() < 0.3:
            cents = -rng.randrange(1, held[matter] // 2)
            kind = "TRUST_DISBURSEMENT"
        else:
            cents = rng.randrange(10_000, 500_000)
            kind = "TRUST_DEPOSIT"
        held[matter] += cents
        entries.append(
            {
                "id": entry_id,
                "entry_date": day,
                "kind": kind,
                "memo": "Bench trust entry",
                "currency": "USD",
                "created_at": NOW,
                "payload_hash": f"{entry_id:064d}",
                "disbursement_id": entry_id if cents < 0 else None,
            }
        )
        common = {"entry_id": entry_id, "entry_date": day, "client_id": client, "matter_id": matter}
        rows.append({"id": posting_id, "account_id": bank_acct.pk, "amount_cents": cents, **common})
        rows.append({"id": posting_id + 1, "account_id": liab.pk, "amount_cents": -cents, **common})
        if day <= AS_OF - timedelta(days=IN_TRANSIT_DAYS):
            booked = day + timedelta(days=rng.randrange(0, 3))
            lines.append(
                {
                    "id": line_id,
                    "bank_account_id": bank.pk,
                    "statement_id": statement_of(booked).pk,
                    "booking_date": booked,
                    "amount_cents": cents,
                    "description": "Bench line",
                    "details": [],
                    "dedupe_key": f"ref:B{line_id}",
                }
            )
            matches.append(
                {
                    "line_id": line_id,
                    "posting_id": posting_id,
                    "amount_cents": cents,
                    "method": "auto",
                    "matched_at": NOW,
                }
            )
            count(booked, cents)
            line_id += 1
        posting_id += 2
        entry_id += 1
    # A few bank fees the journal never recorded.
    for k in range(max(1, n_entries // 10_000)):
        booked = AS_OF - timedelta(days=k % 28)
        lines.append(
            {
                "id": line_id,
                "bank_account_id": bank.pk,
                "statement_id": statement_of(booked).pk,
                "booking_date": booked,
                "amount_cents": -1_500,
                "description": "Service fee",
                "details": [],
                "dedupe_key": f"ref:FEE{line_id}",
            }
        )
        count(booked, -1_500)
        line_id += 1
    with transaction.atomic(), bulk_load_guards_lifted():
        copy_rows(JournalEntry, entries, with_id=True)
        copy_rows(Posting, rows, with_id=True)
        copy_rows(StatementLine, lines, with_id=True)
        copy_rows(LineMatch, matches)
        sub = []
        for matter, cents in held.items():
            client = firm.matter_client[matter]
            sub.append(
                {
                    "account_id": bank_acct.pk,
                    "client_id": client,
                    "matter_id": matter,
                    "balance_cents": cents,
                    "is_trust_liability": False,
                }
            )
            sub.append(
                {
                    "account_id": liab.pk,
                    "client_id": client,
                    "matter_id": matter,
                    "balance_cents": -cents,
                    "is_trust_liability": True,
                }
            )
        copy_rows(SubledgerBalance, sub)
        total = sum(held.values())
        AccountBalance.objects.filter(account=bank_acct).update(
            balance_cents=total, entry_count=len(rows) // 2
        )
        AccountBalance.objects.filter(account=liab).update(
            balance_cents=-total, entry_count=len(rows) // 2
        )
        balance = 0
        for end, statement in statements.items():
            credits, debits, n = moved[end]
            BankStatement.objects.filter(pk=statement.pk).update(
                opening_cents=balance,
                closing_cents=balance + credits - debits,
                credits_cents=credits,
                debits_cents=debits,
                entries=n,
            )
            balance += credits - debits
    _reset_sequences([JournalEntry, Posting, StatementLine, LineMatch, SubledgerBalance])
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
    bank.refresh_from_db()
    _sign_previous_month(bank)
    return bank


def _sign_previous_month(bank: Any) -> None:
    """The firm signs every month: the month before AS_OF is prepared and signed (through the
    services), so the timed report starts from it as a real one would."""
    from caseledger.banking.reconciliation import services as recon
    from caseledger.core.models import User

    preparer = User.objects.create(username="bench-preparer", role="BILLING")
    partner = User.objects.create(username="bench-partner", role="PARTNER")
    end = AS_OF.replace(day=1) - timedelta(days=1)
    rec = recon.reconciliation_prepare(bank_account=bank, period_end=end, actor=preparer, now=NOW)
    recon.reconciliation_sign(reconciliation=rec, actor=partner, now=NOW)


def _python_loop(bank: Any, as_of: date) -> dict[str, int]:
    """The baseline: fetch every posting, match and line row the SQL reads and compute the same
    figures in Python."""
    from caseledger.banking.models import BankStatement, LineMatch, StatementLine
    from caseledger.ledger import accounts as A
    from caseledger.ledger.models import Account, Posting

    bank_id = bank.ledger_account_id
    liab_id = Account.objects.get(code=A.CLIENT_TRUST_LIABILITY).pk
    line_dates = dict(
        StatementLine.objects.filter(bank_account=bank).values_list("id", "booking_date")
    )
    cleared: set[int] = set()
    matched_by_line: dict[int, int] = {}
    posting_dates: dict[int, date] = {}
    journal = deposits = outstanding = 0
    clients: dict[tuple[int, int], int] = {}
    postings = Posting.objects.filter(account_id__in=[bank_id, liab_id]).values_list(
        "id", "account_id", "entry_date", "amount_cents", "client_id", "matter_id"
    )
    matches = list(LineMatch.objects.values_list("posting_id", "line_id", "amount_cents"))
    match_of = {p: (line, cents) for p, line, cents in matches}
    for pid, account_id, day, cents, client, matter in postings.iterator(chunk_size=50_000):
        if day > as_of:
            continue
        if account_id == liab_id:
            clients[(client, matter)] = clients.get((client, matter), 0) - cents
            continue
        journal += cents
        posting_dates[pid] = day
        m = match_of.get(pid)
        if m is not None and line_dates[m[0]] <= as_of:
            cleared.add(pid)
            matched_by_line[m[0]] = matched_by_line.get(m[0], 0) + m[1]
        elif cents > 0:
            deposits += cents
        else:
            outstanding -= cents
    unrecorded = 0
    for line_id, cents in StatementLine.objects.filter(
        bank_account=bank, booking_date__lte=as_of
    ).values_list("id", "amount_cents"):
        unrecorded += cents - matched_by_line.get(line_id, 0)
    statement = (
        BankStatement.objects.filter(bank_account=bank, period_end__lte=as_of)
        .order_by("-period_end", "-id")
        .first()
    )
    bank_balance = int(statement.closing_cents or 0) if statement else 0
    return {
        "bank_balance_cents": bank_balance,
        "deposits_in_transit_cents": deposits,
        "outstanding_cents": outstanding,
        "adjusted_bank_cents": bank_balance + deposits - outstanding,
        "journal_cents": journal,
        "unrecorded_cents": unrecorded,
        "client_total_cents": sum(clients.values()),
        "client_ledgers": sum(1 for v in clients.values() if v),
    }


@register("reconcile")
def bench_reconcile(ctx: BenchContext) -> dict[str, Any]:
    from caseledger.banking.reconciliation.compute import reconciliation_compute

    ledgers, postings = (10_000, 1_000_000) if ctx.full else (200, 20_000)
    bank = _generate(ledgers=ledgers, postings=postings)
    reconciliation_compute(bank_account=bank, as_of=AS_OF)  # warm (plans, caches)
    latencies = []
    report = None
    for _ in range(3):
        t0 = time.perf_counter()
        report = reconciliation_compute(bank_account=bank, as_of=AS_OF)
        latencies.append(time.perf_counter() - t0)
    assert report is not None
    seconds = min(latencies)
    t0 = time.perf_counter()
    baseline = _python_loop(bank, AS_OF)
    base_seconds = time.perf_counter() - t0
    sql = {k: report.canonical[k] for k in baseline if k in report.canonical}
    sql["client_ledgers"] = len(report.clients)
    if sql != baseline:
        raise BenchFailure(f"SQL report and the Python loop disagree: {sql} != {baseline}")
    if report.journal_cents != report.client_total_cents:
        raise BenchFailure("journal and client ledgers differ")
    if report.unexplained_cents:
        raise BenchFailure(f"unexplained difference {report.unexplained_cents}")
    t0 = time.perf_counter()
    scan = reconciliation_compute(bank_account=bank, as_of=AS_OF, use_checkpoint=False)
    scan_seconds = time.perf_counter() - t0
    if scan.canonical != report.canonical:
        raise BenchFailure("the report from the signed month differs from a full scan")
    print(  # noqa: T201 - the one JSON line goes to stdout; this note to stderr
        f"reconcile: full-history scan (no signed month) {scan_seconds * 1000:.0f} ms",
        file=sys.stderr,
    )
    return result(
        ctx=ctx,
        n=postings,
        seconds=seconds,
        baseline="python_loop",
        baseline_n=postings,
        baseline_seconds=base_seconds,
        latencies_s=latencies,
    )
