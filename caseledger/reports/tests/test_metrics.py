"""Each KPI against the hand-computed book in fixtures.py, empty periods and filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from caseledger.ledger.accounts import ACCOUNTS_RECEIVABLE
from caseledger.ledger.models import Posting
from caseledger.reports import metrics
from caseledger.reports.metrics import Filters, Period
from caseledger.reports.tests.fixtures import PERIOD, book, timed_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(users: dict[str, Any]) -> Filters:
    book(users)
    return Filters(partner_id=users["PARTNER"].pk)


def test_movements_tie_to_the_ledger(users: dict[str, Any]) -> None:
    """Billed A + B + D = $1,800; collected $600 + $400 + $500; written off $100."""
    book(users)
    moved = metrics.period_figures(PERIOD).moved
    assert moved.billed_cents == 180_000
    assert moved.collected_cents == 150_000
    assert moved.written_off_cents == 10_000
    assert moved.credited_cents == 0
    ledger_ar = sum(
        Posting.objects.filter(
            account__code=ACCOUNTS_RECEIVABLE, entry_date__lte=PERIOD.end
        ).values_list("amount_cents", flat=True)
    )
    assert metrics.ar_balance(PERIOD.end) == ledger_ar == 40_000 + 30_000


def test_ar_balance_read_backwards_from_the_stored_balance_equals_the_sum(
    users: dict[str, Any],
) -> None:
    """Unfiltered, A/R on a late date is read as the stored balance less the later postings;
    on every date from before the first posting to after the last it equals the sum of the
    postings up to that day."""
    book(users)
    ar = Posting.objects.filter(account__code=ACCOUNTS_RECEIVABLE)
    dates = sorted(set(ar.values_list("entry_date", flat=True)))
    assert len(dates) > 2
    day = dates[0] - timedelta(days=1)
    while day <= dates[-1] + timedelta(days=1):
        want = sum(ar.filter(entry_date__lte=day).values_list("amount_cents", flat=True))
        assert metrics.ar_balance(day) == want, day
        day += timedelta(days=7)
    assert metrics.ar_balance(dates[-2]) == sum(
        ar.filter(entry_date__lte=dates[-2]).values_list("amount_cents", flat=True)
    )


def test_dso_paid_days_is_amount_weighted(mine: Filters) -> None:
    """(600 x 20 + 400 x 50 + 500 x 40) / 1,500 = 34.67 days."""
    assert metrics.period_figures(PERIOD, mine).dso_paid_days == 34.7


def test_dso_countback_walks_back_through_monthly_billing(mine: Filters) -> None:
    """A/R $400 at Nov 30; November billed nothing (30 days); October billed $1,500, of which
    $400 is 8.27 of its 31 days: 38.3 days."""
    assert metrics.ar_balance(PERIOD.end, mine) == 40_000
    assert metrics.dso_countback_days(PERIOD, mine) == 38.3


def test_dso_countback_reads_the_months_a_chunk_at_a_time(
    mine: Filters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One month per query: the same 38.3 days, and the months before the first A/R posting
    count 0 (a count-back of more A/R than was ever billed stops at the history's length)."""
    monkeypatch.setattr(metrics, "COUNTBACK_CHUNK", 1)
    assert metrics.dso_countback_days(PERIOD, mine) == 38.3
    whole = metrics.dso_countback_days(PERIOD, mine, history=24, ar_cents=10**12)
    assert whole == (PERIOD.end - metrics.month_start(PERIOD.end, back=23)).days + 1


def test_dso_simple(mine: Filters) -> None:
    """$400 / $1,500 x 61 days = 16.3."""
    assert metrics.kpis(PERIOD, mine).dso_simple_days == 16.3


def test_collection_rate_counts_only_what_came_in_within_the_window(mine: Filters) -> None:
    """Billed in the period (A, B) $1,500; within 30 days of issue only A's $600: 40%.
    Within 60 days A's $1,000: 66.67%."""
    rates = metrics.period_figures(PERIOD, mine, windows=(30, 60)).collection_rates
    assert rates == {30: 0.4, 60: 0.6667}


