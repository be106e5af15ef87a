"""The cohort summary (ADR 024): after any sequence of A/R entries, reversals and changes of a
client's type or intake source or a matter's partner or office, the cohorts read from it equal
the cohorts grouped over the postings (by every dimension, filtered or not), its rows equal the
recomputation from the postings, and verify names a tampered row."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.clients import services as clients
from caseledger.core.choices import Role
from caseledger.credits.tests import factories as F
from caseledger.ledger import accounts as A
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, entry_post, entry_reverse
from caseledger.matters import services as matters
from caseledger.reports import metrics, summary
from caseledger.reports.metrics import ALL, Filters, Period
from caseledger.reports.models import KpiCohortDay, KpiCohortIssueDay
from caseledger.reports.tests.test_summary import FIRST, KINDS, NOW, PERIODS

# A matter, or no matter (the client's own posting), for each posting.
post = st.tuples(
    st.just("post"),
    st.sampled_from(KINDS),
    st.integers(min_value=-50_000, max_value=90_000).filter(bool),
    st.integers(min_value=0, max_value=100),  # days after FIRST
    st.integers(min_value=0, max_value=3),  # matter 0, 1, 2 or none (client 0's own)
    st.integers(min_value=0, max_value=3),  # invoice 0, 1, 2 or none
)
reverse = st.tuples(
    st.just("reverse"),
    st.integers(min_value=0, max_value=20),  # which earlier entry
    st.integers(min_value=0, max_value=30),  # days after it
    st.just(0),
    st.just(0),
    st.just(0),
)
client_change = st.tuples(
    st.just("client"),
    st.integers(min_value=0, max_value=1),  # which client
    st.sampled_from(["PRIVATE", "CORPORATE"]),
    st.sampled_from(["", "REFERRAL", "WEBSITE"]),
    st.just(0),
    st.just(0),
)
matter_change = st.tuples(
    st.just("matter"),
    st.integers(min_value=0, max_value=2),  # which matter
    st.integers(min_value=0, max_value=2),  # partner 0, 1 or none
    st.sampled_from(["", "Boston", "Austin"]),
    st.just(0),
    st.just(0),
)


def _posted(dimension: str, period: Period, filters: Filters) -> list[metrics.CohortRow]:
    """The cohorts as the postings give them (the path the summary replaces)."""
    with patch.object(metrics, "_summary_cohorts", metrics._posted_cohorts):
        return metrics.cohorts(dimension, period, filters)


def _check(world: dict[str, Any]) -> None:
    assert summary.verify() == []
    partner, other = world["partners"]
    filters = [
        ALL,
        Filters(client_type="CORPORATE"),
        Filters(partner_id=partner.pk),
        Filters(office="Boston"),
        Filters(case_type_id=world["matters"][2].case_type_id, partner_id=other.pk),
    ]
    for period in PERIODS:
        for dimension in metrics.DIMENSIONS:
            for f in filters:
                assert metrics.cohorts(dimension, period, f) == _posted(dimension, period, f)
            # The groups add up to the firm's figures.
            rows = metrics.cohorts(dimension, period)
            firm = metrics.period_figures(period, windows=(metrics.COHORT_WINDOW,)).moved
            assert sum(r.billed_cents for r in rows) == firm.billed_cents
            assert sum(r.collected_cents for r in rows) == firm.collected_cents


@pytest.fixture
def world(users: dict[str, Any], make_user: Any) -> dict[str, Any]:
    partners = [users["PARTNER"], make_user(role=Role.PARTNER)]
    company = F.client(corporate=True, intake_source="REFERRAL")
    person = F.client(corporate=False)
    matter_list = [
        F.matter(client_obj=company, partner=partners[0]),
        F.matter(client_obj=company, partner=partners[1], office="Boston"),
        F.matter(client_obj=person, partner=None),
    ]
    invoices = [
        F.invoice(matter_obj=matter_list[0], cents=100_000, issued=FIRST),
        F.invoice(matter_obj=matter_list[1], cents=40_000, issued=FIRST + timedelta(days=20)),
        F.invoice(matter_obj=matter_list[2], cents=70_000, issued=FIRST + timedelta(days=45)),
    ]
    return {
        "partners": partners,
        "clients": [company, person],
        "matters": matter_list,
        "invoices": invoices,
    }


def _ar_entry(kind: str, cents: int, day: date, client: Any, matter: Any, invoice: Any) -> Any:
    return entry_post(
        kind=kind,
        entry_date=day,
        memo="cohorts",
        lines=[
            PostingLine(
                A.ACCOUNTS_RECEIVABLE, cents, client=client, matter=matter, invoice=invoice
            ),
            PostingLine(A.FEE_REVENUE, -cents, client=client, matter=matter),
        ],
        actor=None,
        now=NOW,
    )


def _apply(world: dict[str, Any], step: tuple[Any, ...], entries: list[JournalEntry]) -> None:
    if step[0] == "post":
        _, kind, cents, offset, which, paid = step
        matter = world["matters"][which] if which < 3 else None
        client = matter.client if matter else world["clients"][0]
        invoice = world["invoices"][paid] if paid < 3 and matter else None
        day = FIRST + timedelta(days=offset)
        entries.append(_ar_entry(kind, cents, day, client, matter, invoice))
    elif step[0] == "reverse":
        _, which, later, *_ = step
        original = entries[which % len(entries)]
        if (
            original.kind == EntryKind.REVERSAL
            or JournalEntry.objects.filter(reverses=original).exists()
        ):
            return  # a reversal is not reversed, an entry at most once (ledger's rules)
        entries.append(
            entry_reverse(
                entry=original,
                actor=None,
                now=NOW,
                entry_date=original.entry_date + timedelta(days=later),
            )
        )
    elif step[0] == "client":
        _, which, client_type, source, *_ = step
        clients.client_update(
            client=world["clients"][which],
            actor=None,
            now=NOW,
            client_type=client_type,
            intake_source=source,
        )
    else:
        _, which, partner, office, *_ = step
        matters.matter_update(
            matter=world["matters"][which],
            actor=None,
            now=NOW,
            responsible_partner=world["partners"][partner] if partner < 2 else None,
            office=office,
        )


@pytest.mark.django_db
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(
        st.one_of(post, post, reverse, client_change, matter_change), min_size=1, max_size=10
    )
)
def test_cohorts_from_the_summary_equal_the_postings_after_any_entries_and_changes(
    world: dict[str, Any], ops: list[tuple[Any, ...]]
) -> None:
    entries: list[JournalEntry] = list(JournalEntry.objects.order_by("id"))
    for step in ops:
        _apply(world, step, entries)
    _check(world)


@pytest.mark.django_db
def test_a_change_of_client_type_or_partner_moves_the_postings_to_the_new_group(
    world: dict[str, Any],
) -> None:
    """Billed, collected, credited, written off, a reversed payment, then the company becomes a
    private client and its Boston matter goes to the first partner: the cohorts group every
    posting by the new values (as the postings path, which reads the current client and
    matter); verify names a tampered and a missing row; rebuild and the migration's back-fill
    write the rows verify expects."""
    company = world["clients"][0]
    boston = world["matters"][1]
    invoice = world["invoices"][1]
    F.pay(invoice_obj=invoice, cents=15_000, day=FIRST + timedelta(days=30), now=NOW)
    payment = F.pay(invoice_obj=invoice, cents=5_000, day=FIRST + timedelta(days=31), now=NOW)
    entry_reverse(entry=payment.entry, actor=None, now=NOW, entry_date=FIRST + timedelta(days=33))
    _ar_entry(EntryKind.CREDIT_NOTE, -2_000, FIRST + timedelta(days=34), company, boston, invoice)
    _ar_entry(EntryKind.WRITE_OFF, -3_000, FIRST + timedelta(days=35), company, boston, invoice)
    period = Period(date(2026, 9, 1), date(2026, 10, 31))
    before = {r.key: r for r in metrics.cohorts("client_type", period)}
    assert before["CORPORATE"].billed_cents == 140_000
    assert before["PRIVATE"].billed_cents == 70_000

    clients.client_update(client=company, actor=None, now=NOW, client_type="PRIVATE")
    matters.matter_update(
        matter=boston, actor=None, now=NOW, responsible_partner=world["partners"][0]
    )

    rows = metrics.cohorts("client_type", period)
    assert [(r.key, r.billed_cents) for r in rows] == [("PRIVATE", 210_000)]
    assert rows[0].collected_cents == 15_000
    assert rows[0].credited_cents == 2_000
    assert rows[0].written_off_cents == 3_000
    by_partner = {r.key: r.billed_cents for r in metrics.cohorts("partner", period)}
    assert by_partner == {world["partners"][0].pk: 140_000, None: 70_000}
    _check(world)

    boston_rows = KpiCohortDay.objects.filter(office="Boston")
    boston_rows.filter(day=FIRST + timedelta(days=20), postings__gt=0).update(billed_cents=1)
    KpiCohortIssueDay.objects.filter(day=FIRST + timedelta(days=30), postings__gt=0).delete()
    problems = summary.verify()
    assert len(problems) == 2
    assert problems[0].startswith("KPI summary reports_kpicohortday 2026-09-21 PRIVATE ")
    assert problems[0].endswith("billed_cents is 1, the postings give 40000")
    assert problems[1].startswith("KPI summary reports_kpicohortissueday 2026-09-21 2026-10-01 ")
    assert problems[1].endswith("row is missing, the postings give [0, -15000, 1]")
    summary.rebuild()
    assert summary.verify() == []
    KpiCohortDay.objects.all().delete()
    KpiCohortIssueDay.objects.all().delete()
    migration = importlib.import_module("caseledger.reports.migrations.0009_kpi_cohort_summary")
    migration.backfill(None, SimpleNamespace(connection=connection))
    assert summary.verify() == []
    _check(world)


@pytest.mark.django_db
def test_a_change_of_other_fields_writes_no_cohort_row(world: dict[str, Any]) -> None:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        clients.client_update(client=world["clients"][0], actor=None, now=NOW, phone="555-0100")
        matters.matter_update(matter=world["matters"][0], actor=None, now=NOW, title="Renamed")
    assert not [q for q in ctx.captured_queries if "reports_kpicohort" in q["sql"]]
