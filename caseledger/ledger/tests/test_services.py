from __future__ import annotations

from datetime import date

import pytest

from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as A
from caseledger.ledger import selectors
from caseledger.ledger import services as S
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import IdempotencyConflict, LedgerError, TrustViolation
from caseledger.ledger.models import Account, JournalEntry, Posting
from caseledger.ledger.services import PostingLine, entry_post, entry_reverse
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import (
    Disbursement,
    make_client,
    make_invoice,
    make_matter,
)

pytestmark = pytest.mark.django_db
D = date(2026, 3, 1)


def post(lines, now, kind=EntryKind.ADJUSTMENT, **kw):
    return entry_post(kind=kind, entry_date=D, memo="t", lines=lines, actor=None, now=now, **kw)


def refused(exc_type, message, fn, *args, **kwargs):
    before = (JournalEntry.objects.count(), Posting.objects.count())
    with pytest.raises(exc_type) as exc:
        fn(*args, **kwargs)
    assert exc.value.message == message
    assert (JournalEntry.objects.count(), Posting.objects.count()) == before
    return exc.value


def test_chart_is_seeded_with_types_and_normal_balances():
    chart = {a.code: a for a in Account.objects.all()}
    assert set(A.CHART_CODES) <= set(chart)
    assert chart[A.TRUST_BANK].is_trust_bank
    assert chart[A.CLIENT_TRUST_LIABILITY].is_trust
    assert chart[A.CLIENT_TRUST_LIABILITY].normal_balance == "CREDIT"
    assert chart[A.FEE_REVENUE].account_type == "REVENUE"
    assert not chart[A.OPERATING_BANK].is_trust
    assert all(hasattr(a, "balance") for a in chart.values())


def test_post_balanced_entry_updates_balances_and_audits(now, users):
    m = make_matter()
    entry = H.deposit(matter=m, cents=10_000, now=now, day=D, actor=users["BILLING"])
    assert entry.postings.count() == 2
    assert selectors.account_balance(code=A.TRUST_BANK) == 10_000
    assert selectors.account_balance(code=A.CLIENT_TRUST_LIABILITY) == 10_000
    assert selectors.client_trust_balance(client=m.client, matter=m) == 10_000
    event = AuditEvent.objects.get(action="ledger.entry_posted", object_id=str(entry.pk))
    assert event.actor == users["BILLING"]
    assert event.after is not None
    assert event.after["lines"][0][:2] == [A.TRUST_BANK, 10_000]
    assert selectors.ledger_verify() == []


def test_account_object_accepted_as_line_account(now):
    opening = Account.objects.get(code=A.OPERATING_BANK)
    post([PostingLine(opening, 500), PostingLine(A.EQUITY, -500)], now, EntryKind.OPENING_BALANCE)
    assert selectors.account_balance(code=A.EQUITY) == 500


def test_refuses_empty_entry(now):
    refused(LedgerError, S.ENTRY_EMPTY, post, [], now)


def test_refuses_unbalanced_entry(now):
    refused(
        LedgerError,
        "lines: debits and credits must sum to zero (off by 1 cents)",
        post,
        [PostingLine(A.OPERATING_BANK, 101), PostingLine(A.EQUITY, -100)],
        now,
    )


def test_refuses_zero_posting(now):
    refused(
        LedgerError,
        "lines[1].amount_cents: must not be zero",
        post,
        [PostingLine(A.OPERATING_BANK, 100), PostingLine(A.EQUITY, 0), PostingLine(A.EQUITY, -100)],
        now,
    )


def test_refuses_non_integer_and_huge_amounts(now):
    refused(
        LedgerError,
        "lines[0].amount_cents: must be whole cents (got 1.5)",
        post,
        [PostingLine(A.OPERATING_BANK, 1.5), PostingLine(A.EQUITY, -1.5)],  # type: ignore[arg-type]
        now,
    )
    big = 10**13 + 1
    refused(
        LedgerError,
        f"lines[0].amount_cents: must not exceed {10**13} (got {big})",
        post,
        [PostingLine(A.OPERATING_BANK, big), PostingLine(A.EQUITY, -big)],
        now,
    )


