"""Every refusal of the ledger services: each is raised with the message naming the field and
the rule, and a refused call leaves accounts, balances, closed periods, journal entries,
postings and audit events as they were (``scripts/refusal_coverage.py --list`` lists them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as A
from caseledger.ledger import services as S
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import (
    IdempotencyConflict,
    LedgerError,
    LedgerIntegrityError,
    TrustViolation,
)
from caseledger.ledger.models import (
    Account,
    AccountBalance,
    ClosedPeriod,
    JournalEntry,
    Posting,
    SubledgerBalance,
)
from caseledger.ledger.services import EntryRequest, PostingLine, entries_post, entry_post
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import Disbursement, make_client, make_matter

pytestmark = pytest.mark.django_db

D = date(2026, 3, 1)


def _state() -> dict[str, Any]:
    return {
        "accounts": list(Account.objects.values().order_by("pk")),
        "balances": list(AccountBalance.objects.values().order_by("pk")),
        "subledger": list(SubledgerBalance.objects.values().order_by("pk")),
        "periods": list(ClosedPeriod.objects.values().order_by("pk")),
        "entries": list(JournalEntry.objects.values().order_by("pk")),
        "postings": Posting.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(error, call, match=..., **kwargs)``: the call raises ``error`` whose whole
    message is ``match`` (literal text) and changes nothing."""

    def check(error: type[Exception], call: Callable[..., Any], *, match: str, **kw: Any) -> None:
        before = _state()
        with pytest.raises(error, match=f"^{re.escape(match)}$"):
            call(**kw)
        assert _state() == before

    return check


def post(**kw: Any) -> JournalEntry:
    args: dict[str, Any] = {
        "kind": EntryKind.ADJUSTMENT,
        "entry_date": D,
        "memo": "t",
        "actor": None,
    }
    return entry_post(**{**args, **kw})


def _ops(cents: int) -> list[PostingLine]:
    return [PostingLine(A.OPERATING_BANK, cents), PostingLine(A.EQUITY, -cents)]


def test_entry_post_refuses_bad_kind_key_and_lines(now, refused):
    refused(
        LedgerError,
        post,
        match="kind: REVERSAL entries are made only by reversing an entry",
        kind=EntryKind.REVERSAL,
        lines=_ops(100),
        now=now,
    )
    refused(
        LedgerError,
        post,
        match="kind: must be one of the entry kinds (got 'BOGUS')",
        kind="BOGUS",
        lines=_ops(100),
        now=now,
    )
    refused(
        LedgerError,
        post,
        match="idempotency_key: at most 120 characters (got 121)",
        lines=_ops(100),
        idempotency_key="k" * 121,
        now=now,
    )
    refused(
        LedgerError,
        post,
        match="lines: an entry needs at least two postings (got none)",
        lines=[],
        now=now,
    )
    refused(
        LedgerError,
        post,
        match="lines[1].amount_cents: must be whole cents (got 1.5)",
        lines=[PostingLine(A.OPERATING_BANK, 2), PostingLine(A.EQUITY, 1.5)],  # type: ignore[arg-type]
        now=now,
    )
    refused(
        LedgerError,
        post,
        match="lines[0].amount_cents: must not be zero",
        lines=[PostingLine(A.OPERATING_BANK, 0), PostingLine(A.EQUITY, 0)],
        now=now,
    )
    huge = 10**15
    refused(
        LedgerError,
        post,
        match=f"lines[0].amount_cents: must not exceed {S.MAX_MINOR_UNITS} (got {huge})",
        lines=_ops(huge),
        now=now,
    )
    refused(
        LedgerError,
        post,
        match="lines[1].account: no account with code '9999'",
        lines=[PostingLine(A.OPERATING_BANK, 100), PostingLine("9999", -100)],
        now=now,
    )


def test_entry_post_refuses_mixed_currency_and_inactive_account(now, users, refused):
    eur = S.account_trust_bank_create(name="EUR trust", actor=users["ADMIN"], now=now)
    Account.objects.filter(pk=eur.pk).update(currency="EUR")
    S.accounts_cache_clear()
    m = make_matter()
    refused(
        LedgerError,
        post,
        match="lines: every posting must be in one currency (got EUR, USD)",
        lines=[
            PostingLine(eur.code, 100, client=m.client, matter=m),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -100, client=m.client, matter=m),
        ],
        now=now,
    )
    refunds = Account.objects.get(code=A.REFUNDS)
    S.account_deactivate(account=refunds, actor=users["ADMIN"], now=now)
    refused(
        LedgerError,
        post,
        match=f"lines[1].account: account {A.REFUNDS} is inactive",
        lines=[PostingLine(A.OPERATING_BANK, 100), PostingLine(A.REFUNDS, -100)],
        now=now,
    )
    refused(
        LedgerError,
        entries_post,
        match=f"entries[0].lines[1].account: account {A.REFUNDS} is inactive",
        entries=[
            EntryRequest(
                EntryKind.ADJUSTMENT,
                D,
                "t",
                [PostingLine(A.OPERATING_BANK, 100), PostingLine(A.REFUNDS, -100)],
            )
        ],
        actor=None,
        now=now,
    )


