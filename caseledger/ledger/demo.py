"""Demo ledger: the firm's opening position (owners' equity into the operating bank). Later apps
post the real activity (retainers, invoices, payments) through their services.

Idempotent: the opening entry carries an idempotency key, so a rerun returns it unchanged.
"""

from __future__ import annotations

from datetime import date

from caseledger.core.demo_context import DemoContext
from caseledger.ledger import accounts as A
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, chart_ensure, entry_post

OPENING_OPERATING_CENTS = 85_000_00  # $85,000.00 in the operating account


OPENING_KEY = "demo:ledger:opening-balance"


def seed(ctx: DemoContext) -> None:
    chart_ensure(now=ctx.now)
    if JournalEntry.objects.filter(idempotency_key=OPENING_KEY).exists():
        return
    entry_post(
        kind=EntryKind.OPENING_BALANCE,
        entry_date=date(ctx.today.year, 1, 1),
        memo="Opening balance: owners' capital in the operating account",
        lines=[
            PostingLine(A.OPERATING_BANK, OPENING_OPERATING_CENTS),
            PostingLine(A.EQUITY, -OPENING_OPERATING_CENTS),
        ],
        actor=ctx.users.get("admin"),
        now=ctx.now,
        idempotency_key=OPENING_KEY,
    )