def test_refuses_unknown_account_kind_date_and_memo(now):
    refused(
        LedgerError,
        "lines[1].account: no account with code '9999'",
        post,
        [PostingLine(A.OPERATING_BANK, 1), PostingLine("9999", -1)],
        now,
    )
    lines = [PostingLine(A.OPERATING_BANK, 1), PostingLine(A.EQUITY, -1)]
    refused(
        LedgerError, "kind: must be one of the entry kinds (got 'BOGUS')", post, lines, now, "BOGUS"
    )
    refused(LedgerError, S.ENTRY_KIND_REVERSAL_RESERVED, post, lines, now, EntryKind.REVERSAL)
    with pytest.raises(LedgerError) as exc:
        entry_post(
            kind=EntryKind.ADJUSTMENT, entry_date=now, memo="", lines=lines, actor=None, now=now
        )  # type: ignore[arg-type]
    assert exc.value.message == S.ENTRY_DATE_INVALID.format(value=now)
    with pytest.raises(LedgerError) as exc:
        entry_post(
            kind=EntryKind.ADJUSTMENT,
            entry_date=D,
            memo="x" * 501,
            lines=lines,
            actor=None,
            now=now,
        )
    assert exc.value.message == "memo: at most 500 characters (got 501)"


def test_refuses_inactive_account(now, users):
    refunds = Account.objects.get(code=A.REFUNDS)
    S.account_deactivate(account=refunds, actor=users["ADMIN"], now=now)
    refused(
        LedgerError,
        "lines[0].account: account 5300 is inactive",
        post,
        [PostingLine(A.REFUNDS, 100), PostingLine(A.OPERATING_BANK, -100)],
        now,
    )
    S.account_reactivate(account=refunds, actor=users["ADMIN"], now=now)
    post([PostingLine(A.REFUNDS, 100), PostingLine(A.OPERATING_BANK, -100)], now)


def test_refuses_mixed_currencies(now, users):
    eur = S.account_trust_bank_create(name="EUR trust", actor=users["ADMIN"], now=now)
    Account.objects.filter(pk=eur.pk).update(currency="EUR")
    S.accounts_cache_clear()
    m = make_matter()
    refused(
        LedgerError,
        "lines: every posting must be in one currency (got EUR, USD)",
        post,
        [
            PostingLine(eur.code, 100, client=m.client, matter=m),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -100, client=m.client, matter=m),
        ],
        now,
    )


def test_trust_posting_needs_client_and_matter(now):
    m = make_matter()
    refused(
        TrustViolation,
        "lines[1]: a posting on trust account 2100 needs a client and a matter",
        post,
        [
            PostingLine(A.TRUST_BANK, 100, client=m.client, matter=m),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -100, client=m.client),
        ],
        now,
    )


def test_matter_must_belong_to_the_client(now):
    m = make_matter()
    other = make_client()
    refused(
        LedgerError,
        f"lines[0].matter: matter {m} belongs to another client",
        post,
        [
            PostingLine(A.TRUST_BANK, 100, client=other, matter=m),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -100, client=other, matter=m),
        ],
        now,
    )


def test_trust_bank_must_move_with_client_liability(now):
    m = make_matter()
    refused(
        TrustViolation,
        S.TRUST_BANK_LIABILITY_MISMATCH.format(bank=100, liability=0),
        post,
        [PostingLine(A.TRUST_BANK, 100, client=m.client, matter=m), PostingLine(A.EQUITY, -100)],
        now,
    )
    # Client trust liability credited without money in the trust bank (e.g. fee revenue).
    refused(
        TrustViolation,
        S.TRUST_BANK_LIABILITY_MISMATCH.format(bank=0, liability=100),
        post,
        [
            PostingLine(A.OPERATING_BANK, 100),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -100, client=m.client, matter=m),
        ],
        now,
    )


