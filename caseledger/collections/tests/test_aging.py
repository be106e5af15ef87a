from __future__ import annotations

from datetime import date

import pytest

from caseledger.collections import exceptions as E
from caseledger.collections.selectors import (
    aging_csv,
    aging_invoices,
    aging_report,
    bucket_of,
)
from caseledger.credits.choices import ReasonCode
from caseledger.credits.services import credit_note_request, write_off_request
from caseledger.credits.tests import factories as F
from caseledger.ledger import accounts as A
from caseledger.ledger.selectors import account_balance

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 10, 31)


@pytest.fixture
def book(users, now):
    """Invoices in every bucket on 2026-10-31, some partly settled."""
    partner = users["PARTNER"]
    acme = F.client(corporate=True, name="Acme Corp")
    ana = F.client(corporate=False, name="Ana Lima")
    m1 = F.matter(client_obj=acme, partner=partner)
    m2 = F.matter(client_obj=ana, partner=partner)
    inv = {
        "current": F.invoice(
            matter_obj=m1, cents=10_000, issued=date(2026, 10, 20), due=date(2026, 11, 19)
        ),
        "d1_30": F.invoice(
            matter_obj=m1, cents=20_000, issued=date(2026, 9, 15), due=date(2026, 10, 15)
        ),
        "d31_60": F.invoice(
            matter_obj=m2, cents=30_000, issued=date(2026, 8, 20), due=date(2026, 9, 20)
        ),
        "d61_90": F.invoice(
            matter_obj=m2, cents=40_000, issued=date(2026, 7, 20), due=date(2026, 8, 20)
        ),
        "d90_plus": F.invoice(
            matter_obj=m1, cents=50_000, issued=date(2026, 5, 1), due=date(2026, 6, 1)
        ),
    }
    F.pay(invoice_obj=inv["d1_30"], cents=5_000, day=date(2026, 10, 10))
    F.pay(invoice_obj=inv["d61_90"], cents=40_000, day=date(2026, 11, 1))  # after AS_OF
    credit_note_request(
        invoice=inv["d31_60"],
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=2_500,
        actor=users["BILLING"],
        now=now,
    )
    write_off_request(
        invoice=inv["d90_plus"],
        amount_cents=20_000,
        reason="Bad debt",
        actor=users["BILLING"],
        now=now,
    )
    return inv


def test_buckets_as_of_a_date(book):
    report = aging_report(as_of=AS_OF, group="client")
    totals = report.totals
    # The credit note and write-off are dated 2026-11-02 (after AS_OF): not in this aging.
    assert totals == {
        "current": 10_000,
        "d1_30": 15_000,
        "d31_60": 30_000,
        "d61_90": 40_000,
        "d90_plus": 50_000,
    }
    assert report.total == account_balance(code=A.ACCOUNTS_RECEIVABLE, as_of=AS_OF)


@pytest.mark.parametrize("as_of", [date(2026, 5, 31), date(2026, 9, 30), AS_OF, date(2026, 11, 2)])
@pytest.mark.parametrize("group", ["client", "matter", "partner", "case_type"])
def test_totals_equal_the_ledger_ar_on_any_date(book, as_of, group):
    report = aging_report(as_of=as_of, group=group)
    assert report.total == account_balance(code=A.ACCOUNTS_RECEIVABLE, as_of=as_of)


def _facts_dated_up_to(as_of: date, group: str) -> dict[object, dict[str, int]]:
    """The report's rows as summing every aging fact dated on or before ``as_of`` gives them."""
    from caseledger.collections.selectors import BUCKETS, GROUPS, aging_facts

    want: dict[object, dict[str, int]] = {}
    for key, due, cents in aging_facts(as_of).values_list(
        GROUPS[group], "due_date", "amount_cents"
    ):
        want.setdefault(key, dict.fromkeys(BUCKETS, 0))[bucket_of(due, as_of)] += cents
    return {k: v for k, v in want.items() if any(v.values())}


