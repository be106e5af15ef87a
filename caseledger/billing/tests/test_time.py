"""Time entries, rates, expenses, holds and work in progress."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from caseledger.billing import selectors, services
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import TimeEntry
from caseledger.core.exceptions import ApplicationError
from caseledger.matters.services import matter_hold_set

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 30)


def _time(world: Any, **kwargs: Any) -> Any:
    data = {
        "timekeeper": world.attorney,
        "matter": world.matter,
        "work_date": DAY,
        "hours": "1.0",
        "activity_code": "A103",
        "narrative": "Draft petition letter",
        "actor": world.attorney,
        "now": world.now,
    }
    data.update(kwargs)
    return services.time_entry_create(**data)


def test_rate_resolution_matter_over_client_over_default(world: Any) -> None:
    assert _time(world).rate_cents == 42_500
    services.hourly_rate_set(
        timekeeper=world.attorney,
        client=world.matter.client,
        rate="400",
        actor=world.partner,
        now=world.now,
    )
    assert _time(world).rate_cents == 40_000
    services.hourly_rate_set(
        timekeeper=world.attorney,
        matter=world.matter,
        rate="$350.00",
        actor=world.partner,
        now=world.now,
    )
    entry = _time(world, hours="1.5")
    assert (entry.rate_cents, entry.minutes, entry.amount_cents) == (35_000, 90, 52_500)
    other = world.new_matter()
    assert _time(world, matter=other).rate_cents == 42_500


def test_hours_over_a_day_are_refused(world: Any) -> None:
    _time(world, hours="20")
    with pytest.raises(BillingError) as exc:
        _time(world, hours="4.1")
    assert (
        exc.value.message == "hours: a day has 24 hours; attorney would have 24.10 h on 2026-10-30"
    )
    assert TimeEntry.objects.count() == 1


def test_time_on_a_held_matter_is_refused(world: Any) -> None:
    matter_hold_set(
        matter=world.matter, actor=world.partner, reason="Unpaid invoices", now=world.now
    )
    with pytest.raises(ApplicationError) as exc:
        _time(world)
    assert "hold" in exc.value.message.lower()
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"activity_code": "X1"},
            "activity_code: must be a UTBMS activity code such as A103 (got 'X1')",
        ),
        ({"task_code": "12"}, "task_code: must be a UTBMS task code such as L120 (got '12')"),
        ({"narrative": "  "}, "narrative: describe the work done"),
        (
            {"hours": "1.25"},
            "hours: must be a multiple of the firm's 6-minute increment (0.1 h) (got 1.25)",
        ),
    ],
)
def test_bad_time_input(world: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(BillingError) as exc:
        _time(world, **kwargs)
    assert exc.value.message == message


def test_rounding_rule_setting_rounds_up(world: Any) -> None:
    services.billing_settings_update(
        actor=world.partner, now=world.now, time_rounding="UP", time_increment_minutes=15
    )
    assert _time(world, hours="1.1").minutes == 75
    with pytest.raises(BillingError) as exc:
        services.billing_settings_update(
            actor=world.partner, now=world.now, time_increment_minutes=7
        )
    assert exc.value.message.startswith("time_increment_minutes: must divide 60")


def test_missing_rate_is_refused(world: Any, users: dict[str, Any]) -> None:
    with pytest.raises(BillingError) as exc:
        _time(world, timekeeper=users["OPERATIONS"])
    assert exc.value.message == (
        "rate: operations has no hourly rate; set one under Fee schedule › Rates"
    )


def test_expense_amount_that_does_not_parse(world: Any) -> None:
    with pytest.raises(BillingError) as exc:
        services.expense_create(
            matter=world.matter,
            kind="EXPENSE",
            expense_date=DAY,
            description="Courier",
            amount="twelve",
            actor=world.billing,
            now=world.now,
        )
    assert exc.value.message == "amount: must be an amount such as 1,234.56 (got 'twelve')"


def test_rate_that_does_not_parse(world: Any) -> None:
    with pytest.raises(BillingError) as exc:
        services.hourly_rate_set(
            timekeeper=world.attorney, rate="4oo", actor=world.partner, now=world.now
        )
    assert exc.value.message == "rate: must be an amount such as 1,234.56 (got '4oo')"


def test_wip_per_matter_and_partner(world: Any, users: dict[str, Any]) -> None:
    _time(world, hours="2")
    _time(world, timekeeper=world.partner, hours="1", actor=world.partner)
    _time(world, hours="1", billable=False)
    services.expense_create(
        matter=world.matter,
        kind="COST_ADVANCE",
        expense_date=DAY,
        description="Filing fee",
        amount="780",
        expense_code="E123",
        actor=world.billing,
        now=world.now,
    )
    summary = selectors.wip(user=users["PARTNER"])
    rows = selectors.wip_rows(summary.matters)
    assert len(rows) == 1
    row = rows[0]
    assert (row.minutes, row.time_cents, row.expense_cents) == (180, 85_000 + 65_000, 78_000)
    assert summary.total_cents == 228_000
    assert [(p.label, p.total_cents) for p in summary.by_partner] == [(str(world.partner), 228_000)]


def test_wip_page_pages_the_matters_and_totals_them_all(
    world: Any, users: dict[str, Any], login: Any, monkeypatch: Any
) -> None:
    from django.urls import reverse

    from caseledger.billing.views import time as time_views

    monkeypatch.setattr(time_views, "WIP_PAGE_ROWS", 1)
    other = world.new_matter()
    _time(world, hours="2")
    _time(world, matter=other, hours="1")
    http = login(users["PARTNER"])
    first = http.get(reverse("billing:wip")).content.decode()
    second = http.get(reverse("billing:wip") + "?page=2").content.decode()
    # The larger matter first; the total and the count over both pages.
    assert world.matter.number in first
    assert other.number not in first
    assert other.number in second
    assert "Page 1 of 2 · 2 in all" in first
    summary = selectors.wip(user=users["PARTNER"])
    assert summary.total_cents == sum(m[2] + m[3] for m in summary.matters)
    assert [m[0] for m in summary.matters] == [world.matter.pk, other.pk]


def test_wip_page_statements_do_not_grow_with_matters_and_scope_holds(
    world: Any, users: dict[str, Any], login: Any, make_user: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    http = login(users["PARTNER"])

    def statements() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(reverse("billing:wip")).status_code == 200
        return len(ctx.captured_queries)

    _time(world, hours="2")
    few = statements()
    others = [world.new_matter() for _ in range(4)]
    for i, matter in enumerate(others):
        _time(world, matter=matter, hours=str(i + 1))
    assert statements() <= few
    summary = selectors.wip(user=users["PARTNER"])
    assert len(summary.matters) == 5
    # largest total first, then matter id; a slice reads the same rows as the whole list
    every = list(summary.matters)
    assert every == sorted(every, key=lambda t: (-(t[2] + t[3]), t[0]))
    assert summary.matters[1:3] == every[1:3]
    assert summary.total_cents == sum(m[2] + m[3] for m in every)
    # a scoped attorney sees only the matters open to them
    from caseledger.matters.selectors import matters_visible_to

    outsider = make_user(role="ATTORNEY", username="wip-outsider")
    visible = set(matters_visible_to(outsider).values_list("id", flat=True))
    assert list(selectors.wip(user=outsider).matters) == [m for m in every if m[0] in visible]
    assert list(selectors.wip(user=world.attorney).matters) == [
        m
        for m in every
        if m[0] in set(matters_visible_to(world.attorney).values_list("id", flat=True))
    ]