def test_card_fees_never_with_trust(now):
    m = make_matter()
    H.deposit(matter=m, cents=1000, now=now, day=D)
    refused(
        TrustViolation,
        S.TRUST_CARD_FEE,
        post,
        [
            PostingLine(A.CARD_PROCESSING_FEES, 30),
            PostingLine(A.OPERATING_BANK, -30),
            PostingLine(A.CLIENT_TRUST_LIABILITY, 30, client=m.client, matter=m),
            PostingLine(A.TRUST_BANK, -30, client=m.client, matter=m),
        ],
        now,
        disbursement=Disbursement(1, True),
    )


def test_money_leaves_trust_only_with_invoice_or_approved_disbursement(now):
    m = make_matter()
    H.deposit(matter=m, cents=10_000, now=now, day=D)
    lines = [
        PostingLine(A.CLIENT_TRUST_LIABILITY, 5000, client=m.client, matter=m),
        PostingLine(A.TRUST_BANK, -5000, client=m.client, matter=m),
    ]
    refused(TrustViolation, S.TRUST_OUTFLOW_UNAUTHORIZED, post, lines, now)
    refused(
        TrustViolation,
        "disbursement: disbursement 7 is not approved",
        post,
        lines,
        now,
        EntryKind.TRUST_DISBURSEMENT,
        disbursement=Disbursement(7, False),
    )
    entry = H.disburse(matter=m, cents=5000, now=now, day=D, disbursement=Disbursement(7, True))
    assert entry.disbursement_id == 7
    assert selectors.client_trust_balance(client=m.client, matter=m) == 5000


def test_trust_balance_never_negative(now):
    m = make_matter()
    H.deposit(matter=m, cents=10_000, now=now, day=D)
    refused(
        TrustViolation,
        f"lines[0].amount_cents: client trust balance for matter {m.number} would be -$0.01 "
        "(available $100.00); a client's trust balance is never negative",
        H.disburse,
        matter=m,
        cents=10_001,
        now=now,
        day=D,
        disbursement=Disbursement(1, True),
    )
    # A matter with no trust money at all.
    other = make_matter(client=m.client)
    with pytest.raises(TrustViolation) as exc:
        H.disburse(matter=other, cents=1, now=now, day=D, disbursement=Disbursement(1, True))
    assert exc.value.message == S.TRUST_BALANCE_NEGATIVE.format(
        index=0, matter=other.number, balance="-$0.01", available="$0.00"
    )
    assert selectors.client_trust_balance(client=m.client, matter=m) == 10_000


def test_earned_transfer_against_issued_invoice(now):
    invoice = make_invoice()
    H.deposit(matter=invoice.matter, cents=50_000, now=now, day=D)
    H.issue_invoice(invoice=invoice, cents=30_000, now=now, day=D)
    H.transfer_earned(invoice=invoice, cents=30_000, now=now, day=D)
    assert selectors.client_trust_balance(client=invoice.client, matter=invoice.matter) == 20_000
    assert selectors.account_balance(code=A.OPERATING_BANK) == 30_000
    assert selectors.account_balance(code=A.ACCOUNTS_RECEIVABLE) == 0
    assert selectors.ledger_verify() == []


