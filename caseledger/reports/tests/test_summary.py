"""The KPI summary (ADR 020): after any sequence of A/R entries and reversals its rows equal the
recomputation from the postings, the firm-wide figures read from it equal the same figures
computed over the postings, and ``manage.py verify`` names a tampered row."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.credits.tests import factories as F
from caseledger.ledger import accounts as A
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry, Posting
from caseledger.ledger.services import PostingLine, entry_post, entry_reverse
from caseledger.reports import metrics, summary
from caseledger.reports.metrics import ALL, Period
from caseledger.reports.models import KpiDay, KpiIssueDay

NOW = datetime(2027, 1, 15, 12, tzinfo=UTC)
FIRST = date(2026, 9, 1)
KINDS = [
    EntryKind.INVOICE_ISSUED,
    EntryKind.INVOICE_VOID,
    EntryKind.PAYMENT_RECEIVED,
    EntryKind.PAYMENT_APPLIED,
    EntryKind.REFUND,
    EntryKind.CREDIT_NOTE,
    EntryKind.WRITE_OFF,
    EntryKind.WRITE_OFF_REVERSAL,
    EntryKind.ADJUSTMENT,
]
PERIODS = [
    Period(date(2026, 9, 1), date(2026, 9, 30)),
    Period(date(2026, 9, 15), date(2026, 11, 14)),
    Period(date(2026, 10, 1), date(2026, 12, 31)),
]

post = st.tuples(
    st.just("post"),
    st.sampled_from(KINDS),
    st.integers(min_value=-50_000, max_value=90_000).filter(bool),
    st.integers(min_value=0, max_value=100),  # days after FIRST
    st.integers(min_value=0, max_value=2),  # invoice 0, 1 or none
)
reverse = st.tuples(
    st.just("reverse"),
    st.integers(min_value=0, max_value=20),  # which earlier entry
    st.integers(min_value=0, max_value=30),  # days after it
    st.just(0),
    st.just(0),
)


def _posted_figures(period: Period, windows: tuple[int, ...]) -> metrics.PeriodFigures:
    """The firm's figures over the postings themselves (the filtered path, unfiltered)."""
    rows = metrics._figure_rows(period, ALL, windows)
    return metrics._figures_of(
        rows.aggregate(**metrics._figure_aggregates(period, windows)), windows
    )


def _check() -> None:
    assert summary.verify() == []
    ar = Posting.objects.filter(account__code=A.ACCOUNTS_RECEIVABLE)
    for period in PERIODS:
        assert metrics.period_figures(period, windows=(30, 45)) == _posted_figures(period, (30, 45))
        want = ar.filter(entry_date__lte=period.end).aggregate(t=Sum("amount_cents"))["t"] or 0
        assert metrics.ar_balance(period.end) == want
    until = date(2026, 12, 31)
    # A filter that matches every posting takes the postings path: the same cohorts.
    everyone = metrics.Filters(client_type="CORPORATE")
    assert metrics.collection_cohorts(until, 6) == metrics.collection_cohorts(until, 6, everyone)
    assert metrics.billed_by_month(until, 6) == metrics.billed_by_month(until, 6, everyone)


@pytest.mark.django_db
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(st.one_of(post, reverse), min_size=1, max_size=8))
def test_summary_equals_the_postings_after_any_entries_and_reversals(
    users: dict[str, Any], ops: list[tuple[Any, ...]]
) -> None:
    matter = F.matter(client_obj=F.client(corporate=True))
    invoices = [
        F.invoice(matter_obj=matter, cents=100_000, issued=FIRST),
        F.invoice(matter_obj=matter, cents=40_000, issued=FIRST + timedelta(days=20)),
    ]
    entries: list[JournalEntry] = list(JournalEntry.objects.order_by("id"))
    for step in ops:
        if step[0] == "post":
            _, kind, cents, offset, which = step
            invoice = invoices[which] if which < len(invoices) else None
            entry = entry_post(
                kind=kind,
                entry_date=FIRST + timedelta(days=offset),
                memo="property",
                lines=[
                    PostingLine(
                        A.ACCOUNTS_RECEIVABLE,
                        cents,
                        client=matter.client,
                        matter=matter,
                        invoice=invoice,
                    ),
                    PostingLine(A.FEE_REVENUE, -cents, client=matter.client, matter=matter),
                ],
                actor=None,
                now=NOW,
            )
        else:
            _, which, later, _, _ = step
            original = entries[which % len(entries)]
            if (
                original.kind == EntryKind.REVERSAL
                or JournalEntry.objects.filter(reverses=original).exists()
            ):
                continue  # a reversal is not reversed, an entry at most once (ledger's rules)
            entry = entry_reverse(
                entry=original,
                actor=None,
                now=NOW,
                entry_date=original.entry_date + timedelta(days=later),
            )
        entries.append(entry)
    _check()