def test_write_off_and_credit_rates(mine: Filters) -> None:
    k = metrics.kpis(PERIOD, mine)
    assert k.write_off_rate == round(10_000 / 150_000, 4)
    assert k.credit_rate == 0.0
    assert k.billed_cents == 150_000
    assert k.invoices_issued == 2


def test_turnaround_median_and_p90_from_trigger_to_issue(users: dict[str, Any]) -> None:
    """Three invoices taking 10, 20 and 60 hours from trigger to issue (half of it waiting
    for review): median 20 h, 90th percentile 52 h (interpolated), review median 10 h."""
    from caseledger.credits.tests import factories as F

    m = F.matter(partner=users["PARTNER"])
    base = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    for hours in (10, 20, 60):
        timed_invoice(
            matter=m,
            cents=10_000,
            issued=date(2026, 10, 8),
            triggered_at=base,
            approved_at=base + timedelta(hours=hours / 2),
            issued_at=base + timedelta(hours=hours),
        )
    t = metrics.turnaround(PERIOD)
    assert t.invoices == 3
    assert t.median_hours == 20.0
    assert t.p90_hours == 52.0
    assert t.review_median_hours == 10.0
    assert t.issue_median_hours == 10.0


def test_realization_against_the_catalogue_price(users: dict[str, Any]) -> None:
    """$1,000 billed for a $1,250 catalogue service and $500 without one (its own price):
    $1,500 / $1,750 = 85.71%."""
    from caseledger.billing.models import Service
    from caseledger.credits.tests import factories as F

    service = Service.objects.create(
        code="TESTFLAT", name="Test flat fee", fee_type="FLAT", default_price_cents=125_000
    )
    m = F.matter(partner=users["PARTNER"])
    timed_invoice(matter=m, cents=100_000, issued=date(2026, 10, 2), service=service)
    timed_invoice(matter=m, cents=50_000, issued=date(2026, 10, 3))
    assert metrics.realization(PERIOD) == round(150_000 / 175_000, 4)


def test_realization_values_time_at_each_timekeepers_standard_rate(
    users: dict[str, Any],
) -> None:
    """Time at the timekeeper's default rate ($300/h): 2.5 h billed at $250 ($625, standard
    $750) and 1 h at $300; time of a timekeeper without a default rate counts as billed ($200);
    a $500 fee without a catalogue service at its own price; the government fee is left out:
    $1,625 / $1,750 = 92.86%. A client's own rate is not the standard."""
    from caseledger.billing.models import HourlyRate
    from caseledger.credits.tests import factories as F

    m = F.matter(partner=users["PARTNER"])
    rated, unrated = users["ATTORNEY"], users["PARALEGAL"]
    HourlyRate.objects.create(timekeeper=rated, rate_cents=30_000)
    HourlyRate.objects.create(timekeeper=rated, client=m.client, rate_cents=10_000)

    def time(who: Any, hours: str, rate: int) -> dict[str, Any]:
        cents = int(Decimal(hours) * rate)
        return {
            "kind": "TIME",
            "timekeeper": who,
            "quantity": Decimal(hours),
            "unit_price_cents": rate,
            "amount_cents": cents,
        }

    timed_invoice(
        matter=m,
        cents=62_500 + 30_000 + 20_000,
        issued=date(2026, 10, 2),
        lines=[time(rated, "2.5", 25_000), time(rated, "1", 30_000), time(unrated, "1", 20_000)],
    )
    fee = {"quantity": 1, "unit_price_cents": 50_000, "amount_cents": 50_000}
    government = {
        "kind": "GOVERNMENT_FEE",
        "category": "REQUIRED_GOVERNMENT_FEE",
        "quantity": 1,
        "unit_price_cents": 46_000,
        "amount_cents": 46_000,
    }
    timed_invoice(matter=m, cents=96_000, issued=date(2026, 10, 3), lines=[fee, government])
    assert metrics.realization(PERIOD) == round(162_500 / 175_000, 4)


