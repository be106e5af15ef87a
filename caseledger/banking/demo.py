"""Demo banking: the firm's IOLTA trust account and its operating account, each mapped to its
ledger bank account, with last month's statements imported: a camt.053 for trust (deposits, a
batch deposit slip, filing-fee checks, an earned-fee transfer, interest) and a CSV export for
operating, whose column mapping is saved as a person would on the mapping page.

Idempotent: does nothing once any bank account exists. The statements are generated, not
drawn from the demo's trust journal (banking is seeded before trust); the demo data that
reconciles with the journal comes with matching."""

from __future__ import annotations

from datetime import date, timedelta

from caseledger.banking import services
from caseledger.banking.models import BankAccount
from caseledger.banking.parsers import camt, csvfile
from caseledger.banking.parsers.base import ParsedLine, ParsedStatement, TxDetail
from caseledger.core.demo_context import DemoContext
from caseledger.ledger import accounts as codes
from caseledger.ledger.models import Account

TRUST_NUMBER = "4400123456"
OPERATING_NUMBER = "4400987654"
OPERATING_MAPPING = csvfile.CsvMapping(
    header=["Posting Date", "Description", "Amount", "Running Balance", "Reference"],
    date="Posting Date",
    date_format="%m/%d/%Y",
    amount="Amount",
    description="Description",
    reference="Reference",
    balance="Running Balance",
)


def _last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _trust_statement(start: date, end: date) -> ParsedStatement:
    day = start
    lines = [
        ParsedLine(
            booking_date=day + timedelta(days=2),
            amount_cents=500_000,
            description="Retainer wire",
            bank_reference="IOLTA-0001",
            customer_reference="TR-000001",
            counterparty="Northwind Traders Inc.",
            code="PMNT/RCDT/DMCT",
        ),
        ParsedLine(
            booking_date=day + timedelta(days=6),
            amount_cents=450_000,
            description="Deposit slip 0007",
            bank_reference="IOLTA-0002",
            code="PMNT/RCDT/BOOK",
            details=(
                TxDetail(250_000, "IOLTA-0002-1", "CHK 3301", "Maria Lopez", "Retainer"),
                TxDetail(200_000, "IOLTA-0002-2", "CHK 8812", "Chen Wei", "Retainer"),
            ),
        ),
        ParsedLine(
            booking_date=day + timedelta(days=9),
            amount_cents=-46_000,
            description="Check 1042 I-129 filing fee",
            bank_reference="IOLTA-0003",
            customer_reference="CHK-1042",
            counterparty="U.S. Citizenship and Immigration Services",
            code="PMNT/ICHQ/CCHQ",
        ),
        ParsedLine(
            booking_date=day + timedelta(days=15),
            amount_cents=-180_000,
            description="Transfer to operating: earned fees",
            bank_reference="IOLTA-0004",
            code="PMNT/ICDT/BOOK",
        ),
        ParsedLine(
            booking_date=end,
            amount_cents=112,
            description="Interest IOLTA (remitted to the bar foundation)",
            code="ACMT/MDOP/INTR",
        ),
    ]
    opening = 1_250_000
    return ParsedStatement(
        format="CAMT053",
        statement_id=f"IOLTA-{end:%Y-%m}",
        account=TRUST_NUMBER,
        currency="USD",
        period_start=start,
        period_end=end,
        opening_cents=opening,
        closing_cents=opening + sum(x.amount_cents for x in lines),
        lines=lines,
    )


def _operating_statement(start: date, end: date) -> ParsedStatement:
    lines = [
        ParsedLine(start + timedelta(days=3), 380_000, "STRIPE PAYOUT", "OP-0001"),
        ParsedLine(start + timedelta(days=5), -450_000, "Rent LANDLORD LLC", "OP-0002"),
        ParsedLine(start + timedelta(days=15), 180_000, "FROM IOLTA earned fees", "OP-0003"),
        ParsedLine(start + timedelta(days=20), -12_950, "Payroll service fee", "OP-0004"),
        ParsedLine(end, -1_500, "SERVICE FEE", ""),
    ]
    opening = 2_400_000
    balance = opening
    with_balance = []
    for line in lines:
        balance += line.amount_cents
        with_balance.append(
            ParsedLine(
                booking_date=line.booking_date,
                amount_cents=line.amount_cents,
                description=line.description,
                bank_reference=line.bank_reference,
                balance_after_cents=balance,
            )
        )
    return ParsedStatement(
        format="CSV",
        statement_id="",
        account="",
        currency="USD",
        period_start=start,
        period_end=end,
        opening_cents=opening,
        closing_cents=balance,
        lines=with_balance,
    )


def seed(ctx: DemoContext) -> None:
    if BankAccount.objects.exists():
        return
    admin = ctx.users.get("admin")
    billing = ctx.users.get("billing")
    trust = services.bank_account_create(
        name="IOLTA trust",
        bank_name="Pacific Coast Bank",
        number=TRUST_NUMBER,
        ledger_account=Account.objects.get(code=codes.TRUST_BANK),
        formats=["CAMT053"],
        actor=admin,
        now=ctx.now,
    )
    operating = services.bank_account_create(
        name="Operating",
        bank_name="Pacific Coast Bank",
        number=OPERATING_NUMBER,
        ledger_account=Account.objects.get(code=codes.OPERATING_BANK),
        formats=["CSV", "OFX"],
        actor=admin,
        now=ctx.now,
    )
    start, end = _last_month(ctx.today)
    services.statement_import(
        bank_account=trust,
        file_name=f"iolta-{end:%Y-%m}.xml",
        content=camt.write([_trust_statement(start, end)], message_id=f"DEMO-{end:%Y%m}"),
        actor=billing,
        now=ctx.now,
    )
    services.statement_import(
        bank_account=operating,
        file_name=f"operating-{end:%Y-%m}.csv",
        content=csvfile.write(_operating_statement(start, end), OPERATING_MAPPING),
        actor=billing,
        now=ctx.now,
        csv_mapping=OPERATING_MAPPING,
    )
    services.bank_account_csv_mapping_save(
        bank_account=operating, mapping=OPERATING_MAPPING, actor=billing, now=ctx.now
    )
