"""Banking test helpers: the fixture files and bank accounts mapped to the seeded chart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from caseledger.banking import services
from caseledger.banking.models import BankAccount
from caseledger.ledger import accounts as codes
from caseledger.ledger.models import Account

FIXTURES = Path(__file__).parent / "fixtures"
TRUST_NUMBER = "4400123456"
OPERATING_NUMBER = "4400987654"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def trust_bank_account(now: datetime, actor: Any = None, **extra: Any) -> BankAccount:
    return services.bank_account_create(
        name=extra.get("name", "IOLTA trust"),
        bank_name="Example Bank",
        number=extra.get("number", TRUST_NUMBER),
        ledger_account=Account.objects.get(code=codes.TRUST_BANK),
        formats=["CAMT053", "OFX"],
        actor=actor,
        now=now,
    )


def operating_bank_account(now: datetime, actor: Any = None) -> BankAccount:
    return services.bank_account_create(
        name="Operating",
        bank_name="Example Bank",
        number=OPERATING_NUMBER,
        ledger_account=Account.objects.get(code=codes.OPERATING_BANK),
        formats=["BAI2", "MT940", "CSV"],
        actor=actor,
        now=now,
    )


def import_lines(
    bank_account: BankAccount, lines: list[Any], now: datetime, *, statement_id: str = "S1"
) -> list[Any]:
    """Import ``lines`` (ParsedLine) as one camt.053 statement into ``bank_account``; returns
    the stored StatementLine rows in file order."""
    from caseledger.banking.models import StatementLine
    from caseledger.banking.parsers import camt
    from caseledger.banking.parsers.base import ParsedStatement

    days = [line.booking_date for line in lines]
    st = ParsedStatement(
        format="CAMT053",
        statement_id=statement_id,
        account=bank_account.number,
        currency=bank_account.currency,
        period_start=min(days),
        period_end=max(days),
        opening_cents=100_000_000,
        closing_cents=100_000_000 + sum(line.amount_cents for line in lines),
        lines=lines,
    )
    before = set(
        StatementLine.objects.filter(bank_account=bank_account).values_list("id", flat=True)
    )
    services.statement_import(
        bank_account=bank_account,
        file_name=f"{statement_id}.xml",
        content=camt.write([st], message_id=statement_id),
        actor=None,
        now=now,
    )
    return list(
        StatementLine.objects.filter(bank_account=bank_account)
        .exclude(pk__in=before)
        .order_by("id")
    )


def operating_posting(amount_cents: int, day: Any, memo: str, now: datetime) -> Any:
    """One entry moving the operating bank by ``amount_cents`` (+ in from equity, - out to
    refunds); returns its operating bank posting."""
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    other = codes.EQUITY if amount_cents > 0 else codes.REFUNDS
    entry = entry_post(
        kind=EntryKind.ADJUSTMENT,
        entry_date=day,
        memo=memo,
        lines=[
            PostingLine(codes.OPERATING_BANK, amount_cents),
            PostingLine(other, -amount_cents),
        ],
        actor=None,
        now=now,
    )
    return entry.postings.get(account__code=codes.OPERATING_BANK)
