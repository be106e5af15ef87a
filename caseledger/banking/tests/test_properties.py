"""Properties: parse(write(statement)) gives the statement back (camt.053 in every version,
CSV in every layout), and importing is idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.banking import services
from caseledger.banking.exceptions import StatementRefused
from caseledger.banking.models import BankAccount, BankStatement, StatementImport, StatementLine
from caseledger.banking.parsers import camt, csvfile, parse_file
from caseledger.banking.parsers.base import ParsedLine, ParsedStatement, TxDetail
from caseledger.banking.tests.factories import trust_bank_account

START = date(2026, 1, 1)
TEXT = st.from_regex(r"[A-Za-z0-9&<>'][A-Za-z0-9 &<>'.,:;/-]{0,28}[A-Za-z0-9.]", fullmatch=True)
CODES = st.sampled_from(["PMNT/RCDT/DMCT", "PMNT/ICDT/BOOK", "ACMT/MDOP/INTR", "PMNT/ICHQ/CCHQ"])
AMOUNTS = st.integers(min_value=1, max_value=10**9)


@st.composite
def batch_details(draw: st.DrawFn, total: int) -> tuple[TxDetail, ...]:
    n = draw(st.integers(min_value=2, max_value=4))
    if abs(total) < n:
        return ()
    cuts = sorted(
        draw(st.lists(st.integers(1, abs(total) - 1), min_size=n - 1, max_size=n - 1, unique=True))
    )
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, abs(total)], strict=True)]
    sign = -1 if total < 0 else 1
    return tuple(
        TxDetail(
            amount_cents=sign * p,
            bank_reference=f"TX-{i}",
            customer_reference=f"E2E-{i}",
            counterparty=draw(TEXT),
            description=draw(TEXT),
        )
        for i, p in enumerate(parts)
    )


@st.composite
def camt_lines(draw: st.DrawFn, n_days: int) -> list[ParsedLine]:
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=12))):
        amount = draw(AMOUNTS) * draw(st.sampled_from([1, -1]))
        day = START + timedelta(days=draw(st.integers(0, n_days)))
        details = draw(batch_details(amount)) if draw(st.booleans()) else ()
        out.append(
            ParsedLine(
                booking_date=day,
                value_date=draw(st.none() | st.just(day + timedelta(days=1))),
                amount_cents=amount,
                description=draw(TEXT),
                bank_reference=draw(st.sampled_from(["", f"REF-{i}"])),
                customer_reference="" if details else draw(st.sampled_from(["", f"E2E-{i}"])),
                counterparty="" if details else draw(st.sampled_from(["", "Acme & Sons <LLC>"])),
                code=draw(CODES),
                details=details,
            )
        )
    return out


@st.composite
def camt_statements(draw: st.DrawFn) -> ParsedStatement:
    n_days = draw(st.integers(0, 30))
    lines = draw(camt_lines(n_days))
    opening = draw(st.integers(-(10**9), 10**9))
    return ParsedStatement(
        format="CAMT053",
        statement_id=draw(st.from_regex(r"[A-Z0-9-]{1,20}", fullmatch=True)),
        account=draw(st.sampled_from(["4400123456", "DE89370400440532013000"])),
        currency="USD",
        period_start=START,
        period_end=START + timedelta(days=n_days),
        opening_cents=opening,
        closing_cents=opening + sum(x.amount_cents for x in lines),
        lines=lines,
    )


@settings(max_examples=60, deadline=None)
@given(
    statements=st.lists(camt_statements(), min_size=1, max_size=3),
    version=st.sampled_from(sorted(camt.SUPPORTED_VERSIONS)),
)
def test_camt053_round_trip(statements: list[ParsedStatement], version: str) -> None:
    content = camt.write(statements, version=version)
    fmt, parsed = parse_file(content)
    assert fmt == "CAMT053"
    for got, want in zip(parsed, statements, strict=True):
        assert all(c.stated == c.found for c in got.controls)
        got.controls = []
        assert got == want


CSV_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%y", "%Y%m%d", "%d %b %Y"]


@st.composite
def csv_cases(draw: st.DrawFn) -> tuple[ParsedStatement, csvfile.CsvMapping, str]:
    signed = draw(st.booleans())
    with_balance = draw(st.booleans())
    header = ["Date", "Text", "Ref"]
    header += ["Amount"] if signed else ["Debit", "Credit"]
    if with_balance:
        header.append("Balance")
    header = draw(st.permutations(header))
    mapping = csvfile.CsvMapping(
        header=list(header),
        date="Date",
        date_format=draw(st.sampled_from(CSV_FORMATS)),
        amount="Amount" if signed else "",
        debit="" if signed else "Debit",
        credit="" if signed else "Credit",
        description="Text",
        reference="Ref",
        balance="Balance" if with_balance else "",
        decimal_comma=draw(st.booleans()),
    )
    text = st.from_regex(r"[A-Za-zéüÄ0-9][A-Za-zéüÄ0-9 ,;\"'.-]{0,20}[A-Za-z0-9]", fullmatch=True)
    days = sorted(draw(st.lists(st.integers(0, 300), min_size=1, max_size=15)))
    opening = draw(st.integers(-(10**8), 10**8))
    lines = []
    balance = opening
    for i, d in enumerate(days):
        amount = draw(AMOUNTS) * draw(st.sampled_from([1, -1]))
        balance += amount
        lines.append(
            ParsedLine(
                booking_date=START + timedelta(days=d),
                amount_cents=amount,
                description=draw(text),
                bank_reference=draw(st.sampled_from(["", f"R{i}"])),
                balance_after_cents=balance if with_balance else None,
            )
        )
    statement = ParsedStatement(
        format="CSV",
        statement_id="",
        account="",
        currency="USD",
        period_start=lines[0].booking_date,
        period_end=lines[-1].booking_date,
        opening_cents=opening if with_balance else None,
        closing_cents=balance if with_balance else None,
        lines=lines,
        opening_stated=with_balance,
    )
    return statement, mapping, draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))


@settings(max_examples=80, deadline=None)
@given(case=csv_cases())
def test_csv_round_trip(case: tuple[ParsedStatement, csvfile.CsvMapping, str]) -> None:
    statement, mapping, encoding = case
    content = csvfile.write(statement, mapping, encoding=encoding)
    fmt, [parsed] = parse_file(content, csv_mapping=mapping, currency="USD")
    assert fmt == "CSV"
    assert parsed == statement


def _clean() -> None:
    StatementLine.objects.all().delete()
    BankStatement.objects.all().delete()
    StatementImport.objects.all().delete()
    BankAccount.objects.all().delete()


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(statements=st.lists(camt_statements(), min_size=1, max_size=3))
def test_import_is_idempotent(statements: list[ParsedStatement]) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for s in statements:
        s.account = "4400123456"
    account = trust_bank_account(now)
    try:
        content = camt.write(statements, message_id="M-1")
        first = services.statement_import(
            bank_account=account, file_name="a.xml", content=content, actor=None, now=now
        ).statement_import
        lines = StatementLine.objects.count()
        assert first.lines_added == lines
        # The same file again: refused, nothing added.
        with pytest.raises(StatementRefused):
            services.statement_import(
                bank_account=account, file_name="a.xml", content=content, actor=None, now=now
            )
        # The same statements in another file (another message id): nothing new.
        again = services.statement_import(
            bank_account=account,
            file_name="b.xml",
            content=camt.write(statements, message_id="M-2"),
            actor=None,
            now=now,
        ).statement_import
        assert (again.lines_added, again.statements_count) == (0, 0)
        assert StatementLine.objects.count() == lines
        assert again.lines_already_imported == sum(len(s.lines) for s in statements)
    finally:
        _clean()
