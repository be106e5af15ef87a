"""The one explicit hook for "an entry's postings were written" (no Django signals).

Apps above the ledger register a listener once, from their ``AppConfig.ready()``::

    from caseledger.ledger.hooks import register_posting_listener
    register_posting_listener(collections.services.aging_facts.on_postings)

``ledger.services`` calls every listener INSIDE the posting transaction, right after the entry's
postings are inserted, in registration order, for every entry it writes (``entry_post`` and
``entry_reverse``; never for an idempotent replay, which writes nothing). A listener that raises
rolls the whole entry back, so a listener's rows exist exactly when the postings do.

Listeners run on the ledger's hot path: one that is not interested in an entry must return
without a query (look at ``rows``, which are already in memory).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from caseledger.core.hooks import Listeners

if TYPE_CHECKING:
    from caseledger.ledger.models import JournalEntry

# One inserted posting of ``entry``, as the ledger wrote it (posting ids are not known here; a
# listener that needs them reads the entry's postings back):
# (account_id, amount_cents, entry_date as adapted for the database, client_id, matter_id,
#  invoice_id)
PostedRow = tuple[Any, ...]
PostingListener = Callable[..., None]  # fn(*, entry: JournalEntry, rows: Sequence[PostedRow])

POSTED_ACCOUNT = 0  # index of account_id in a PostedRow

_listeners: Listeners[PostingListener] = Listeners()

register_posting_listener = _listeners.register
unregister_posting_listener = _listeners.unregister  # tests


def posting_listeners() -> tuple[PostingListener, ...]:
    return tuple(_listeners)


def postings_inserted(*, entry: JournalEntry, rows: Sequence[PostedRow]) -> None:
    """Called by ledger.services only, inside the posting transaction."""
    for listener in _listeners:
        listener(entry=entry, rows=rows)


# -- earned-fee transfers out of trust -----------------------------------------------------------
# Money leaves trust as earned fees (kind TRUST_TRANSFER_EARNED) only against issued invoices of the
# same client and matter, issued on or before the entry date. The ledger knows no invoices (it sits
# below billing), so the app that moves earned fees (trust) registers the check:
# ``fn(*, entry_date: date, lines: Sequence[EarnedLine])`` raising ``TrustViolation`` naming the
# line. ``entry_post`` calls every registered check; with none registered it refuses the entry.
# EarnedLine: (index in the entry, whether the account is a trust account, the PostingLine; its
# ``invoice`` is set).
EarnedLine = tuple[int, bool, Any]
EarnedTransferCheck = Callable[..., None]

_earned_checks: Listeners[EarnedTransferCheck] = Listeners()

register_earned_transfer_check = _earned_checks.register
unregister_earned_transfer_check = _earned_checks.unregister  # tests


def earned_transfer_checks() -> tuple[EarnedTransferCheck, ...]:
    return tuple(_earned_checks)