def test_an_empty_period_has_no_rates() -> None:
    empty = Period(date(2001, 1, 1), date(2001, 1, 31))
    k = metrics.kpis(empty)
    assert k.billed_cents == k.collected_cents == k.ar_cents == 0
    assert k.dso_paid_days is None
    assert k.dso_simple_days is None
    assert k.collection_rate_30d is None
    assert k.write_off_rate is None
    assert k.realization is None
    assert k.turnaround_median_hours is None
    assert k.dso_countback_days == 0.0


def test_filters_narrow_to_the_partner_and_cohort(users: dict[str, Any]) -> None:
    b = book(users)
    everyone = metrics.period_figures(PERIOD).moved
    other = metrics.period_figures(
        PERIOD, Filters(partner_id=b.other_partner.matter.responsible_partner_id)
    ).moved
    assert other.billed_cents == 30_000
    assert everyone.billed_cents == 180_000
    assert metrics.period_figures(PERIOD, Filters(client_type="PRIVATE")).moved.billed_cents == 0


def test_a_reversed_issue_takes_billing_back() -> None:
    """An issue entry of Oct 3 reversed on Nov 2 bills nothing over the period: the reversal
    counts as billing (its own kind is REVERSAL), with the opposite sign, in November."""
    from caseledger.credits.tests import factories as F
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.models import JournalEntry
    from caseledger.ledger.services import entry_reverse

    inv = F.invoice(matter_obj=F.matter(), cents=70_000, issued=date(2026, 10, 3))
    issue = (
        JournalEntry.objects.filter(kind=EntryKind.INVOICE_ISSUED, postings__invoice=inv)
        .distinct()
        .get()
    )
    entry_reverse(
        entry=issue,
        actor=None,
        now=datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
        entry_date=date(2026, 11, 2),
        memo="issued in error",
    )
    assert metrics.period_figures(PERIOD).moved.billed_cents == 0
    october = Period(date(2026, 10, 1), date(2026, 10, 31))
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert metrics.period_figures(october).moved.billed_cents == 70_000
    assert metrics.period_figures(november).moved.billed_cents == -70_000


def test_cohorts_by_partner_and_client_type(users: dict[str, Any]) -> None:
    """The book's partner billed $1,500 (A, B), collected $1,500 (incl. C's $500), wrote off
    $100; the second partner billed D's $300 and collected nothing."""
    book(users)
    rows = {r.key: r for r in metrics.cohorts("partner", PERIOD)}
    mine = rows[users["PARTNER"].pk]
    assert (mine.billed_cents, mine.collected_cents, mine.written_off_cents) == (
        150_000,
        150_000,
        10_000,
    )
    assert mine.dso_paid_days == 34.7
    other = next(r for key, r in rows.items() if key != users["PARTNER"].pk)
    assert (other.billed_cents, other.collected_cents, other.dso_paid_days) == (30_000, 0, None)
    by_type = metrics.cohorts("client_type", PERIOD)
    assert [(r.label, r.billed_cents) for r in by_type] == [("Corporate", 180_000)]


def test_collection_cohorts_accumulate_by_issue_month(users: dict[str, Any]) -> None:
    """September's $500 (C) was collected in October (+1); October's $1,800 (A, B, D): $600 in
    October, $1,000 by the end of November."""
    book(users)
    rows = {r.month: r for r in metrics.collection_cohorts(date(2026, 11, 30), 3)}
    september = rows[date(2026, 9, 1)]
    assert september.billed_cents == 50_000
    assert september.collected == [0.0, 1.0, 1.0]
    october = rows[date(2026, 10, 1)]
    assert october.collected == [round(60_000 / 180_000, 4), round(100_000 / 180_000, 4)]
    assert october.pending == 1
    assert rows[date(2026, 11, 1)].collected == [None]
