"""The aging fact table: one fact per A/R posting on every path that posts A/R, written in the
posting's transaction with the invoice's final due date; no fact (and no query) for an entry
without A/R; the rebuild back-fills what is missing; ``verify_aging`` names the differences.
The open rows and their buckets per client and matter, kept by the same listener, agree with
the facts on every path."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from caseledger.collections.models import (
    ARAgingBuckets,
    ARAgingBucketsDate,
    ARAgingFact,
    ARAgingOpen,
)
from caseledger.collections.selectors import (
    aging_buckets_verify,
    aging_facts_verify,
    aging_open_verify,
    aging_report,
)
from caseledger.collections.services import aging_facts_rebuild
from caseledger.collections.services.aging_facts import (
    aging_buckets_rebuild,
    aging_buckets_roll,
    aging_open_rebuild,
    on_postings,
)
from caseledger.credits.choices import ReasonCode, RefundMethod
from caseledger.credits.services import credit_note_request, write_off_request, write_off_reverse
from caseledger.credits.tests import factories as F
from caseledger.ledger import accounts as A
from caseledger.ledger import hooks
from caseledger.ledger.models import Posting
from caseledger.ledger.selectors import account_balance
from caseledger.ledger.tests import helpers as H

pytestmark = pytest.mark.django_db

LATER = date(2027, 12, 31)
BUCKETS_DAY = date(2026, 9, 30)  # the date the ``buckets`` fixture keeps the buckets of


def _assert_facts_equal_ar_postings() -> None:
    """Exactly one fact per A/R posting, with the posting's values and its invoice's due date;
    the aging total equals the ledger's A/R."""
    postings = {
        pk: rest
        for pk, *rest in Posting.objects.filter(account__code=A.ACCOUNTS_RECEIVABLE).values_list(
            "pk",
            "entry_date",
            "amount_cents",
            "client_id",
            "matter_id",
            "invoice_id",
            "invoice__due_date",
        )
    }
    facts = {
        pk: rest
        for pk, *rest in ARAgingFact.objects.values_list(
            "posting_id",
            "entry_date",
            "amount_cents",
            "client_id",
            "matter_id",
            "invoice_id",
            "due_date",
        )
    }
    assert facts == postings
    assert aging_facts_verify() == []
    assert aging_open_verify() == []  # the open rows: the facts' non-zero sums per receivable
    assert aging_buckets_verify() == []  # their buckets per client and matter, when kept
    for as_of in (BUCKETS_DAY, LATER):
        assert aging_report(as_of=as_of).total == account_balance(
            code=A.ACCOUNTS_RECEIVABLE, as_of=as_of
        )


def _kinds_with_facts() -> set[str]:
    return set(
        Posting.objects.filter(pk__in=ARAgingFact.objects.values("posting_id")).values_list(
            "entry__kind", flat=True
        )
    )


@pytest.fixture
def no_listener() -> Iterator[None]:
    """Post without the collections listener (as before the fact table existed)."""
    hooks.unregister_posting_listener(on_postings)
    try:
        yield
    finally:
        hooks.register_posting_listener(on_postings)


@pytest.fixture
def buckets() -> None:
    """The buckets kept as of ``BUCKETS_DAY`` from the start (no A/R yet: only the date), so
    the listener keeps them through every posting after."""
    assert aging_buckets_rebuild(BUCKETS_DAY) == 0


@pytest.fixture
def world(users: dict[str, Any], settings: Any) -> Any:
    from caseledger.billing.tests.factories import build_world

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return build_world(users)


def test_listener_is_registered():
    assert on_postings in hooks.posting_listeners()


def test_invoice_issue_and_void_write_facts_with_the_final_due_date(buckets, world):
    from caseledger.billing import services as billing
    from caseledger.billing.tests.factories import approved_draft

    draft = approved_draft(world)
    invoice = billing.invoice_issue(invoice=draft, actor=world.billing, now=world.now)
    fact = ARAgingFact.objects.get(invoice=invoice)
    # The due date as issued (issue date + payment terms), not the draft's.
    assert fact.due_date is not None
    assert invoice.issue_date is not None
    assert fact.due_date == invoice.due_date
    assert fact.due_date > invoice.issue_date
    assert fact.amount_cents == invoice.total_cents
    assert fact.posting.entry_id == invoice.issue_entry_id
    _assert_facts_equal_ar_postings()

    billing.invoice_void(invoice=invoice, actor=world.partner, now=world.now, reason="Duplicate")
    assert ARAgingFact.objects.filter(invoice=invoice).count() == 2  # issue + its reversal
    assert {"INVOICE_ISSUED", "REVERSAL"} <= _kinds_with_facts()
    _assert_facts_equal_ar_postings()
    assert aging_report(as_of=LATER).total == 0