def test_earned_transfer_refusals(now):
    invoice = make_invoice()
    H.deposit(matter=invoice.matter, cents=50_000, now=now, day=D)
    c, m = invoice.client, invoice.matter
    no_invoice = [
        PostingLine(A.CLIENT_TRUST_LIABILITY, 100, client=c, matter=m, invoice=invoice),
        PostingLine(A.TRUST_BANK, -100, client=c, matter=m),
        PostingLine(A.OPERATING_BANK, 100, invoice=invoice),
        PostingLine(A.ACCOUNTS_RECEIVABLE, -100, invoice=invoice),
    ]
    refused(
        TrustViolation,
        "lines[1].invoice: every posting of an earned-fee transfer must name its issued invoice",
        post,
        no_invoice,
        now,
        EntryKind.TRUST_TRANSFER_EARNED,
    )
    draft = make_invoice(matter=m, status="DRAFT", number=None, issue_date=None)
    with pytest.raises(TrustViolation) as exc:
        H.transfer_earned(invoice=draft, cents=100, now=now, day=D)
    assert exc.value.message == (
        f"lines[0].invoice: invoice Draft #{draft.pk} is DRAFT; fees are earned only against "
        "an issued invoice"
    )
    with pytest.raises(TrustViolation) as exc:
        H.transfer_earned(invoice=invoice, cents=100, now=now, day=date(2026, 1, 31))
    assert exc.value.message == (
        f"entry_date: 2026-01-31 is before invoice {invoice.number} was issued (2026-02-01)"
    )
    other = make_invoice()  # another client's issued invoice
    lines = [
        PostingLine(A.CLIENT_TRUST_LIABILITY, 100, client=c, matter=m, invoice=other),
        PostingLine(A.TRUST_BANK, -100, client=c, matter=m, invoice=other),
        PostingLine(A.OPERATING_BANK, 100, invoice=other),
        PostingLine(A.ACCOUNTS_RECEIVABLE, -100, invoice=other),
    ]
    refused(
        TrustViolation,
        f"lines[0].invoice: invoice {other.number} belongs to another client or matter",
        post,
        lines,
        now,
        EntryKind.TRUST_TRANSFER_EARNED,
    )
    assert selectors.client_trust_balance(client=c, matter=m) == 50_000


def test_idempotency_same_payload_returns_first_entry(now):
    m = make_matter()
    first = H.deposit(matter=m, cents=500, now=now, day=D, key="stripe:pi_1")
    again = H.deposit(matter=m, cents=500, now=now, day=D, key="stripe:pi_1")
    assert again.pk == first.pk
    assert JournalEntry.objects.count() == 1
    assert selectors.client_trust_balance(client=m.client, matter=m) == 500


def test_idempotency_different_payload_refused(now):
    m = make_matter()
    first = H.deposit(matter=m, cents=500, now=now, day=D, key="stripe:pi_2")
    refused(
        IdempotencyConflict,
        f"idempotency_key: 'stripe:pi_2' was already used for a different entry (JE-{first.pk})",
        H.deposit,
        matter=m,
        cents=501,
        now=now,
        day=D,
        key="stripe:pi_2",
    )
    refused(
        LedgerError,
        "idempotency_key: at most 120 characters (got 121)",
        H.deposit,
        matter=m,
        cents=1,
        now=now,
        day=D,
        key="k" * 121,
    )


def test_reversal_mirrors_once(now, users):
    m = make_matter()
    entry = H.deposit(matter=m, cents=700, now=now, day=D)
    reversal = entry_reverse(entry=entry, actor=users["BILLING"], now=now, entry_date=D)
    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.reverses_id == entry.pk
    assert sorted(reversal.postings.values_list("amount_cents", flat=True)) == [-700, 700]
    assert selectors.client_trust_balance(client=m.client, matter=m) == 0
    assert AuditEvent.objects.filter(action="ledger.entry_reversed").count() == 1
    refused(
        LedgerError,
        f"entry: JE-{entry.pk} has already been reversed (by JE-{reversal.pk})",
        entry_reverse,
        entry=entry,
        actor=None,
        now=now,
    )
    refused(
        LedgerError,
        f"entry: JE-{reversal.pk} is itself a reversal; post a new entry instead",
        entry_reverse,
        entry=reversal,
        actor=None,
        now=now,
    )
    assert selectors.ledger_verify() == []


