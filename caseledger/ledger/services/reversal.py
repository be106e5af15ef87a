"""``entry_reverse``: correct an entry with its mirror, through the same posting path."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from caseledger.core import clock
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import LedgerError
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services.common import (
    ENTRY_ALREADY_REVERSED,
    ENTRY_IS_REVERSAL,
    REVERSAL_BEFORE_ORIGINAL,
    PostingLine,
)
from caseledger.ledger.services.posting import _post


def entry_reverse(
    *,
    entry: JournalEntry,
    actor: Any,
    now: datetime,
    entry_date: date | None = None,
    memo: str = "",
) -> JournalEntry:
    """Post the mirror of ``entry`` (every amount negated), linked by ``reverses``.

    An entry is reversed at most once (a unique constraint backs the check). The reversal is
    dated ``entry_date`` (default: today in the firm's time zone, never before the original)
    and passes every balance check; a reversal that would take a client's trust balance below
    zero is refused like any other entry.
    """
    if entry.kind == EntryKind.REVERSAL:
        raise LedgerError(ENTRY_IS_REVERSAL.format(entry_id=entry.pk), "entry")
    by = JournalEntry.objects.filter(reverses=entry).only("id").first()
    if by is not None:
        raise LedgerError(ENTRY_ALREADY_REVERSED.format(entry_id=entry.pk, by_id=by.pk), "entry")
    if entry_date is None:
        entry_date = max(clock.firm_date(now), entry.entry_date)
    if entry_date < entry.entry_date:
        raise LedgerError(
            REVERSAL_BEFORE_ORIGINAL.format(original_date=entry.entry_date.isoformat()),
            "entry_date",
        )
    mirror = [
        PostingLine(
            account=account_code,
            amount_cents=-amount,
            client=client_id,
            matter=matter_id,
            invoice=invoice_id,
        )
        for account_code, amount, client_id, matter_id, invoice_id in entry.postings.order_by(
            "id"
        ).values_list("account__code", "amount_cents", "client_id", "matter_id", "invoice_id")
    ]
    return _post(
        kind=EntryKind.REVERSAL,
        entry_date=entry_date,
        memo=memo or f"Reversal of JE-{entry.pk}",
        lines=mirror,
        actor=actor,
        now=now,
        idempotency_key=None,
        disbursement=None,
        reverses=entry,
    )
