"""ledger.hooks: posting listeners see every entry's rows inside its transaction, are skipped on
an idempotent replay, and roll the entry back when they raise."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from caseledger.ledger import accounts as A
from caseledger.ledger import hooks
from caseledger.ledger.models import JournalEntry, Posting
from caseledger.ledger.services import account_info, entry_reverse
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import make_matter

pytestmark = pytest.mark.django_db
D = date(2026, 3, 1)


class Boom(Exception):
    pass


def test_listener_sees_the_rows_of_each_entry_and_its_reversal(now):
    seen: list[tuple[int, list[Any], int]] = []

    def listener(*, entry: Any, rows: Any) -> None:
        # Inside the transaction, after the postings: they are already readable.
        seen.append((entry.pk, list(rows), Posting.objects.filter(entry=entry).count()))

    matter = make_matter()
    hooks.register_posting_listener(listener)
    hooks.register_posting_listener(listener)  # once only
    try:
        entry = H.deposit(matter=matter, cents=2_500, now=now, day=D, key="k1")
        H.deposit(matter=matter, cents=2_500, now=now, day=D, key="k1")  # replay: no rows
        reversal = entry_reverse(entry=entry, actor=None, now=now, entry_date=D)
    finally:
        hooks.unregister_posting_listener(listener)
    bank, liability = account_info(A.TRUST_BANK).id, account_info(A.CLIENT_TRUST_LIABILITY).id
    assert [(pk, count) for pk, _, count in seen] == [(entry.pk, 2), (reversal.pk, 2)]
    first_rows = seen[0][1]
    assert [(r[hooks.POSTED_ACCOUNT], r[1], r[3], r[4], r[5]) for r in first_rows] == [
        (bank, 2_500, matter.client_id, matter.pk, None),
        (liability, -2_500, matter.client_id, matter.pk, None),
    ]
    assert listener not in hooks.posting_listeners()


def test_a_listener_that_raises_rolls_the_entry_back(now):
    def listener(*, entry: Any, rows: Any) -> None:
        raise Boom

    matter = make_matter()
    before = (JournalEntry.objects.count(), Posting.objects.count())
    hooks.register_posting_listener(listener)
    try:
        with pytest.raises(Boom):
            H.deposit(matter=matter, cents=2_500, now=now, day=D)
    finally:
        hooks.unregister_posting_listener(listener)
    assert (JournalEntry.objects.count(), Posting.objects.count()) == before