def test_every_path_that_posts_ar_writes_one_fact_per_posting(buckets, users, now):
    from caseledger.credits.choices import WriteOffStatus
    from caseledger.credits.models import WriteOff
    from caseledger.payments.services import Allocation, payment_allocate, payment_record

    billing_user = users["BILLING"]
    matter = F.matter(partner=users["PARTNER"])
    inv = F.invoice(matter_obj=matter, cents=100_000, issued=date(2026, 9, 1))
    other = F.invoice(matter_obj=matter, cents=50_000, issued=date(2026, 9, 2))
    _assert_facts_equal_ar_postings()

    F.pay(invoice_obj=inv, cents=70_000, day=date(2026, 9, 10))  # payment received
    _assert_facts_equal_ar_postings()

    unapplied = payment_record(
        client=matter.client,
        matter=matter,
        method="CHECK",
        payer="Acme",
        amount_cents=5_000,
        received_date=date(2026, 9, 11),
        actor=billing_user,
        now=now,
        reference="2002",
        allocations=[],
    )
    payment_allocate(  # unapplied credit applied later
        payment=unapplied,
        allocations=[Allocation(invoice=other, amount_cents=5_000)],
        actor=billing_user,
        now=now,
    )
    _assert_facts_equal_ar_postings()

    credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=40_000,  # 30,000 off the balance; 10,000 of the payment refunded
        refund_cents=10_000,
        refund_method=RefundMethod.CHECK,
        actor=billing_user,
        now=now,
    )
    _assert_facts_equal_ar_postings()

    write_off_request(
        invoice=other, amount_cents=10_000, reason="Bad debt", actor=billing_user, now=now
    )
    _assert_facts_equal_ar_postings()
    posted = WriteOff.objects.get(invoice=other, status=WriteOffStatus.POSTED)
    write_off_reverse(write_off=posted, reason="Client paid", actor=billing_user, now=now)
    _assert_facts_equal_ar_postings()

    F.trust_deposit(matter_obj=matter, cents=20_000, day=date(2026, 9, 12))
    F.trust_pay(invoice_obj=other, cents=20_000, day=date(2026, 9, 13), actor=billing_user)
    _assert_facts_equal_ar_postings()

    assert _kinds_with_facts() == {
        "INVOICE_ISSUED",
        "PAYMENT_RECEIVED",
        "PAYMENT_APPLIED",
        "CREDIT_NOTE",
        "WRITE_OFF",
        "WRITE_OFF_REVERSAL",
        "TRUST_TRANSFER_EARNED",
    }


def test_an_entry_without_ar_costs_no_fact_query(now):
    matter = F.matter()
    H.deposit(matter=matter, cents=1_000, now=now, day=date(2026, 9, 1))  # warm caches

    def deposit_queries() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            H.deposit(matter=matter, cents=1_000, now=now, day=date(2026, 9, 1))
        return [q["sql"] for q in ctx.captured_queries]

    with_listener = deposit_queries()
    hooks.unregister_posting_listener(on_postings)
    try:
        without = deposit_queries()
    finally:
        hooks.register_posting_listener(on_postings)
    assert len(with_listener) == len(without)
    assert not [sql for sql in with_listener if "collections_aragingfact" in sql]
    assert ARAgingFact.objects.count() == 0


def _aging_statements(ctx: CaptureQueriesContext) -> list[str]:
    """The statements on the aging tables, by their first words and table."""
    out = []
    for q in ctx.captured_queries:
        sql = q["sql"]
        if sql.startswith("INSERT INTO collections_aragingfact"):
            out.append("insert fact")
        elif sql.startswith("INSERT INTO collections_aragingopen"):
            out.append("upsert open")
        elif sql.startswith("DELETE FROM collections_aragingopen"):
            out.append("delete open")
        elif sql.startswith("INSERT INTO collections_aragingbuckets"):
            out.append("upsert buckets")
        elif "collections_aragingfact" in sql or "collections_aragingopen" in sql:
            out.append(sql)
    return out