@pytest.mark.django_db
def test_verify_names_a_tampered_or_missing_row(users: dict[str, Any]) -> None:
    matter = F.matter()
    invoice = F.invoice(matter_obj=matter, cents=100_000, issued=FIRST)
    F.pay(invoice_obj=invoice, cents=30_000, day=FIRST + timedelta(days=12), now=NOW)
    assert summary.verify() == []
    KpiDay.objects.filter(day=FIRST).update(billed_cents=99_999)
    KpiIssueDay.objects.filter(day=FIRST + timedelta(days=12)).delete()
    problems = summary.verify()
    assert problems == [
        "KPI summary reports_kpiday 2026-09-01: billed_cents is 99999, the postings give 100000",
        "KPI summary reports_kpiissueday 2026-09-01 2026-09-13: row is missing, the postings "
        "give [0, 0, -30000, 1]",
    ]
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("verify", stdout=out, stderr=StringIO())
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {"check": "kpi_summary", "problem": problems[0]} in lines
    summary.rebuild()
    assert summary.verify() == []


@pytest.mark.django_db
def test_an_entry_without_accounts_receivable_writes_no_summary_row(
    users: dict[str, Any],
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    matter = F.matter()
    with CaptureQueriesContext(connection) as ctx:
        F.trust_deposit(matter_obj=matter, cents=50_000, day=FIRST)
    assert not [q for q in ctx.captured_queries if "reports_kpi" in q["sql"]]
    assert not KpiDay.objects.exists()
    assert not KpiIssueDay.objects.exists()


@pytest.mark.django_db
def test_the_migrations_backfill_writes_the_rows_verify_expects(users: dict[str, Any]) -> None:
    """The data migration's frozen statements fill the summary of postings written before it."""
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    matter = F.matter()
    invoice = F.invoice(matter_obj=matter, cents=100_000, issued=FIRST)
    payment = F.pay(invoice_obj=invoice, cents=30_000, day=FIRST + timedelta(days=12), now=NOW)
    entry_reverse(entry=payment.entry, actor=None, now=NOW, entry_date=FIRST + timedelta(days=14))
    KpiDay.objects.all().delete()
    KpiIssueDay.objects.all().delete()
    assert summary.verify() != []
    migration = importlib.import_module("caseledger.reports.migrations.0004_kpi_summary_backfill")
    migration.backfill(None, SimpleNamespace(connection=connection))
    assert summary.verify() == []
    assert KpiDay.objects.get(day=FIRST + timedelta(days=14)).collected_cents == 30_000


def test_an_invoice_issued_through_billing_is_in_its_issue_day(users: dict[str, Any]) -> None:
    """Billing posts the issue entry before it stores the issue date on the invoice (one
    transaction): the listener files the billed amount under the entry's own date, as verify's
    recomputation from the committed rows does."""
    from caseledger.billing import services as billing

    matter = F.matter()
    at = datetime(2026, 10, 5, 15, 0, tzinfo=UTC)
    invoice = billing.invoice_draft_create(matter=matter, actor=users["BILLING"], now=at)
    billing.invoice_line_add(
        invoice=invoice,
        description="Case document review",
        unit_price="350.00",
        actor=users["BILLING"],
        now=at,
    )
    billing.invoice_submit(invoice=invoice, actor=users["BILLING"], now=at)
    billing.invoice_approve(invoice=invoice, actor=users["PARTNER"], now=at)
    billing.invoice_issue(invoice=invoice, actor=users["BILLING"], now=at)
    row = KpiIssueDay.objects.get(issue_date=date(2026, 10, 5), day=date(2026, 10, 5))
    assert (row.billed_cents, row.issued_cents, row.postings) == (35_000, 35_000, 1)
    assert summary.verify() == []


def test_the_invoice_summary_follows_issue_and_void_and_the_backfill(
    users: dict[str, Any],
) -> None:
    """The invoice-level summary (ADR 021): billing's issue adds the invoice (its turnaround to
    the microsecond and its fee line), the void takes it off; the firm-wide turnaround,
    realization and count read from it equal the filtered (invoice-scanning) path; the
    migration's frozen back-fill writes the rows verify expects."""
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    from caseledger.billing import services as billing
    from caseledger.reports.models import KpiInvoiceDay, KpiLineDay

    matter = F.matter()
    at = datetime(2026, 10, 5, 15, 0, tzinfo=UTC)
    issued = []
    for minutes in (90, 150, 61):
        invoice = billing.invoice_draft_create(matter=matter, actor=users["BILLING"], now=at)
        billing.invoice_line_add(
            invoice=invoice,
            description="Case document review",
            unit_price="350.00",
            actor=users["BILLING"],
            now=at,
        )
        billing.invoice_submit(invoice=invoice, actor=users["BILLING"], now=at)
        billing.invoice_approve(invoice=invoice, actor=users["PARTNER"], now=at)
        issued.append(
            billing.invoice_issue(
                invoice=invoice, actor=users["BILLING"], now=at + timedelta(minutes=minutes)
            )
        )
    assert summary.verify() == []
    period = Period(date(2026, 10, 1), date(2026, 10, 31))
    everyone = metrics.Filters(client_type=matter.client.client_type)
    assert metrics.invoices_issued(period) == 3
    assert metrics.realization(period) == metrics.realization(period, everyone)
    assert KpiLineDay.objects.get().amount_cents == 3 * 35_000
    billing.invoice_void(
        invoice=issued[1], actor=users["PARTNER"], now=at + timedelta(hours=5), reason="Wrong"
    )
    assert summary.verify() == []
    assert metrics.invoices_issued(period) == 2
    assert metrics.turnaround(period) == metrics.turnaround(period, everyone)
    assert metrics.realization(period) == metrics.realization(period, everyone)
    assert KpiLineDay.objects.get().amount_cents == 2 * 35_000
    KpiInvoiceDay.objects.all().delete()
    KpiLineDay.objects.all().delete()
    assert summary.verify() != []
    migration = importlib.import_module(
        "caseledger.reports.migrations.0007_kpi_invoice_summary_backfill"
    )
    migration.backfill(None, SimpleNamespace(connection=connection))
    assert summary.verify() == []


def test_percentiles_of_counts_interpolate_as_percentile_cont() -> None:
    hour = 3_600_000_000
    # 1, 2, 2, 4 hours: median between ranks 1 and 2 -> 2.0; p90 at rank 2.7 -> 2 + 0.7 x 2
    counts = [(1 * hour, 1), (2 * hour, 2), (4 * hour, 1)]
    assert metrics.percentiles_of_counts(counts, [0.5, 0.9]) == [2.0, 3.4]
    assert metrics.percentiles_of_counts([], [0.5]) == [None]
    assert metrics.percentiles_of_counts([(hour // 2, 1)], [0.5, 0.9]) == [0.5, 0.5]


def test_the_cash_summary_gives_the_panel_of_the_postings_to_the_cent(
    users: dict[str, Any],
) -> None:
    """Payments by every method, transfers of earned fees from trust, credit applied, a card
    settlement, refunds, a reversed payment and a receipt no payment names, over four months:
    the cash panel read from ``KpiCashDay`` equals the panel over the postings (a filter every
    posting passes) month by month and method by method, to the cent; verify names a tampered
    and a missing row; rebuild and the migration's back-fill write the rows verify expects."""
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    from caseledger.reports.models import KpiCashDay

    matter = F.matter(client_obj=F.client(corporate=True))
    invoices = [
        F.invoice(matter_obj=matter, cents=500_000, issued=FIRST + timedelta(days=n))
        for n in (0, 3, 9)
    ]
    from caseledger.payments.services import Allocation, payment_record

    def pay(invoice: Any, method: str, cents: int, day: int) -> Any:
        return payment_record(
            client=matter.client,
            matter=matter,
            method=method,
            payer=matter.client.name,
            amount_cents=cents,
            received_date=FIRST + timedelta(days=day),
            actor=None,
            now=NOW,
            allocations=[Allocation(invoice=invoice, amount_cents=cents)],
            reference="1001",
        )

    payments = [
        pay(invoices[n % 3], method, cents, day)
        for n, (method, cents, day) in enumerate(
            [
                ("CHECK", 30_000, 5),
                ("CARD", 12_345, 5),
                ("ACH", 50_001, 20),
                ("WIRE", 70_000, 41),
                ("CASH", 999, 41),
                ("CARD", 20_000, 75),
                ("CHECK", 11_111, 101),
            ]
        )
    ]
    for when in (datetime(2026, 10, 7, 12, tzinfo=UTC), datetime(2026, 11, 3, 12, tzinfo=UTC)):
        F.trust_deposit(matter_obj=matter, cents=40_000, day=when.date(), now=when)
        F.trust_pay(invoice_obj=invoices[2], cents=25_000, day=when.date(), actor=None, now=when)

    def ar_entry(kind: str, cents: int, day: date) -> JournalEntry:
        return entry_post(
            kind=kind,
            entry_date=day,
            memo="cash panel",
            lines=[
                PostingLine(
                    A.ACCOUNTS_RECEIVABLE,
                    cents,
                    client=matter.client,
                    matter=matter,
                    invoice=invoices[0],
                ),
                PostingLine(A.FEE_REVENUE, -cents, client=matter.client, matter=matter),
            ],
            actor=None,
            now=NOW,
        )

    ar_entry(EntryKind.PAYMENT_APPLIED, -8_000, FIRST + timedelta(days=33))
    ar_entry(EntryKind.PROCESSOR_SETTLEMENT, -4_400, FIRST + timedelta(days=62))
    ar_entry(EntryKind.REFUND, 3_000, FIRST + timedelta(days=62))
    ar_entry(EntryKind.REFUND, 1_500, FIRST + timedelta(days=95))
    ar_entry(EntryKind.PAYMENT_RECEIVED, -2_500, FIRST + timedelta(days=95))  # no payment
    entry_reverse(
        entry=payments[2].entry, actor=None, now=NOW, entry_date=FIRST + timedelta(days=64)
    )
    until = date(2026, 12, 31)
    everyone = metrics.Filters(client_type="CORPORATE")
    firm = metrics.collections_by_month(until, 6)
    assert firm == metrics.collections_by_month(until, 6, everyone)
    assert [m.by_method for m in firm[2:]] == [
        {"CHECK": 30_000, "CARD": 12_345, "ACH": 50_001},
        {"WIRE": 70_000, "CASH": 999, "TRUST": 25_000, "CREDIT": 8_000},
        {"CARD": 20_000, "TRUST": 25_000, "SETTLED": 4_400, "REFUND": -3_000, "REVERSED": -50_001},
        {"CHECK": 11_111, "REFUND": -1_500, "REVERSED": 2_500},
    ]
    # The receipts were moved from REVERSED to their method: rows of no posting are left.
    assert KpiCashDay.objects.filter(method="REVERSED", postings=0).exists()
    for months_back in (1, 3, 12):
        assert metrics.collections_by_month(date(2026, 11, 14), months_back) == (
            metrics.collections_by_month(date(2026, 11, 14), months_back, everyone)
        )
    assert summary.verify() == []
    KpiCashDay.objects.filter(day=FIRST + timedelta(days=5), method="CARD").update(cents=-12_346)
    KpiCashDay.objects.filter(day=FIRST + timedelta(days=41), method="WIRE").delete()
    assert summary.verify() == [
        "KPI summary reports_kpicashday 2026-09-06 CARD: cents is -12346, the postings give -12345",
        "KPI summary reports_kpicashday 2026-10-12 WIRE: row is missing, the postings give "
        "[-70000, 1]",
    ]
    summary.rebuild()
    assert summary.verify() == []
    assert metrics.collections_by_month(until, 6) == firm
    KpiCashDay.objects.all().delete()
    migration = importlib.import_module("caseledger.reports.migrations.0008_kpi_cash_summary")
    migration.backfill(None, SimpleNamespace(connection=connection))
    assert summary.verify() == []
    assert metrics.collections_by_month(until, 6) == firm