DATES = [date(2026, 5, 31), date(2026, 9, 30), AS_OF, date(2026, 11, 1), date(2026, 11, 2)]


@pytest.mark.parametrize("as_of", DATES)
@pytest.mark.parametrize("group", ["client", "matter", "partner", "case_type"])
def test_the_report_equals_the_facts_dated_up_to_the_date(book, as_of, group):
    """The report reads the open rows less the facts dated after ``as_of`` (ADR 022): the same
    buckets as summing every fact dated on or before it, per group, and the same totals."""
    from caseledger.collections.selectors import aging_rows, aging_totals

    want = _facts_dated_up_to(as_of, group)
    report = aging_report(as_of=as_of, group=group)
    assert {r.key: r.buckets for r in report.rows} == want
    assert aging_totals(as_of=as_of) == report.totals
    assert len(aging_rows(as_of=as_of, group=group)) == len(want)


@pytest.fixture
def kept_buckets() -> None:
    """The buckets kept as of ``AS_OF`` before any posting (requested before ``book``): the
    posting listener keeps them through every entry of the book."""
    from caseledger.collections.services.aging_facts import aging_buckets_rebuild

    assert aging_buckets_rebuild(AS_OF) == 0  # nothing posted yet: the book comes after


@pytest.mark.parametrize("group", ["client", "matter", "partner", "case_type"])
def test_the_buckets_kept_by_the_listener_give_the_same_report(kept_buckets, book, group):
    """Read from the buckets (as of their date) or from the open rows (any other date), the
    report is the facts dated up to the date; the buckets agree with the open rows."""
    from caseledger.collections.selectors import aging_buckets_verify, aging_rows, aging_totals

    assert aging_buckets_verify() == []
    for as_of in DATES:
        want = _facts_dated_up_to(as_of, group)
        report = aging_report(as_of=as_of, group=group)
        assert {r.key: r.buckets for r in report.rows} == want, as_of
        assert aging_totals(as_of=as_of) == report.totals
        assert len(aging_rows(as_of=as_of, group=group)) == len(want)


@pytest.mark.parametrize("buckets_of", [date(2026, 9, 30), AS_OF, date(2026, 11, 2)])
@pytest.mark.parametrize("group", ["client", "matter", "partner", "case_type"])
def test_buckets_rebuilt_for_any_date_give_the_same_report(book, buckets_of, group):
    from caseledger.collections.services.aging_facts import aging_buckets_rebuild

    aging_buckets_rebuild(buckets_of)
    for as_of in DATES:
        report = aging_report(as_of=as_of, group=group)
        assert {r.key: r.buckets for r in report.rows} == _facts_dated_up_to(as_of, group)


def test_the_report_of_the_buckets_date_reads_the_buckets(kept_buckets, book):
    """As of the buckets' date the report reads them, not the open rows: a row changed behind
    the listener's back shows there (and ``verify`` names it), and only there."""
    from caseledger.collections.models import ARAgingBuckets
    from caseledger.collections.selectors import aging_buckets_verify

    other = date(2026, 11, 2)
    before = (aging_report(as_of=AS_OF).total, aging_report(as_of=other).total)
    row = ARAgingBuckets.objects.exclude(total_cents=0).first()
    assert row is not None
    ARAgingBuckets.objects.filter(pk=row.pk).update(total_cents=row.total_cents + 1)
    assert aging_report(as_of=AS_OF).total == before[0] + 1
    assert aging_report(as_of=other).total == before[1]
    assert len(aging_buckets_verify()) == 1


def test_later_settlements_show_on_later_dates(book):
    report = aging_report(as_of=date(2026, 11, 2), group="client")
    assert report.totals["d61_90"] == 0  # paid on 11-01
    assert report.totals["d31_60"] == 27_500  # due 09-20, 43 days; 2,500 credited on 11-02
    by_invoice = {r.invoice_id: r.balance_cents for r in aging_invoices(as_of=date(2026, 11, 2))}
    assert by_invoice[book["d31_60"].pk] == 27_500
    assert by_invoice[book["d90_plus"].pk] == 30_000


