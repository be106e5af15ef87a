"""``bank_import``: generated camt.053 statement lines imported through
``banking.services.statement_import`` (parse, every check, dedupe look-up, store, audit) vs a
baseline that only parses the same files and bulk-inserts the same lines, in the same run.
Full: 100,000 lines; quick: 5,000. The lines come in 10 files of 10 statements each; latencies
are per file. Goal (issue 16): ratio >= 0.3 on PostgreSQL.

Matching: the same run then auto-matches the imported lines
(``banking.match_services.bank_account_auto_match``: load, suggest, lock, insert, audit) against
generated ledger postings on the trust bank's ledger account, one per line and one per batch
transaction (written as rows directly, like the baseline's lines; each entry balanced against
equity). ``seconds`` and ``rate`` cover parse + store + match; ``match_s`` is the matching alone.
Growth: matching also runs on a second account holding a tenth of the lines and postings;
``match_growth`` = (match_s / match_small_s) / (n log n / m log m): 1.0 is n log n, below is
better, 10/log-ratio would be quadratic.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.registry import BenchContext, register, result

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
FILES = 10
STATEMENTS_PER_FILE = 10


class BenchFailure(RuntimeError):
    pass


def _files(n: int, number: str) -> list[bytes]:
    """camt.053.001.08 files of consecutive daily statements; every line has its own
    AcctSvcrRef, one in four is a batch of two transactions."""
    from caseledger.banking.parsers import camt
    from caseledger.banking.parsers.base import ParsedLine, ParsedStatement, TxDetail

    per_statement = max(1, n // (FILES * STATEMENTS_PER_FILE))
    balance = 1_000_000
    out = []
    seq = 0
    day = date(2026, 1, 1)
    for f in range(FILES):
        statements = []
        for _ in range(STATEMENTS_PER_FILE):
            lines = []
            for _ in range(per_statement):
                seq += 1
                amount = (seq * 7919) % 500_000 + 100
                amount = amount if seq % 3 else -amount // 4
                details: tuple[TxDetail, ...] = ()
                if seq % 4 == 0 and abs(amount) > 1:
                    half = amount // 2
                    details = (
                        TxDetail(half, f"T{seq}a", f"INV-{seq}a", "Client A", ""),
                        TxDetail(amount - half, f"T{seq}b", f"INV-{seq}b", "Client B", ""),
                    )
                lines.append(
                    ParsedLine(
                        booking_date=day,
                        amount_cents=amount,
                        description=f"Payment {seq}",
                        bank_reference=f"BR{seq:09d}",
                        customer_reference="" if details else f"E2E-{seq}",
                        counterparty="" if details else "Client",
                        code="PMNT/RCDT/DMCT",
                        details=details,
                    )
                )
            opening = balance
            balance += sum(x.amount_cents for x in lines)
            statements.append(
                ParsedStatement(
                    format="CAMT053",
                    statement_id=f"S{day.isoformat()}",
                    account=number,
                    currency="USD",
                    period_start=day,
                    period_end=day,
                    opening_cents=opening,
                    closing_cents=balance,
                    lines=lines,
                )
            )
            day += timedelta(days=1)
        out.append(camt.write(statements, message_id=f"BENCH-{f}"))
    return out


def _postings(files: list[bytes], ledger_account: Any) -> int:
    """Ledger entries behind the lines of ``files``: per line (or per batch transaction) one
    entry of the trust bank posting, with the line's reference in its memo, and its equity
    counterpart. Returns how many bank postings."""
    from django.db import transaction

    from caseledger.banking.parsers import camt
    from caseledger.ledger import accounts as codes
    from caseledger.ledger.models import Account, JournalEntry, Posting

    equity = Account.objects.get(code=codes.EQUITY)
    wanted: list[tuple[date, int, str]] = []
    for content in files:
        for st in camt.parse(content):
            for line in st.lines:
                if line.details:
                    for d in line.details:
                        wanted.append(
                            (line.booking_date, d.amount_cents or 0, d.customer_reference)
                        )
                else:
                    wanted.append((line.booking_date, line.amount_cents, line.customer_reference))
    from bench.receivables import bulk_load_guards_lifted

    with transaction.atomic(), bulk_load_guards_lifted():
        for i in range(0, len(wanted), 5000):
            chunk = wanted[i : i + 5000]
            entries = JournalEntry.objects.bulk_create(
                [
                    JournalEntry(
                        entry_date=day - timedelta(days=k % 3),
                        kind="ADJUSTMENT",
                        memo=f"Receipt {ref}",
                        currency="USD",
                        created_at=NOW,
                        payload_hash="bench",
                    )
                    for k, (day, _amount, ref) in enumerate(chunk)
                ]
            )
            rows = []
            for entry, (_day, amount, _ref) in zip(entries, chunk, strict=True):
                rows.append(
                    Posting(
                        entry=entry,
                        account=ledger_account,
                        amount_cents=amount,
                        entry_date=entry.entry_date,
                    )
                )
                rows.append(
                    Posting(
                        entry=entry,
                        account=equity,
                        amount_cents=-amount,
                        entry_date=entry.entry_date,
                    )
                )
            Posting.objects.bulk_create(rows, batch_size=5000)
    return len(wanted)


def _match(account: Any) -> tuple[float, int]:
    from caseledger.banking import match_services

    t0 = time.perf_counter()
    result = match_services.bank_account_auto_match(bank_account=account, actor=None, now=NOW)
    return time.perf_counter() - t0, result.accepted


def _baseline(files: list[bytes], account: Any) -> list[float]:
    """Parse alone, then one bulk insert of the same lines (no checks, no dedupe, no audit)."""
    from django.db import transaction

    from caseledger.banking.choices import ImportStatus
    from caseledger.banking.models import BankStatement, StatementImport, StatementLine
    from caseledger.banking.parsers import camt
    from caseledger.banking.services import INSERT_BATCH

    latencies = []
    for i, content in enumerate(files):
        t0 = time.perf_counter()
        statements = camt.parse(content)
        with transaction.atomic():
            imp = StatementImport.objects.create(
                bank_account=account,
                file_name=f"baseline-{i}.xml",
                file_sha256=f"{i:064d}",
                format="CAMT053",
                status=ImportStatus.RUNNING,
                created_at=NOW,
            )
            rows = []
            for st in statements:
                statement = BankStatement.objects.create(
                    statement_import=imp,
                    bank_account=account,
                    format=st.format,
                    statement_id=st.statement_id,
                    currency=st.currency,
                    period_start=st.period_start,
                    period_end=st.period_end,
                    opening_cents=st.opening_cents,
                    closing_cents=st.closing_cents,
                    credits_cents=st.credits_cents,
                    debits_cents=st.debits_cents,
                    entries=len(st.lines),
                    opening_stated=True,
                    created_at=NOW,
                )
                rows += [
                    StatementLine(
                        bank_account=account,
                        statement=statement,
                        booking_date=line.booking_date,
                        amount_cents=line.amount_cents,
                        description=line.description,
                        bank_reference=line.bank_reference,
                        dedupe_key=f"ref:{line.bank_reference}",
                    )
                    for line in st.lines
                ]
            StatementLine.objects.bulk_create(rows, batch_size=INSERT_BATCH)
        latencies.append(time.perf_counter() - t0)
    return latencies


@register("bank_import")
def bench_bank_import(ctx: BenchContext) -> dict[str, Any]:
    from caseledger.banking import services
    from caseledger.banking.models import StatementLine
    from caseledger.ledger import accounts as codes
    from caseledger.ledger.models import Account

    n = 100_000 if ctx.full else 5_000
    trust = services.bank_account_create(
        name="Bench trust",
        bank_name="Bench bank",
        number="4400123456",
        ledger_account=Account.objects.get(code=codes.TRUST_BANK),
        formats=["CAMT053"],
        actor=None,
        now=NOW,
    )
    operating = services.bank_account_create(
        name="Bench operating",
        bank_name="Bench bank",
        number="4400987654",
        ledger_account=Account.objects.get(code=codes.OPERATING_BANK),
        formats=["CAMT053"],
        actor=None,
        now=NOW,
    )
    files = _files(n, "4400123456")
    postings = _postings(files, trust.ledger_account)
    latencies = []
    for i, content in enumerate(files):
        t0 = time.perf_counter()
        services.statement_import(
            bank_account=trust, file_name=f"bench-{i}.xml", content=content, actor=None, now=NOW
        )
        latencies.append(time.perf_counter() - t0)
    lines = StatementLine.objects.filter(bank_account=trust).count()
    match_s, matched = _match(trust)
    if matched != lines:
        raise BenchFailure(f"auto-match matched {matched} of {lines} lines")

    # The same at a tenth of the size, on a second trust account, for the growth figure.
    from caseledger.ledger.services import account_trust_bank_create

    small_ledger = account_trust_bank_create(name="Bench trust small", actor=None, now=NOW)
    small = services.bank_account_create(
        name="Bench trust small",
        bank_name="Bench bank",
        number="4400555555",
        ledger_account=small_ledger,
        formats=["CAMT053"],
        actor=None,
        now=NOW,
    )
    small_files = _files(n // 10, "4400555555")
    _postings(small_files, small_ledger)
    for i, content in enumerate(small_files):
        services.statement_import(
            bank_account=small, file_name=f"small-{i}.xml", content=content, actor=None, now=NOW
        )
    small_lines = StatementLine.objects.filter(bank_account=small).count()
    match_small_s, small_matched = _match(small)
    if small_matched != small_lines:
        raise BenchFailure(f"auto-match matched {small_matched} of {small_lines} small lines")
    base_latencies = _baseline(files, operating)
    base_lines = StatementLine.objects.filter(bank_account=operating).count()
    if lines != base_lines or lines == 0:
        raise BenchFailure(f"import stored {lines} lines, the baseline {base_lines}")
    out = result(
        ctx=ctx,
        n=lines,
        seconds=sum(latencies) + match_s,
        baseline="parse + bulk insert",
        baseline_n=base_lines,
        baseline_seconds=sum(base_latencies),
        latencies_s=latencies,
    )
    out["files"] = len(files)
    out["import_s"] = round(sum(latencies), 3)
    out["postings"] = postings
    out["matched_lines"] = matched
    out["match_s"] = round(match_s, 3)
    out["match_small_n"] = small_lines
    out["match_small_s"] = round(match_small_s, 3)
    nlogn = (lines * math.log(lines)) / (small_lines * math.log(small_lines))
    out["match_growth"] = round((match_s / match_small_s) / nlogn, 3) if match_small_s else 0.0
    return out
