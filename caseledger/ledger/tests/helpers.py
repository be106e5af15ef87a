"""Posting helpers shared by the ledger tests and the benchmarks' correctness checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from caseledger.ledger import accounts as A
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, entry_post


def deposit(
    *, matter: Any, cents: int, now: datetime, day: date, actor: Any = None, key: str | None = None
) -> JournalEntry:
    """Client money into trust: Dr trust bank, Cr client trust liability."""
    return entry_post(
        kind=EntryKind.TRUST_DEPOSIT,
        entry_date=day,
        memo="Retainer deposit",
        lines=[
            PostingLine(A.TRUST_BANK, cents, client=matter.client, matter=matter),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -cents, client=matter.client, matter=matter),
        ],
        actor=actor,
        now=now,
        idempotency_key=key,
    )


def disburse(
    *, matter: Any, cents: int, now: datetime, day: date, disbursement: Any, actor: Any = None
) -> JournalEntry:
    """Trust money paid out for the client (e.g. a USCIS fee): Dr liability, Cr trust bank."""
    return entry_post(
        kind=EntryKind.TRUST_DISBURSEMENT,
        entry_date=day,
        memo="Filing fee paid from trust",
        lines=[
            PostingLine(A.CLIENT_TRUST_LIABILITY, cents, client=matter.client, matter=matter),
            PostingLine(A.TRUST_BANK, -cents, client=matter.client, matter=matter),
        ],
        actor=actor,
        now=now,
        disbursement=disbursement,
    )


def issue_invoice(
    *, invoice: Any, cents: int, now: datetime, day: date, actor: Any = None
) -> JournalEntry:
    """Dr accounts receivable, Cr fee revenue."""
    return entry_post(
        kind=EntryKind.INVOICE_ISSUED,
        entry_date=day,
        memo=f"Invoice {invoice}",
        lines=[
            PostingLine(
                A.ACCOUNTS_RECEIVABLE,
                cents,
                client=invoice.client,
                matter=invoice.matter,
                invoice=invoice,
            ),
            PostingLine(
                A.FEE_REVENUE, -cents, client=invoice.client, matter=invoice.matter, invoice=invoice
            ),
        ],
        actor=actor,
        now=now,
    )


def transfer_earned(
    *, invoice: Any, cents: int, now: datetime, day: date, actor: Any = None
) -> JournalEntry:
    """Earned fees from trust to operating against an issued invoice."""
    c, m = invoice.client, invoice.matter
    return entry_post(
        kind=EntryKind.TRUST_TRANSFER_EARNED,
        entry_date=day,
        memo=f"Earned fees, invoice {invoice}",
        lines=[
            PostingLine(A.CLIENT_TRUST_LIABILITY, cents, client=c, matter=m, invoice=invoice),
            PostingLine(A.TRUST_BANK, -cents, client=c, matter=m, invoice=invoice),
            PostingLine(A.OPERATING_BANK, cents, client=c, matter=m, invoice=invoice),
            PostingLine(A.ACCOUNTS_RECEIVABLE, -cents, client=c, matter=m, invoice=invoice),
        ],
        actor=actor,
        now=now,
    )
