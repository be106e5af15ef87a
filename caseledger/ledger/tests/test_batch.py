"""``entries_post``: many entries in one transaction, with entry_post's checks, hooks and audit
events, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as A
from caseledger.ledger import selectors
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import LedgerError, TrustViolation
from caseledger.ledger.models import JournalEntry, Posting
from caseledger.ledger.services import EntryRequest, PostingLine, entries_post
from caseledger.ledger.tests.factories import Disbursement, make_matter

pytestmark = pytest.mark.django_db
D = date(2026, 3, 1)


def trust(matter, cents, kind=EntryKind.TRUST_DEPOSIT, disbursement=None):
    """A deposit (cents > 0) or a disbursement (cents < 0) of the matter's trust money."""
    return EntryRequest(
        kind=kind,
        entry_date=D,
        memo="batch",
        lines=[
            PostingLine(A.TRUST_BANK, cents, client=matter.client, matter=matter),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -cents, client=matter.client, matter=matter),
        ],
        disbursement=disbursement,
    )


def matter_trust(matter):
    return -sum(r.balance_cents for r in selectors.client_trust_balances().filter(matter=matter))


def test_a_batch_posts_every_entry_with_its_audit_event_and_balances(now):
    a, b = make_matter(), make_matter()
    approved = Disbursement(pk=7, is_approved=True)
    ids = entries_post(
        entries=[
            trust(a, 50_000),
            trust(b, 20_000),
            # Spends what the first entry of the same batch brought in.
            trust(a, -30_000, EntryKind.TRUST_DISBURSEMENT, approved),
        ],
        actor=None,
        now=now,
    )
    assert len(ids) == 3
    assert list(JournalEntry.objects.order_by("id").values_list("id", flat=True)) == ids
    assert Posting.objects.filter(entry_id__in=ids).count() == 6
    assert (matter_trust(a), matter_trust(b)) == (20_000, 20_000)
    assert JournalEntry.objects.get(pk=ids[2]).disbursement_id == 7
    events = AuditEvent.objects.filter(action="ledger.entry_posted", object_id__in=ids)
    assert events.count() == 3
    assert selectors.ledger_verify() == []


def test_an_entry_that_would_overdraw_trust_refuses_the_whole_batch(now):
    a = make_matter()
    approved = Disbursement(pk=7, is_approved=True)
    with pytest.raises(TrustViolation, match=r"^entries\[2\]\.lines\[1\]\.amount_cents: client"):
        entries_post(
            entries=[
                trust(a, 10_000),
                trust(a, -6_000, EntryKind.TRUST_DISBURSEMENT, approved),
                trust(a, -6_000, EntryKind.TRUST_DISBURSEMENT, approved),
            ],
            actor=None,
            now=now,
        )
    assert JournalEntry.objects.count() == 0
    assert matter_trust(a) == 0


def test_each_entry_gets_entry_posts_checks_named_by_its_place(now):
    a = make_matter()
    with pytest.raises(TrustViolation, match=r"^entries\[1\]\.lines: money leaves trust only"):
        entries_post(
            entries=[trust(a, 10_000), trust(a, -1_000, EntryKind.TRUST_DISBURSEMENT)],
            actor=None,
            now=now,
        )
    unbalanced = EntryRequest(
        kind=EntryKind.ADJUSTMENT,
        entry_date=D,
        memo="off",
        lines=[PostingLine(A.OPERATING_BANK, 100), PostingLine(A.FEE_REVENUE, -99)],
    )
    with pytest.raises(LedgerError, match=r"^entries\[0\]\.lines: debits and credits") as exc:
        entries_post(entries=[unbalanced], actor=None, now=now)
    assert exc.value.field == "entries[0].lines"
    with pytest.raises(LedgerError, match=r"^entries: a batch needs at least one entry"):
        entries_post(entries=[], actor=None, now=now)
    assert JournalEntry.objects.count() == 0