def test_an_entry_with_ar_costs_one_fact_statement_and_two_upserts(buckets, now):
    inv = F.invoice(matter_obj=F.matter(), cents=10_000, issued=date(2026, 9, 1))
    with CaptureQueriesContext(connection) as ctx:
        H.issue_invoice(invoice=inv, cents=1_000, now=now, day=date(2026, 9, 2))
    assert _aging_statements(ctx) == ["insert fact", "upsert open", "upsert buckets"]
    assert ARAgingOpen.objects.get(invoice=inv).open_cents == 11_000
    row = ARAgingBuckets.objects.get()
    assert (row.key, row.client_id, row.matter_id) == (
        f"{inv.client_id}|{inv.matter_id}",
        inv.client_id,
        inv.matter_id,
    )
    assert row.total_cents == 11_000
    _assert_facts_equal_ar_postings()


def test_the_open_row_goes_when_paid_and_comes_back_when_owed_again(buckets, now):
    inv = F.invoice(matter_obj=F.matter(), cents=10_000, issued=date(2026, 9, 1))
    open_row = ARAgingOpen.objects.get()
    assert (open_row.invoice_id, open_row.client_id, open_row.matter_id) == (
        inv.pk,
        inv.client_id,
        inv.matter_id,
    )
    assert (open_row.due_date, open_row.open_cents) == (inv.due_date, 10_000)
    F.pay(invoice_obj=inv, cents=4_000, day=date(2026, 9, 5))
    assert ARAgingOpen.objects.get().open_cents == 6_000
    with CaptureQueriesContext(connection) as ctx:
        F.pay(invoice_obj=inv, cents=6_000, day=date(2026, 9, 6))
    assert _aging_statements(ctx) == ["insert fact", "upsert open", "delete open", "upsert buckets"]
    assert not ARAgingOpen.objects.exists()  # paid: nothing open, no row
    # Its buckets row stays, at zero, until the next rebuild.
    assert ARAgingBuckets.objects.values_list("total_cents", flat=True).get() == 0
    _assert_facts_equal_ar_postings()
    H.issue_invoice(invoice=inv, cents=2_500, now=now, day=date(2026, 9, 7))  # owed again
    assert ARAgingOpen.objects.get().open_cents == 2_500
    _assert_facts_equal_ar_postings()
    # As of a date before the payments the report still sees them unpaid: the open rows less
    # the facts dated after that date.
    assert aging_report(as_of=date(2026, 9, 4)).total == 10_000
    assert aging_report(as_of=date(2026, 9, 5)).total == 6_000
    assert aging_report(as_of=date(2026, 9, 6)).total == 0


def test_open_rows_verify_names_the_differences_and_rebuild_repairs_them(now):
    inv = F.invoice(matter_obj=F.matter(), cents=10_000, issued=date(2026, 9, 1))
    paid = F.invoice(matter_obj=F.matter(), cents=3_000, issued=date(2026, 9, 1))
    F.pay(invoice_obj=paid, cents=3_000, day=date(2026, 9, 2))
    assert aging_open_verify() == []
    row = ARAgingOpen.objects.get(invoice=inv)
    ARAgingOpen.objects.filter(pk=row.pk).update(open_cents=9_999)
    stray = ARAgingOpen.objects.create(
        key="x", open_cents=0, invoice=paid, client_id=paid.client_id, matter_id=paid.matter_id
    )
    want = (
        f"{10_000} cents open (invoice {inv.pk}, client {inv.client_id}, matter "
        f"{inv.matter_id}, due {inv.due_date.isoformat()}, reference -)"
    )
    assert aging_open_verify() == [
        f"open A/R {row.key}: the table has {want.replace('10000', '9999')}, the aging facts "
        f"give {want}",
        f"open A/R x: the table has 0 cents open (invoice {paid.pk}, client {paid.client_id}, "
        f"matter {paid.matter_id}, due -, reference -), the aging facts give no row",
    ]
    assert row.key == f"{inv.pk}|{inv.client_id}|{inv.matter_id}|{inv.due_date.isoformat()}|"
    assert stray.key == "x"
    assert aging_open_rebuild() == 1
    assert aging_open_verify() == []
    ARAgingOpen.objects.all().delete()
    assert len(aging_open_verify()) == 1  # the missing row
    call_command("verify_aging")  # the facts themselves still agree with the ledger


