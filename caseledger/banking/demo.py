"""Demo banking: the firm's IOLTA trust account and its operating account, each mapped to its
ledger bank account, with last month's CSV statement for operating (its column mapping saved as
a person would on the mapping page) imported by ``seed``.

``seed_late`` (after the trust and payments demos) imports the trust account's camt.053 drawn
from the trust journal: a line per trust bank posting a day after it (two receipts as one
deposit slip with its transactions), the last days' postings left in transit, plus the month's
IOLTA interest and a wire fee the bank charged to trust; it then runs the auto-match, so the
demo firm has matched lines and a few left to resolve (interest, the fee). Without trust
postings (banking seeded alone) it imports a generated trust statement instead.

Idempotent: ``seed`` does nothing once any bank account exists, ``seed_late`` once the trust
account has a statement."""

from __future__ import annotations

from datetime import date, timedelta

from caseledger.banking import match_services, matching, services
from caseledger.banking.models import BankAccount, StatementLine
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
    services.bank_account_create(
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


IN_TRANSIT_DAYS = 3  # trust postings of the last days are not on the statement yet


def _reference(memo: str) -> str:
    tokens = matching.reference_tokens(memo)
    return next(iter(tokens.values()), "")


def _journal_statement(trust: BankAccount, today: date) -> ParsedStatement | None:
    """The trust bank's statement as the bank would send it, from the ledger's postings."""
    from django.db.models import Sum

    from caseledger.ledger.models import Posting

    cutoff = today - timedelta(days=IN_TRANSIT_DAYS)
    postings = list(
        Posting.objects.filter(account_id=trust.ledger_account_id, entry_date__lte=cutoff)
        .select_related("entry")
        .order_by("entry_date", "id")
    )
    if not postings:
        return None
    start = postings[0].entry_date
    end = today - timedelta(days=1)
    opening = (
        Posting.objects.filter(account_id=trust.ledger_account_id, entry_date__lt=start).aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
    )
    lines: list[ParsedLine] = []
    deposits = [p for p in postings if p.amount_cents > 0]
    slip = deposits[:2] if len(deposits) >= 3 else []
    if slip:
        lines.append(
            ParsedLine(
                booking_date=min(slip[-1].entry_date + timedelta(days=1), end),
                amount_cents=sum(p.amount_cents for p in slip),
                description="Deposit slip 0007",
                bank_reference="IOLTA-SLIP-0007",
                code="PMNT/RCDT/BOOK",
                details=tuple(
                    TxDetail(
                        p.amount_cents,
                        f"IOLTA-SLIP-0007-{i}",
                        _reference(p.entry.memo),
                        "",
                        "Deposit",
                    )
                    for i, p in enumerate(slip, start=1)
                ),
            )
        )
    for n, p in enumerate(x for x in postings if x not in slip):
        lines.append(
            ParsedLine(
                booking_date=min(p.entry_date + timedelta(days=1), end),
                amount_cents=p.amount_cents,
                description=("Deposit" if p.amount_cents > 0 else "Check paid")
                + f" {_reference(p.entry.memo)}",
                bank_reference=f"IOLTA-{n + 1:04d}",
                customer_reference=_reference(p.entry.memo),
                code="PMNT/RCDT/DMCT" if p.amount_cents > 0 else "PMNT/ICHQ/CCHQ",
            )
        )
    lines.append(
        ParsedLine(
            booking_date=end,
            amount_cents=-2_500,
            description="Incoming wire fee",
            bank_reference="IOLTA-FEE-01",
            code="ACMT/MDOP/CHRG",
        )
    )
    lines.append(
        ParsedLine(
            booking_date=end,
            amount_cents=112,
            description="Interest IOLTA (remitted to the bar foundation)",
            bank_reference="IOLTA-INT-01",
            code="ACMT/MDOP/INTR",
        )
    )
    lines.sort(key=lambda x: (x.booking_date, x.bank_reference))
    return ParsedStatement(
        format="CAMT053",
        statement_id=f"IOLTA-{end:%Y-%m-%d}",
        account=TRUST_NUMBER,
        currency=trust.currency,
        period_start=start,
        period_end=end,
        opening_cents=opening,
        closing_cents=opening + sum(x.amount_cents for x in lines),
        lines=lines,
    )


def seed_late(ctx: DemoContext) -> None:
    trust = BankAccount.objects.filter(is_trust=True, name="IOLTA trust").first()
    if trust is None or StatementLine.objects.filter(bank_account=trust).exists():
        return
    billing = ctx.users.get("billing")
    statement = _journal_statement(trust, ctx.today)
    if statement is None:
        start, end = _last_month(ctx.today)
        statement = _trust_statement(start, end)
    services.statement_import(
        bank_account=trust,
        file_name=f"iolta-{statement.period_end:%Y-%m-%d}.xml",
        content=camt.write([statement], message_id=f"DEMO-{statement.period_end:%Y%m%d}"),
        actor=billing,
        now=ctx.now,
    )
    match_services.bank_account_auto_match(bank_account=trust, actor=billing, now=ctx.now)
