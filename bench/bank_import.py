"""``bank_import``: generated camt.053 statement lines imported through
``banking.services.statement_import`` (parse, every check, dedupe look-up, store, audit) vs a
baseline that only parses the same files and bulk-inserts the same lines, in the same run.
Full: 100,000 lines; quick: 5,000. The lines come in 10 files of 10 statements each; latencies
are per file. Goal (issue 16): ratio >= 0.3 on PostgreSQL.

Matching statement lines to ledger postings is not built yet; the JSON says so
(``"matching": "not built"``) rather than reporting a figure for it.
"""

from __future__ import annotations

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
    latencies = []
    for i, content in enumerate(files):
        t0 = time.perf_counter()
        services.statement_import(
            bank_account=trust, file_name=f"bench-{i}.xml", content=content, actor=None, now=NOW
        )
        latencies.append(time.perf_counter() - t0)
    lines = StatementLine.objects.filter(bank_account=trust).count()
    base_latencies = _baseline(files, operating)
    base_lines = StatementLine.objects.filter(bank_account=operating).count()
    if lines != base_lines or lines == 0:
        raise BenchFailure(f"import stored {lines} lines, the baseline {base_lines}")
    out = result(
        ctx=ctx,
        n=lines,
        seconds=sum(latencies),
        baseline="parse + bulk insert",
        baseline_n=base_lines,
        baseline_seconds=sum(base_latencies),
        latencies_s=latencies,
    )
    out["files"] = len(files)
    out["matching"] = "not built"
    return out
