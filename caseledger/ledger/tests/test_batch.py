"""``entries_post``: many entries in one transaction, with entry_post's checks, hooks and audit
events, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models import Count, Sum
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from caseledger.core import audit
from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as A
from caseledger.ledger import selectors
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import LedgerError, TrustViolation
from caseledger.ledger.models import (
    Account,
    AccountBalance,
    JournalEntry,
    Posting,
    SubledgerBalance,
)
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


# -- property: any batch of balanced entries keeps the ledger sound --------------------------

# Firm accounts an adjustment may move (no trust rule applies to them).
FIRM_CODES = [A.OPERATING_BANK, A.EQUITY, A.FEE_REVENUE, A.WRITE_OFFS, A.BANK_SERVICE_CHARGES]
nonzero = st.integers(1, 1_000_000) | st.integers(-1_000_000, -1)
firm_entry = st.tuples(
    st.just("firm"),
    st.lists(st.tuples(st.sampled_from(FIRM_CODES), nonzero), min_size=1, max_size=4),
)
deposit_entry = st.tuples(
    st.just("deposit"), st.integers(0, 1), st.integers(min_value=1, max_value=1_000_000)
)
# A share (percent) of what the matter holds at that point of the batch.
disburse_entry = st.tuples(st.just("disburse"), st.integers(0, 1), st.integers(1, 100))
batches = st.lists(st.one_of(firm_entry, deposit_entry, disburse_entry), min_size=1, max_size=8)


def _force_deferred_checks() -> None:
    """PostgreSQL: run the commit-time constraint triggers (each entry sums to zero and has
    postings, postings in their entry's transaction) now, inside the test's transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def two_matters():
    return [make_matter(), make_matter()]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=batches)
def test_any_batch_of_balanced_entries_keeps_balances_equal_to_postings(now, two_matters, batch):
    """Whatever balanced entries a batch holds (firm adjustments over repeated accounts, trust
    deposits, disbursements of part of what a matter holds at that point of the batch), after
    ``entries_post`` (COPY on PostgreSQL, INSERTs on SQLite): the trial balance sums to zero,
    every balance row equals the sum of its postings and moved by exactly the batch's lines,
    and each entry has its audit event, in order, on a chain that verifies. Examples run one
    after another on the same database, so each starts from the ledger the last one left."""
    approved = Disbursement(pk=7, is_approved=True)
    held = {m.pk: matter_trust(m) for m in two_matters}
    requests: list[EntryRequest] = []
    for spec in batch:
        if spec[0] == "firm":
            lines = [PostingLine(code, cents) for code, cents in spec[1]]
            rest = -sum(cents for _code, cents in spec[1])
            if rest:  # always so for one line; several may already balance
                lines.append(PostingLine(A.EQUITY, rest))
            requests.append(EntryRequest(EntryKind.ADJUSTMENT, D, "property", lines))
            continue
        matter = two_matters[spec[1]]
        if spec[0] == "deposit":
            cents = spec[2]
            requests.append(trust(matter, cents))
        else:
            cents = -(held[matter.pk] * spec[2] // 100)
            if not cents:
                continue
            requests.append(trust(matter, cents, EntryKind.TRUST_DISBURSEMENT, approved))
        held[matter.pk] += cents
    assume(requests)

    account_ids = dict(Account.objects.values_list("code", "id"))
    before = dict(AccountBalance.objects.values_list("account_id", "balance_cents"))
    expected = dict(before)
    for req in requests:
        for line in req.lines:
            account_id = account_ids[str(line.account)]
            expected[account_id] = expected.get(account_id, 0) + line.amount_cents
    events_before = AuditEvent.objects.count()

    ids = entries_post(entries=requests, actor=None, now=now)
    _force_deferred_checks()

    assert len(ids) == len(requests)
    stored = dict(AccountBalance.objects.values_list("account_id", "balance_cents"))
    assert {a: b for a, b in stored.items() if b} == {a: b for a, b in expected.items() if b}
    assert sum(stored.values()) == 0
    assert selectors.trial_balance().balanced
    posted = Posting.objects.values("account_id").annotate(t=Sum("amount_cents"), n=Count("id"))
    by_account = {row["account_id"]: (row["t"], row["n"]) for row in posted}
    for account_id, balance, count in AccountBalance.objects.values_list(
        "account_id", "balance_cents", "entry_count"
    ):
        assert (balance, count) == by_account.get(account_id, (0, 0))
    sub_posted = {
        (a, c, m): t
        for a, c, m, t in Posting.objects.filter(matter__isnull=False)
        .values("account_id", "client_id", "matter_id")
        .annotate(t=Sum("amount_cents"))
        .values_list("account_id", "client_id", "matter_id", "t")
    }
    sub_stored = {
        (a, c, m): b
        for a, c, m, b in SubledgerBalance.objects.values_list(
            "account_id", "client_id", "matter_id", "balance_cents"
        )
    }
    assert {k: v for k, v in sub_stored.items() if v} == {k: v for k, v in sub_posted.items() if v}
    assert {m.pk: matter_trust(m) for m in two_matters} == held
    assert selectors.ledger_verify() == []
    newest = AuditEvent.objects.order_by("-id").values_list("action", "object_id")[: len(ids)]
    assert list(reversed(newest)) == [("ledger.entry_posted", str(i)) for i in ids]
    assert AuditEvent.objects.count() == events_before + len(ids)
    assert audit.verify_chain() is None