def test_entry_post_refuses_trust_rule_breaches(now, refused):
    m = make_matter()
    c = m.client
    refused(
        TrustViolation,
        post,
        match=f"lines[0]: a posting on trust account {A.TRUST_BANK} needs a client and a matter",
        lines=[
            PostingLine(A.TRUST_BANK, 100),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -100, client=c, matter=m),
        ],
        now=now,
    )
    other = make_client()
    refused(
        LedgerError,
        post,
        match=f"lines[0].matter: matter {m} belongs to another client",
        lines=[
            PostingLine(A.OPERATING_BANK, 100, client=other, matter=m),
            PostingLine(A.EQUITY, -100),
        ],
        now=now,
    )
    refused(
        TrustViolation,
        post,
        match=(
            "lines: trust bank postings (100 cents) must equal client trust liability postings "
            "(0 cents) so trust bank always equals the sum of client trust ledgers"
        ),
        lines=[PostingLine(A.TRUST_BANK, 100), PostingLine(A.OPERATING_BANK, -100)],
        now=now,
    )
    refused(
        TrustViolation,
        post,
        match="lines: card processing fees are never paid from or with trust money",
        lines=[
            PostingLine(A.TRUST_BANK, 100, client=c, matter=m),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -100, client=c, matter=m),
            PostingLine(A.CARD_PROCESSING_FEES, 50),
            PostingLine(A.OPERATING_BANK, -50),
        ],
        now=now,
    )
    H.deposit(matter=m, cents=10_000, now=now, day=D)
    refused(
        TrustViolation,
        H.disburse,
        match="disbursement: disbursement 7 is not approved",
        matter=m,
        cents=500,
        now=now,
        day=D,
        disbursement=Disbursement(7, False),
    )
    refused(
        TrustViolation,
        post,
        match=(
            "lines[2].invoice: every posting of an earned-fee transfer must name its issued invoice"
        ),
        kind=EntryKind.TRUST_TRANSFER_EARNED,
        lines=[
            PostingLine(A.CLIENT_TRUST_LIABILITY, 100, client=c, matter=m, invoice=1),
            PostingLine(A.TRUST_BANK, -100, client=c, matter=m, invoice=1),
            PostingLine(A.OPERATING_BANK, 100),
            PostingLine(A.ACCOUNTS_RECEIVABLE, -100, invoice=1),
        ],
        now=now,
    )


def test_a_matter_spends_only_what_it_holds_in_that_trust_bank_account(now, users, refused):
    second = S.account_trust_bank_create(name="Second IOLTA", actor=users["ADMIN"], now=now)
    m = make_matter()
    c = m.client
    H.deposit(matter=m, cents=10_000, now=now, day=D)
    out_of_second = [
        PostingLine(A.CLIENT_TRUST_LIABILITY, 500, client=c, matter=m),
        PostingLine(second.code, -500, client=c, matter=m),
    ]
    refused(
        TrustViolation,
        post,
        match=(
            f"lines[1].amount_cents: trust account {second.code} holds $0.00 for matter "
            f"{m.number}; this would leave -$5.00 (money leaves a trust bank account only from "
            "what the matter holds in that account)"
        ),
        kind=EntryKind.TRUST_DISBURSEMENT,
        lines=out_of_second,
        disbursement=Disbursement(1, True),
        now=now,
    )
    refused(
        TrustViolation,
        entries_post,
        match=(
            "entries[0]."
            f"lines[1].amount_cents: trust account {second.code} holds $0.00 for matter "
            f"{m.number}; this would leave -$5.00 (money leaves a trust bank account only from "
            "what the matter holds in that account)"
        ),
        entries=[
            EntryRequest(EntryKind.TRUST_DISBURSEMENT, D, "t", out_of_second, Disbursement(1, True))
        ],
        actor=None,
        now=now,
    )


def test_entries_post_refuses_a_batch_over_the_limit(now, refused):
    one = EntryRequest(EntryKind.ADJUSTMENT, D, "t", _ops(100))
    refused(
        LedgerError,
        entries_post,
        match=f"entries: at most {S.BATCH_LIMIT} entries in one batch (got {S.BATCH_LIMIT + 1})",
        entries=[one] * (S.BATCH_LIMIT + 1),
        actor=None,
        now=now,
    )


def test_an_idempotency_key_is_not_reused_for_another_entry(now, refused):
    first = post(lines=_ops(100), idempotency_key="import-1", now=now)
    refused(
        IdempotencyConflict,
        post,
        match=f"idempotency_key: 'import-1' was already used for a different entry (JE-{first.pk})",
        lines=_ops(200),
        idempotency_key="import-1",
        now=now,
    )


def test_entry_reverse_refusals(now, refused):
    entry = post(lines=_ops(100), now=now)
    refused(
        LedgerError,
        S.entry_reverse,
        match="entry_date: a reversal cannot be dated before the entry it reverses (2026-03-01)",
        entry=entry,
        entry_date=date(2026, 2, 28),
        actor=None,
        now=now,
    )
    reversal = S.entry_reverse(entry=entry, entry_date=D, actor=None, now=now)
    refused(
        LedgerError,
        S.entry_reverse,
        match=f"entry: JE-{entry.pk} has already been reversed (by JE-{reversal.pk})",
        entry=entry,
        actor=None,
        now=now,
    )
    refused(
        LedgerError,
        S.entry_reverse,
        match=f"entry: JE-{reversal.pk} is itself a reversal; post a new entry instead",
        entry=reversal,
        actor=None,
        now=now,
    )