def test_buckets_verify_names_the_differences_and_rebuild_repairs_them(now):
    old = F.invoice(
        matter_obj=F.matter(), cents=10_000, issued=date(2026, 6, 1), due=date(2026, 7, 1)
    )
    new = F.invoice(
        matter_obj=F.matter(), cents=3_000, issued=date(2026, 9, 20), due=date(2026, 10, 20)
    )
    assert aging_buckets_verify() == []  # no date, no rows: nothing kept, nothing wrong
    assert aging_buckets_rebuild(BUCKETS_DAY) == 2
    assert aging_buckets_verify() == []
    row = ARAgingBuckets.objects.get(matter=old.matter_id)
    # As of 09-30 the old invoice is 91 days past due: in every cumulative sum; the new one in
    # the total only (not yet due).
    assert (row.total_cents, row.due_cents, row.due30_cents, row.due60_cents, row.due90_cents) == (
        10_000,
        10_000,
        10_000,
        10_000,
        10_000,
    )
    assert ARAgingBuckets.objects.get(matter=new.matter_id).due_cents == 0
    ARAgingBuckets.objects.filter(pk=row.pk).update(due60_cents=9_999)
    ARAgingBuckets.objects.create(key="x", total_cents=5)
    assert aging_buckets_verify() == [
        f"A/R buckets {row.key} as of {BUCKETS_DAY}: the table has 10000 cents open (10000 due "
        "before the date, 10000, 9999 and 10000 before 30, 60 and 90 days earlier), the open "
        "A/R gives 10000 cents open (10000 due before the date, 10000, 10000 and 10000 before "
        "30, 60 and 90 days earlier)",
        f"A/R buckets x as of {BUCKETS_DAY}: the table has 5 cents open (0 due before the "
        "date, 0, 0 and 0 before 30, 60 and 90 days earlier), the open A/R gives no row",
    ]
    assert aging_open_rebuild() == 2  # rebuilding the open rows rebuilds their buckets too
    assert aging_buckets_verify() == []
    ARAgingBuckets.objects.filter(pk=row.pk).delete()
    assert len(aging_buckets_verify()) == 1  # the missing row
    ARAgingBucketsDate.objects.all().delete()
    assert len(aging_buckets_verify()) == 1  # no date: the row left is one too many
    assert aging_buckets_rebuild(BUCKETS_DAY) == 2
    _assert_facts_equal_ar_postings()


def test_the_roll_moves_the_buckets_to_a_new_date_once(now):
    from caseledger.collections.tasks import aging_buckets_roll_due
    from caseledger.core import clock

    inv = F.invoice(
        matter_obj=F.matter(), cents=10_000, issued=date(2026, 9, 1), due=date(2026, 10, 1)
    )
    assert aging_buckets_roll(BUCKETS_DAY) is True
    assert aging_buckets_roll(BUCKETS_DAY) is False  # same date: one read, nothing rebuilt
    assert ARAgingBuckets.objects.get().due_cents == 0  # not yet due on 09-30
    assert aging_buckets_roll(date(2026, 10, 2)) is True
    row = ARAgingBuckets.objects.get()
    assert (row.total_cents, row.due_cents, row.due30_cents) == (10_000, 10_000, 0)
    assert aging_buckets_verify() == []
    assert aging_report(as_of=date(2026, 10, 2)).totals["d1_30"] == inv.total_cents
    aging_buckets_roll_due.call_local()  # the minute task: to the firm's today
    assert ARAgingBucketsDate.objects.get().as_of == clock.firm_today()
    assert aging_buckets_verify() == []


def test_the_migration_back_fill_writes_the_open_rows(now):
    inv = F.invoice(matter_obj=F.matter(), cents=10_000, issued=date(2026, 9, 1))
    F.pay(invoice_obj=inv, cents=4_000, day=date(2026, 9, 5))
    paid = F.invoice(matter_obj=F.matter(), cents=3_000, issued=date(2026, 9, 1))
    F.pay(invoice_obj=paid, cents=3_000, day=date(2026, 9, 2))
    stored = list(ARAgingOpen.objects.order_by("key").values_list())
    assert len(stored) == 1
    ARAgingOpen.objects.all().delete()
    _open_backfill()
    _open_backfill()  # a rerun writes the same rows
    assert list(ARAgingOpen.objects.order_by("key").values_list()) == stored
    _assert_facts_equal_ar_postings()


