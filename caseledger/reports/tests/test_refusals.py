"""Every refusal of the reports services that no other test checked by its text: each is
raised with the message naming the field and the rule, and a refused call leaves the report
settings, subscriptions and audit events as they were (``scripts/refusal_coverage.py`` lists
them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.core.models import AuditEvent
from caseledger.reports import services
from caseledger.reports.exceptions import ReportsError
from caseledger.reports.models import ReportSettings, ReportSubscription

pytestmark = pytest.mark.django_db


def _state() -> dict[str, Any]:
    return {
        "settings": list(ReportSettings.objects.values().order_by("id")),
        "subscriptions": list(ReportSubscription.objects.values().order_by("id")),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., **kwargs)``: the call raises ReportsError matching ``match``
    and changes nothing."""

    def check(call: Callable[..., Any], *, match: str, **kwargs: Any) -> None:
        before = _state()
        with pytest.raises(ReportsError, match=match):
            call(**kwargs)
        assert _state() == before

    return check


def test_settings_refuse_half_a_baseline_and_figures_out_of_range(users, now, refused):
    args = {"actor": users["PARTNER"], "now": now}
    good = {
        "baseline_start": date(2026, 1, 1),
        "baseline_end": date(2026, 3, 31),
        "target_days": 30,
        "staff_cost_cents_per_hour": 5_000,
    }
    refused(
        services.report_settings_update,
        match=r"^baseline_end: give both ends of the baseline period, or neither\.$",
        **{**good, "baseline_end": None},
        **args,
    )
    refused(
        services.report_settings_update,
        match=r"^target_days: must be between 1 and 365 days \(got 0\)\.$",
        **{**good, "target_days": 0},
        **args,
    )
    refused(
        services.report_settings_update,
        match=(
            r"^staff_cost_cents_per_hour: must be between 0\.00 and 100,000\.00 per hour "
            r"\(got 100,000\.01\)\.$"
        ),
        **{**good, "staff_cost_cents_per_hour": 10_000_001},
        **args,
    )


def test_subscriptions_refuse_an_unknown_cadence(users, now, refused):
    refused(
        services.subscription_set,
        match=r"^cadence: must be one of WEEKLY, MONTHLY \(got 'DAILY'\)$",
        actor=users["PARTNER"],
        cadence="DAILY",
        active=True,
        now=now,
    )