def test_closed_periods_refuse_postings_and_bad_closes_and_reopens(now, users, refused):
    operating = Account.objects.get(code=A.OPERATING_BANK)
    period = S.period_close(
        account=operating,
        closed_through=date(2026, 2, 28),
        reference="REC-1",
        actor=users["PARTNER"],
        now=now,
    )
    refused(
        LedgerError,
        post,
        match=(
            f"entry_date: {operating.code} {operating.name} is closed through 2026-02-28 "
            "(signed reconciliation); post the correction in an open month"
        ),
        entry_date=date(2026, 2, 15),
        lines=_ops(100),
        now=now,
    )
    refused(
        LedgerError,
        S.period_close,
        match=(
            f"closed_through: {operating} is already closed through 2026-02-28; close a later date"
        ),
        account=operating,
        closed_through=date(2026, 1, 31),
        reference="REC-0",
        actor=users["PARTNER"],
        now=now,
    )
    refused(
        LedgerError,
        S.period_reopen,
        match="reason: say why the closed period is reopened",
        closed_period=period,
        reason="  ",
        actor=users["PARTNER"],
        now=now,
    )
    S.period_reopen(closed_period=period, reason="Bank corrected", actor=users["PARTNER"], now=now)
    refused(
        LedgerError,
        S.period_reopen,
        match=f"closed_period: {operating} through 2026-02-28 is not closed any more",
        closed_period=period,
        reason="Again",
        actor=users["PARTNER"],
        now=now,
    )


def _deposit_request(matter: Any, day: date, cents: int = 100) -> EntryRequest:
    return EntryRequest(
        EntryKind.TRUST_DEPOSIT,
        day,
        "batch",
        [
            PostingLine(A.TRUST_BANK, cents, client=matter.client, matter=matter),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -cents, client=matter.client, matter=matter),
        ],
    )


@pytest.mark.parametrize("place", [0, 2])
def test_a_batch_into_a_closed_period_is_refused_naming_the_entry_as_entry_post_does(
    now, users, refused, place
):
    """On PostgreSQL the postings go in by COPY, on SQLite one INSERT per entry: the same
    trigger refuses, and the refusal is entry_post's, prefixed with the refused entry's place.
    Nothing stays: no entry, posting, balance change or audit event of the batch."""
    bank = Account.objects.get(code=A.TRUST_BANK)
    m = make_matter()
    H.deposit(matter=m, cents=500, now=now, day=date(2026, 2, 1))
    S.period_close(
        account=bank,
        closed_through=date(2026, 2, 28),
        reference="REC-2",
        actor=users["PARTNER"],
        now=now,
    )
    rule = (
        f"entry_date: {bank.code} {bank.name} is closed through 2026-02-28 "
        "(signed reconciliation); post the correction in an open month"
    )
    refused(LedgerError, H.deposit, match=rule, matter=m, cents=100, now=now, day=date(2026, 2, 15))
    entries = [_deposit_request(m, D), _deposit_request(m, D), _deposit_request(m, D)]
    entries[place] = _deposit_request(m, date(2026, 2, 15))
    refused(
        LedgerError,
        entries_post,
        match=f"entries[{place}].{rule}",
        entries=entries,
        actor=None,
        now=now,
    )
    with pytest.raises(LedgerError) as exc:
        entries_post(entries=entries, actor=None, now=now)
    assert exc.value.field == f"entries[{place}].entry_date"


def test_one_unbalanced_entry_refuses_the_whole_batch(now, refused):
    m = make_matter()
    unbalanced = EntryRequest(
        EntryKind.ADJUSTMENT,
        D,
        "off by one",
        [PostingLine(A.OPERATING_BANK, 100), PostingLine(A.EQUITY, -99)],
    )
    refused(
        LedgerError,
        entries_post,
        match="entries[1].lines: debits and credits must sum to zero (off by 1 cents)",
        entries=[_deposit_request(m, D), unbalanced, _deposit_request(m, D)],
        actor=None,
        now=now,
    )


def test_a_trust_entry_on_tampered_balance_rows_is_refused_as_an_integrity_error(now):
    """The after-entry check that trust bank equals client trust liability fails only when the
    stored balance rows already disagree (entry_post itself never makes them disagree)."""
    m = make_matter()
    bank = Account.objects.get(code=A.TRUST_BANK)
    AccountBalance.objects.filter(account=bank).update(balance_cents=7)
    before = _state()
    with pytest.raises(
        LedgerIntegrityError,
        match=(
            r"^ledger: after JE-\d+ trust bank is 107 cents but client trust liability is "
            r"100 cents$"
        ),
    ):
        H.deposit(matter=m, cents=100, now=now, day=D)
    assert _state() == before