def test_facts_are_append_only():
    F.invoice(matter_obj=F.matter(), cents=10_000)
    with pytest.raises(DatabaseError), transaction.atomic():
        ARAgingFact.objects.update(amount_cents=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        ARAgingFact.objects.all().delete()
    _assert_facts_equal_ar_postings()


def test_verify_names_the_invoices_and_rebuild_back_fills_them(no_listener, capsys):
    inv = F.invoice(matter_obj=F.matter(), cents=10_000, issued=date(2026, 9, 1))
    F.pay(invoice_obj=inv, cents=4_000, day=date(2026, 9, 5))

    problems = aging_facts_verify()
    assert problems == [
        f"invoice {inv.number} (id {inv.pk}): ledger has 2 A/R posting(s) totalling 6000 "
        "cents, the aging facts 0 row(s) totalling 0 cents"
    ]
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_aging")
    assert exit_info.value.code == 1
    out = capsys.readouterr()
    assert problems[0] in out.out
    assert "1 difference(s)" in out.err

    call_command("aging_facts_rebuild")
    assert "2 missing fact(s) written" in capsys.readouterr().out
    _assert_facts_equal_ar_postings()
    assert aging_facts_rebuild() == 0  # idempotent
    call_command("verify_aging")
    assert "every invoice agrees" in capsys.readouterr().out


def test_verify_reports_a_fact_that_is_not_an_ar_posting():
    inv = F.invoice(matter_obj=F.matter(), cents=10_000)
    revenue = Posting.objects.get(invoice=inv, account__code=A.FEE_REVENUE)
    ARAgingFact.objects.create(
        posting=revenue,
        entry_date=revenue.entry_date,
        due_date=inv.due_date,
        amount_cents=revenue.amount_cents,
        client_id=revenue.client_id,
        matter_id=revenue.matter_id,
        invoice=inv,
    )
    label = f"{inv.number} (id {inv.pk})"
    assert aging_facts_verify() == [
        f"invoice {label}: ledger has 1 A/R posting(s) totalling 10000 cents, the aging facts "
        "2 row(s) totalling 0 cents",
        f"invoice {label}: 1 aging fact(s) differ from their posting (amount, date, client, "
        "matter, invoice or due date) or name no A/R posting",
    ]


def test_the_migration_back_fill_writes_the_missing_facts(no_listener):
    migration = importlib.import_module("caseledger.collections.migrations.0003_ar_aging_facts")
    inv = F.invoice(matter_obj=F.matter(), cents=10_000, issued=date(2026, 9, 1))
    F.pay(invoice_obj=inv, cents=4_000, day=date(2026, 9, 5))
    with connection.cursor() as cur:
        cur.execute(migration.BACKFILL_SQL)
        cur.execute(migration.BACKFILL_SQL)  # a rerun writes nothing more
    assert aging_facts_verify() == []
    assert len(aging_open_verify()) == 1  # the invoice's open row: the next migration's
    _open_backfill()
    _assert_facts_equal_ar_postings()


def _open_backfill() -> None:
    migration = importlib.import_module(
        "caseledger.collections.migrations.0007_aging_open_backfill"
    )

    class Editor:
        connection: Any = None

    editor = Editor()
    editor.connection = connection
    migration.backfill(None, editor)


def test_ar_posting_without_invoice_ages_as_current(now):
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    matter = F.matter()
    entry_post(
        kind=EntryKind.OPENING_BALANCE,
        entry_date=date(2026, 1, 1),
        memo="Opening A/R",
        lines=[
            PostingLine(A.ACCOUNTS_RECEIVABLE, 7_500, client=matter.client, matter=matter),
            PostingLine(A.FEE_REVENUE, -7_500, client=matter.client, matter=matter),
        ],
        actor=None,
        now=now,
    )
    fact = ARAgingFact.objects.get()
    assert (fact.invoice_id, fact.due_date) == (None, None)
    assert aging_report(as_of=LATER).totals["current"] == 7_500
    _assert_facts_equal_ar_postings()
