"""The database itself refuses what the ledger service would: on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from caseledger.ledger import accounts as A
from caseledger.ledger.models import Account, JournalEntry, Posting, SubledgerBalance
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import make_matter

D = date(2026, 3, 1)


def _raw(sql, params):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)


@pytest.mark.django_db
def test_raw_update_and_delete_of_postings_and_entries_are_refused(now):
    entry = H.deposit(matter=make_matter(), cents=100, now=now, day=D)
    posting = entry.postings.get(account__code=A.TRUST_BANK)
    _raw("UPDATE ledger_posting SET amount_cents = 1 WHERE id = %s", [posting.pk])
    _raw("DELETE FROM ledger_posting WHERE id = %s", [posting.pk])
    _raw("UPDATE ledger_journalentry SET memo = 'forged' WHERE id = %s", [entry.pk])
    _raw("DELETE FROM ledger_journalentry WHERE id = %s", [entry.pk])
    assert Posting.objects.get(pk=posting.pk).amount_cents == posting.amount_cents
    assert JournalEntry.objects.get(pk=entry.pk).memo == entry.memo


@pytest.mark.django_db
def test_orm_update_of_postings_is_refused(now):
    entry = H.deposit(matter=make_matter(), cents=100, now=now, day=D)
    with pytest.raises(DatabaseError), transaction.atomic():
        Posting.objects.filter(entry=entry).update(amount_cents=5)


@pytest.mark.django_db
def test_accounts_are_never_deleted_but_may_be_deactivated():
    refunds = Account.objects.get(code=A.REFUNDS)
    _raw("DELETE FROM ledger_account WHERE id = %s", [refunds.pk])
    with connection.cursor() as cur:
        cur.execute("UPDATE ledger_account SET name = 'Refunds paid' WHERE id = %s", [refunds.pk])
    assert Account.objects.get(pk=refunds.pk).name == "Refunds paid"


@pytest.mark.django_db
def test_database_refuses_a_negative_client_trust_row(now):
    m = make_matter()
    H.deposit(matter=m, cents=100, now=now, day=D)
    row = SubledgerBalance.objects.get(is_trust_liability=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubledgerBalance.objects.filter(pk=row.pk).update(balance_cents=1)


@pytest.mark.django_db
def test_raw_reversal_of_the_same_entry_twice_is_refused(now):
    entry = H.deposit(matter=make_matter(), cents=100, now=now, day=D)
    from caseledger.ledger.services import entry_reverse

    entry_reverse(entry=entry, actor=None, now=now, entry_date=D)
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(
            entry_date=D,
            kind="REVERSAL",
            currency="USD",
            created_at=now,
            payload_hash="x",
            reverses=entry,
        )


def _insert_entry(cur, now):
    cur.execute(
        "INSERT INTO ledger_journalentry (entry_date, kind, memo, currency, created_at, "
        "payload_hash) VALUES (%s, 'ADJUSTMENT', 'raw', 'USD', %s, 'x') RETURNING id",
        [D, now],
    )
    return cur.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unbalanced_raw_entry_fails_at_commit_on_postgresql(require_postgres, now):
    operating = Account.objects.get(code=A.OPERATING_BANK).pk
    equity = Account.objects.get(code=A.EQUITY).pk
    seen_inside = []

    def unbalanced() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            entry_id = _insert_entry(cur, now)
            cur.execute(
                "INSERT INTO ledger_posting (entry_id, account_id, amount_cents, entry_date) "
                "VALUES (%s, %s, 100, %s), (%s, %s, -99, %s)",
                [entry_id, operating, D, entry_id, equity, D],
            )
            # Inside the transaction the rows are there: the check is deferred to COMMIT.
            cur.execute("SELECT COUNT(*) FROM ledger_posting WHERE entry_id = %s", [entry_id])
            seen_inside.append(cur.fetchone()[0])

    with pytest.raises(IntegrityError, match="does not sum to zero"):
        unbalanced()
    assert seen_inside == [2]
    assert not JournalEntry.objects.filter(memo="raw").exists()
    # A balanced raw entry commits (the trigger is a check, not a ban).
    with transaction.atomic(), connection.cursor() as cur:
        entry_id = _insert_entry(cur, now)
        cur.execute(
            "INSERT INTO ledger_posting (entry_id, account_id, amount_cents, entry_date) "
            "VALUES (%s, %s, 100, %s), (%s, %s, -100, %s)",
            [entry_id, operating, D, entry_id, equity, D],
        )
    assert JournalEntry.objects.filter(memo="raw").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_entry_without_postings_fails_at_commit_on_postgresql(require_postgres, now):
    def empty() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            _insert_entry(cur, now)

    with pytest.raises(IntegrityError, match="fewer than two postings"):
        empty()
    assert not JournalEntry.objects.filter(memo="raw").exists()