def test_reversal_cannot_predate_or_overdraw_trust(now):
    m = make_matter()
    entry = H.deposit(matter=m, cents=700, now=now, day=D)
    refused(
        LedgerError,
        "entry_date: a reversal cannot be dated before the entry it reverses (2026-03-01)",
        entry_reverse,
        entry=entry,
        actor=None,
        now=now,
        entry_date=date(2026, 2, 28),
    )
    H.disburse(matter=m, cents=500, now=now, day=D, disbursement=Disbursement(1, True))
    with pytest.raises(TrustViolation):
        entry_reverse(entry=entry, actor=None, now=now, entry_date=D)
    # Default date: today in the firm's zone, never before the original.
    undo = entry_reverse(
        entry=JournalEntry.objects.get(kind=EntryKind.TRUST_DISBURSEMENT), actor=None, now=now
    )
    assert undo.entry_date == date(2026, 11, 2)


def test_trust_bank_accounts_can_be_added(now, users):
    second = S.account_trust_bank_create(
        name="Second IOLTA",
        bank_name="First Republic",
        account_number_last4="4321",
        actor=users["ADMIN"],
        now=now,
    )
    assert second.code == "1011"
    assert second.is_trust_bank
    third = S.account_trust_bank_create(name="Third", actor=users["ADMIN"], now=now)
    assert third.code == "1012"
    m = make_matter()
    post(
        [
            PostingLine(second.code, 900, client=m.client, matter=m),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -900, client=m.client, matter=m),
        ],
        now,
        EntryKind.TRUST_DEPOSIT,
    )
    assert selectors.trust_bank_total() == 900
    assert selectors.ledger_verify() == []
    assert AuditEvent.objects.filter(action="ledger.account_created").count() == 2


def test_trust_bank_account_refusals(now, users):
    admin = users["ADMIN"]
    with pytest.raises(LedgerError) as exc:
        S.account_trust_bank_create(name=" ", actor=admin, now=now)
    assert exc.value.message == S.ACCOUNT_NAME_REQUIRED
    with pytest.raises(LedgerError) as exc:
        S.account_trust_bank_create(name="X", code="1010", actor=admin, now=now)
    assert exc.value.message == "code: trust bank accounts use codes 1011 to 1099 (got '1010')"
    S.account_trust_bank_create(name="X", code="1050", actor=admin, now=now)
    with pytest.raises(LedgerError) as exc:
        S.account_trust_bank_create(name="Y", code="1050", actor=admin, now=now)
    assert exc.value.message == "code: account code 1050 is already used"
    with pytest.raises(LedgerError) as exc:
        S.account_trust_bank_create(name="Y", account_number_last4="12a4", actor=admin, now=now)
    assert exc.value.message == "account_number_last4: must be exactly four digits (got '12a4')"


def test_deactivate_refusals(now, users):
    m = make_matter()
    H.deposit(matter=m, cents=100, now=now, day=D)
    trust = Account.objects.get(code=A.TRUST_BANK)
    with pytest.raises(LedgerError) as exc:
        S.account_deactivate(account=trust, actor=users["ADMIN"], now=now)
    assert exc.value.message == "account: 1010 still has a balance of $1.00; move it first"
    refunds = Account.objects.get(code=A.REFUNDS)
    S.account_deactivate(account=refunds, actor=users["ADMIN"], now=now)
    with pytest.raises(LedgerError) as exc:
        S.account_deactivate(account=refunds, actor=users["ADMIN"], now=now)
    assert exc.value.message == "account: 5300 is already inactive"
    S.account_reactivate(account=refunds, actor=users["ADMIN"], now=now)
    with pytest.raises(LedgerError) as exc:
        S.account_reactivate(account=refunds, actor=users["ADMIN"], now=now)
    assert exc.value.message == "account: 5300 is already active"


def test_chart_ensure_is_idempotent(now):
    assert S.chart_ensure(now=now) == 0