@pytest.mark.parametrize("group", ["client", "matter", "partner", "case_type"])
def test_one_grouped_query_with_the_labels(book, group, django_assert_num_queries):
    with django_assert_num_queries(1):
        report = aging_report(as_of=AS_OF, group=group)
    assert all(r.label not in {"", "(none)", "Unassigned"} for r in report.rows)


def test_group_labels_and_drill_down_reconcile(book, users):
    report = aging_report(as_of=AS_OF, group="client")
    labels = {r.label for r in report.rows}
    assert labels == {"Acme Corp", "Ana Lima"}
    for row in report.rows:
        rows = aging_invoices(as_of=AS_OF, group="client", key=row.key)
        assert sum(r.balance_cents for r in rows) == row.total
        for bucket, cents in row.buckets.items():
            in_bucket = aging_invoices(as_of=AS_OF, group="client", key=row.key, bucket=bucket)
            assert sum(r.balance_cents for r in in_bucket) == cents
            assert all(r.bucket == bucket for r in in_bucket)
    partner = aging_report(as_of=AS_OF, group="partner")
    assert [r.label for r in partner.rows] == [users["PARTNER"].username]
    case_types = aging_report(as_of=AS_OF, group="case_type")
    assert len(case_types.rows) == 2


def test_csv_has_a_total_line(book):
    text = aging_csv(aging_report(as_of=AS_OF, group="client"))
    lines = text.strip().splitlines()
    assert lines[0] == "Client,Current,1-30,31-60,61-90,90+,Total"
    assert lines[-1] == "Total,100.00,150.00,300.00,400.00,500.00,1450.00"


def test_unknown_group_refused():
    with pytest.raises(E.CollectionsError) as info:
        aging_report(as_of=AS_OF, group="colour")
    assert info.value.message == (
        "group: must be one of client, matter, partner, case_type (got 'colour')"
    )


@pytest.mark.parametrize(
    ("due", "bucket"),
    [
        (date(2026, 10, 31), "current"),
        (date(2026, 10, 30), "d1_30"),
        (date(2026, 10, 1), "d1_30"),
        (date(2026, 9, 30), "d31_60"),
        (date(2026, 9, 1), "d31_60"),
        (date(2026, 8, 31), "d61_90"),
        (date(2026, 8, 2), "d61_90"),
        (date(2026, 8, 1), "d90_plus"),
    ],
)
def test_bucket_edges(due, bucket):
    assert bucket_of(due, AS_OF) == bucket


def test_api_returns_aging_json(book, login, users):
    client = login(users["BILLING"])
    response = client.get("/api/v1/collections/aging", {"as_of": "2026-10-31", "group": "client"})
    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["total_cents"] == 145_000
    assert body["totals"]["d90_plus_cents"] == 50_000
    assert {r["label"] for r in body["results"]} == {"Acme Corp", "Ana Lima"}
    assert body["count"] == 2
    assert body["next"] is None
    denied = login(users["PARALEGAL"]).get("/api/v1/collections/aging")
    assert denied.status_code == 403


def test_api_pages_the_rows_with_totals_over_all_of_them(book, login, users):
    client = login(users["BILLING"])
    url = "/api/v1/collections/aging"
    first = client.get(url, {"as_of": "2026-10-31", "limit": 1}).json()
    assert first["count"] == 2
    assert len(first["results"]) == 1
    assert "offset=1" in first["next"]
    second = client.get(first["next"]).json()
    assert second["next"] is None
    assert len(second["results"]) == 1
    # largest total first; the totals are the whole report's on every page
    assert first["results"][0]["total_cents"] >= second["results"][0]["total_cents"]
    assert first["totals"] == second["totals"]
    assert first["totals"]["total_cents"] == 145_000
    assert client.get(url, {"limit": 0}).status_code == 422


