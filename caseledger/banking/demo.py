"""Demo banking: the firm's IOLTA trust account and its operating account, each mapped to its
ledger bank account, with last month's statements imported: a camt.053 for trust (deposits, a
batch deposit slip, filing-fee checks, an earned-fee transfer, interest) and a CSV export for
operating, whose column mapping is saved as a person would on the mapping page.

Idempotent: does nothing once any bank account exists. The operating statement is generated,
not drawn from the journal. The trust account's statements are made after every app has seeded
(``seed_late``): one per month of the demo trust journal, each bank posting cleared two
days later (the first two receipts of the first month on one deposit slip listing both), last
month with a bank fee and interest the journal has not recorded; the lines are matched to their
postings by the matching engine's auto-match (the fee and the interest are left to resolve on
the workbench), every month before last is prepared by billing and signed by a partner, and last
month is prepared and waits for review."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from caseledger.banking import match_services, matching, services
from caseledger.banking.models import BankAccount
from caseledger.banking.parsers import camt, csvfile
from caseledger.banking.parsers.base import ParsedLine, ParsedStatement, TxDetail
from caseledger.core import clock
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
    del trust  # its statements come from the trust journal, after every app (seed_late)
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


def _reference(memo: str) -> str:
    """The receipt, check or transfer number in an entry's memo, as a bank would print it."""
    tokens = matching.reference_tokens(memo)
    return next(iter(tokens.values()), "")


def _slip(postings: list[Any], booked: date) -> ParsedLine:
    """One deposit slip for several receipts, listing each (matched one line to many)."""
    return ParsedLine(
        booking_date=booked,
        amount_cents=sum(p.amount_cents for p in postings),
        description="Deposit slip 0007",
        bank_reference="IOLTA-SLIP-0007",
        code="PMNT/RCDT/BOOK",
        details=tuple(
            TxDetail(
                p.amount_cents, f"IOLTA-SLIP-0007-{i}", _reference(p.entry.memo), "", "Deposit"
            )
            for i, p in enumerate(postings, start=1)
        ),
    )


# The trust reconciliations' history: prepared this many days after the month's end, signed
# this many days after preparing (before go-live, after it).
PREPARE_AFTER_DAYS = 3
SIGN_AFTER_DAYS = {True: 4, False: 1}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.firm_zone())


def seed_late(ctx: DemoContext) -> None:
    from caseledger.banking.models import Reconciliation
    from caseledger.banking.reconciliation import services as recon
    from caseledger.banking.reconciliation.services import month_bounds
    from caseledger.ledger.models import Posting

    trust = BankAccount.objects.filter(ledger_account__code=codes.TRUST_BANK).first()
    if trust is None or Reconciliation.objects.filter(bank_account=trust).exists():
        return
    if trust.statements.exists():
        return
    postings = list(
        Posting.objects.filter(account=trust.ledger_account)
        .select_related("entry")
        .order_by("entry_date", "id")
    )
    last_start, last_end = _last_month(ctx.today)
    if not postings or postings[0].entry_date > last_end:
        return
    months: dict[date, list[ParsedLine]] = {}
    end = month_bounds(postings[0].entry_date)[1]
    while end <= last_end:
        months[end] = []
        end = month_bounds(end + timedelta(days=1))[1]
    # One deposit slip: the first two receipts in a row that the bank books in one month.
    receipts = [p for p in postings if p.amount_cents > 0]
    slip = next(
        (
            [first, second]
            for first, second in zip(receipts, receipts[1:], strict=False)
            if month_bounds(first.entry_date) == month_bounds(second.entry_date + timedelta(2))
            and second.entry_date + timedelta(days=2) <= last_end
        ),
        [],
    )
    if len(receipts) >= 3 and slip:
        booked = slip[1].entry_date + timedelta(days=2)
        months[month_bounds(booked)[1]].append(_slip(slip, booked))
    else:
        slip = []
    for posting in postings:
        booked = posting.entry_date + timedelta(days=2)
        if posting in slip or booked > last_end:
            continue  # on the slip, or not at the bank yet on last month's statement: in transit
        months[month_bounds(booked)[1]].append(
            ParsedLine(
                booking_date=booked,
                amount_cents=posting.amount_cents,
                description=(posting.entry.memo or posting.entry.get_kind_display())[:140],
                bank_reference=f"IOLTA-{posting.pk:06d}",
                customer_reference=_reference(posting.entry.memo),
                code="PMNT/RCDT/DMCT" if posting.amount_cents > 0 else "PMNT/ICDT/DMCT",
            )
        )
    months[last_end] += [
        ParsedLine(
            booking_date=last_end,
            amount_cents=-1_500,
            description="Monthly account service fee",
            bank_reference=f"IOLTA-FEE-{last_end:%Y%m}",
            code="ACMT/MDOP/CHRG",
        ),
        ParsedLine(
            booking_date=last_end,
            amount_cents=112,
            description="Interest IOLTA (remitted to the bar foundation)",
            bank_reference=f"IOLTA-INT-{last_end:%Y%m}",
            code="ACMT/MDOP/INTR",
        ),
    ]
    billing = ctx.users.get("billing")
    partner = ctx.users.get("partner")
    opening = 0
    for end, lines in months.items():
        if not lines:
            continue
        closing = opening + sum(x.amount_cents for x in lines)
        statement = ParsedStatement(
            format="CAMT053",
            statement_id=f"IOLTA-{end:%Y-%m}",
            account=TRUST_NUMBER,
            currency=trust.currency,
            period_start=end.replace(day=1),
            period_end=end,
            opening_cents=opening,
            closing_cents=closing,
            lines=lines,
        )
        services.statement_import(
            bank_account=trust,
            file_name=f"iolta-{end:%Y-%m}.xml",
            content=camt.write([statement], message_id=f"DEMO-{end:%Y%m}"),
            actor=billing,
            now=ctx.now,
        )
        opening = closing
    match_services.bank_account_auto_match(bank_account=trust, actor=billing, now=ctx.now)
    if billing is None or partner is None:
        return
    for end in months:
        if not trust.statements.filter(period_end__lte=end).exists():
            continue
        # Prepared when the statement is in, a few days after the month; signed by the partner
        # days later before go-live, the next day after it (the dashboards' prepare-to-sign).
        prepared = min(_at(end + timedelta(days=PREPARE_AFTER_DAYS), 10), ctx.now)
        rec = recon.reconciliation_prepare(
            bank_account=trust, period_end=end, actor=billing, now=prepared
        )
        if end < last_start:
            days = SIGN_AFTER_DAYS[ctx.before_go_live(end)]
            signed = min(_at(prepared.date() + timedelta(days=days), 15), ctx.now)
            recon.reconciliation_sign(reconciliation=rec, actor=partner, now=signed)