def test_query_count_of_a_trust_entry(now, django_assert_max_num_queries):
    m = make_matter()
    H.deposit(matter=m, cents=100, now=now, day=D)
    # subledger lock, account lock, entry, postings, 2 balance updates, audit (3) + savepoints
    with django_assert_max_num_queries(13):
        H.deposit(matter=m, cents=100, now=now, day=D)


def test_earned_transfer_refused_when_no_app_checks_its_invoices(now):
    """The ledger knows no invoices: trust registers the check; without one, nothing passes."""
    from caseledger.ledger import hooks
    from caseledger.ledger.services import TRUST_TRANSFER_UNCHECKED
    from caseledger.trust.earned import earned_transfer_check

    invoice = make_invoice()
    H.deposit(matter=invoice.matter, cents=50_000, now=now, day=D)
    assert hooks.earned_transfer_checks() == (earned_transfer_check,)
    hooks.unregister_earned_transfer_check(earned_transfer_check)
    try:
        with pytest.raises(TrustViolation) as exc:
            H.transfer_earned(invoice=invoice, cents=100, now=now, day=D)
    finally:
        hooks.register_earned_transfer_check(earned_transfer_check)
    assert (exc.value.message, exc.value.field) == (TRUST_TRANSFER_UNCHECKED, "kind")
    assert selectors.client_trust_balance(client=invoice.client, matter=invoice.matter) == 50_000
    H.transfer_earned(invoice=invoice, cents=100, now=now, day=D)  # registered again: allowed
    assert selectors.client_trust_balance(client=invoice.client, matter=invoice.matter) == 49_900


@pytest.mark.parametrize("kind", EntryKind.values)
def test_an_entry_names_itself_with_its_kinds_label(kind):
    """``str(entry)`` (every entry's audit event stores it) reads the kind's label from a dict
    built once: the same text as Django's ``get_kind_display``."""
    entry = JournalEntry(pk=7, entry_date=D, kind=kind)
    assert str(entry) == f"JE-7 2026-03-01 {entry.get_kind_display()}"
    assert entry.get_kind_display() != kind  # every kind has a label of its own


def test_balances_as_of_read_the_kept_balances_unless_a_posting_is_later(now):
    """As of a day no posting of the accounts is dated after, ``account_balances_as_of`` reads
    the kept ``AccountBalance`` rows; as of an earlier day, the postings up to it. Both equal
    the postings' sums, in the accounts' normal-balance sign, in one statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    matter = make_matter()
    H.deposit(matter=matter, cents=70_000, now=now, day=date(2026, 3, 1))
    H.deposit(matter=matter, cents=5_000, now=now, day=date(2026, 7, 1))
    codes = [A.CLIENT_TRUST_LIABILITY, A.TRUST_BANK, A.UNAPPLIED_CLIENT_CREDITS]
    for as_of, held in ((date(2026, 6, 15), 70_000), (date(2026, 7, 1), 75_000)):
        with CaptureQueriesContext(connection) as queries:
            got = selectors.account_balances_as_of(account_codes=codes, as_of=as_of)
        assert {code: cents for code, cents in got.items() if cents} == {
            A.CLIENT_TRUST_LIABILITY: held,
            A.TRUST_BANK: held,
        }
        for code in codes:
            assert got.get(code, 0) == selectors.account_balance(code=code, as_of=as_of)
        assert len(queries.captured_queries) == 1
    # The kept rows are what is read for today: a tampered row shows (verify names it).
    from caseledger.ledger.models import AccountBalance

    AccountBalance.objects.filter(account__code=A.TRUST_BANK).update(balance_cents=1)
    assert (
        selectors.account_balances_as_of(account_codes=codes, as_of=date(2026, 7, 1))[A.TRUST_BANK]
        == 1
    )
    assert (
        selectors.account_balances_as_of(account_codes=codes, as_of=date(2026, 6, 15))[A.TRUST_BANK]
        == 70_000
    )
