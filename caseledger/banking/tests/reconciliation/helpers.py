"""Reconciliation test data: statements imported through the importer (camt.053), postings
through the ledger service, and matches made directly as LineMatch rows (matching itself is
the match helper's; reconciliation only reads the rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from caseledger.banking import services
from caseledger.banking.models import BankAccount, LineMatch, StatementLine
from caseledger.banking.parsers import camt
from caseledger.banking.parsers.base import ParsedLine, ParsedStatement
from caseledger.banking.tests.factories import TRUST_NUMBER, trust_bank_account
from caseledger.ledger.models import JournalEntry, Posting
from caseledger.ledger.tests.factories import Disbursement, make_client, make_matter
from caseledger.ledger.tests.helpers import deposit, disburse

NOW = datetime(2026, 2, 15, 15, tzinfo=UTC)  # January is over, February open
JAN_START, JAN_END = date(2026, 1, 1), date(2026, 1, 31)

_disbursements = {"n": 0}


def approved() -> Disbursement:
    _disbursements["n"] += 1
    return Disbursement(900_000 + _disbursements["n"], True)


def import_statement(
    bank_account: BankAccount,
    start: date,
    end: date,
    lines: list[tuple[date, int, str, str]],
    opening: int = 0,
    number: str = TRUST_NUMBER,
    now: datetime = NOW,
) -> dict[str, StatementLine]:
    """Import one camt.053 statement; ``lines`` are (date, cents, description, reference).
    Returns the stored lines by reference."""
    parsed = [
        ParsedLine(booking_date=d, amount_cents=c, description=text, bank_reference=ref)
        for d, c, text, ref in lines
    ]
    statement = ParsedStatement(
        format="CAMT053",
        statement_id=f"S-{end.isoformat()}",
        account=number,
        currency="USD",
        period_start=start,
        period_end=end,
        opening_cents=opening,
        closing_cents=opening + sum(c for _d, c, _t, _r in lines),
        lines=parsed,
    )
    services.statement_import(
        bank_account=bank_account,
        file_name=f"{end.isoformat()}.xml",
        content=camt.write([statement], message_id=f"M-{end.isoformat()}"),
        actor=None,
        now=now,
    )
    refs = [r for _d, _c, _t, r in lines]
    return {
        line.bank_reference: line
        for line in StatementLine.objects.filter(bank_account=bank_account, bank_reference__in=refs)
    }


def bank_posting(entry: JournalEntry, bank_account: BankAccount) -> Posting:
    return entry.postings.get(account=bank_account.ledger_account)


def match(line: StatementLine, posting: Posting, now: datetime = NOW) -> LineMatch:
    return LineMatch.objects.create(
        line=line,
        posting=posting,
        amount_cents=posting.amount_cents,
        method="manual",
        reason="test",
        matched_at=now,
    )


@dataclass
class January:
    bank: BankAccount
    a: Any
    b: Any
    c: Any
    lines: dict[str, StatementLine]
    entries: dict[str, JournalEntry]


def january(now: datetime = NOW) -> January:
    """The hand-built month (cents):

    - A: deposit 500,000 on Jan 5, cleared Jan 6 (matched); check 46,000 on Jan 20, not
      cleared (outstanding);
    - B: deposit 300,000 on Jan 28, not on the statement (in transit);
    - C: deposit 100,000 on Feb 10, and a disbursement of 40,000 dated Jan 15 (cleared Jan 16,
      matched): C's ledger is -40,000 at Jan 31, listed first;
    - the bank took a 2,500 fee on Jan 31 that the journal never recorded.

    Journal at Jan 31: 500,000 + 300,000 - 46,000 - 40,000 = 714,000 = the client ledgers
    (454,000 + 300,000 - 40,000). Statement: 500,000 - 40,000 - 2,500 = 457,500; adjusted:
    457,500 + 300,000 - 46,000 = 711,500; the 2,500 difference is the fee.
    """
    bank = trust_bank_account(now)
    a, b, c = make_matter(), make_matter(), make_matter()
    entries = {
        "a_dep": deposit(matter=a, cents=500_000, now=now, day=date(2026, 1, 5)),
        "b_dep": deposit(matter=b, cents=300_000, now=now, day=date(2026, 1, 28)),
        "c_dep": deposit(matter=c, cents=100_000, now=now, day=date(2026, 2, 10)),
    }
    entries["a_chk"] = disburse(
        matter=a, cents=46_000, now=now, day=date(2026, 1, 20), disbursement=approved()
    )
    entries["c_dis"] = disburse(
        matter=c, cents=40_000, now=now, day=date(2026, 1, 15), disbursement=approved()
    )
    lines = import_statement(
        bank,
        JAN_START,
        JAN_END,
        [
            (date(2026, 1, 6), 500_000, "Retainer wire", "L-A"),
            (date(2026, 1, 16), -40_000, "Wire out", "L-C"),
            (date(2026, 1, 31), -2_500, "Monthly service fee", "L-FEE"),
        ],
    )
    match(lines["L-A"], bank_posting(entries["a_dep"], bank))
    match(lines["L-C"], bank_posting(entries["c_dis"], bank))
    return January(bank=bank, a=a, b=b, c=c, lines=lines, entries=entries)


__all__ = ["make_client"]