def test_paged_rows_are_the_report_in_order(book):
    from caseledger.collections.selectors import aging_rows, aging_totals

    for group in ("client", "matter", "partner", "case_type"):
        every = aging_report(as_of=AS_OF, group=group)
        rows = aging_rows(as_of=AS_OF, group=group)
        assert len(rows) == len(every.rows)
        paged = [r for i in range(len(every.rows)) for r in rows[i : i + 1]]
        assert paged == every.rows
        assert aging_totals(as_of=AS_OF) == every.totals


@pytest.mark.parametrize("group", [None, "client", "matter", "partner", "case_type"])
def test_the_drill_down_reads_the_open_rows_when_nothing_is_dated_later(book, group, monkeypatch):
    """With no fact after the date, the drill-down (rows, count, total) reads the open A/R
    rows; it must equal the facts grouped up to the date, in every group and bucket."""
    from caseledger.collections import selectors as S
    from caseledger.collections.selectors import BUCKETS, aging_invoices_total, aging_report

    as_of = date(2026, 11, 2)  # after every posting of the book: the open rows are current
    assert S._open_rows_current(as_of)
    assert not S._open_rows_current(AS_OF)  # a payment on Nov 1 is dated after it
    keys = [r.key for r in aging_report(as_of=as_of, group=group).rows] if group else [None]

    def read() -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        for key in keys:
            for bucket in (None, *BUCKETS):
                kw = {"group": group, "key": key, "bucket": bucket}
                rows = aging_invoices(as_of=as_of, **kw)
                out.append((key, bucket, [vars(r) for r in rows]))
                total = aging_invoices_total(as_of=as_of, **kw)
                # the total read from the report's sums is the rows' sum, to the cent
                assert total == sum(r.balance_cents for r in rows)
                out.append((key, bucket, total))
                count = S.aging_invoices_count(as_of=as_of, **kw)
                assert count == len(rows) == S.aging_invoices_query(as_of=as_of, **kw).count()
                out.append((key, bucket, count))
        return out

    from_open_rows = read()
    # the same with the stored buckets of that date (the total reads them, not the open rows)
    from caseledger.collections.services.aging_facts import aging_buckets_rebuild

    aging_buckets_rebuild(as_of)
    assert read() == from_open_rows
    monkeypatch.setattr(S, "_open_rows_current", lambda as_of: False)
    assert read() == from_open_rows
    assert any(rows for _, _, rows in from_open_rows if isinstance(rows, list))


def test_pages_split_ties_of_the_total_by_label_as_the_whole_report_does(users):
    """A page reads only the rows whose total reaches its last row's (then sorts those by
    label): with many clients owing the same amount across page boundaries, every page and
    window (with its totals) is the whole report's slice, in order."""
    from caseledger.collections.selectors import aging_rows

    partner = users["PARTNER"]
    for i, cents in enumerate([30_000, 20_000, 20_000, 20_000, 20_000, 10_000, 20_000, 5_000]):
        matter = F.matter(client_obj=F.client(name=f"Client {7 - i}"), partner=partner)
        F.invoice(matter_obj=matter, cents=cents, issued=date(2026, 9, 1), due=date(2026, 10, 1))
    every = aging_report(as_of=AS_OF, group="client").rows
    assert [r.buckets["d1_30"] for r in every][:6] == [30_000, *[20_000] * 5]
    assert [r.label for r in every][1:6] == sorted(r.label for r in every[1:6])
    for size in (1, 2, 3, 4, 5, 9):
        for start in range(0, len(every) + 1):
            rows = aging_rows(as_of=AS_OF, group="client")
            rows.read_window(start, size)
            assert rows[start : start + size] == every[start : start + size]
            if start < len(every):
                assert len(rows) == len(every)
                assert rows.totals is not None
                assert rows.totals["d1_30"] == sum(r.buckets["d1_30"] for r in every)
            assert (
                aging_rows(as_of=AS_OF, group="client")[start : start + size]
                == every[start : start + size]
            )
