"""Changing the report settings (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from caseledger.billing import utbms
from caseledger.core import audit, clock
from caseledger.core.permissions import require
from caseledger.reports import metrics
from caseledger.reports.exceptions import ReportsError
from caseledger.reports.locks import settings_lock
from caseledger.reports.models import Cadence, ReportSettings, ReportSubscription

BASELINE_ORDER = "baseline_end: must not be before baseline_start ({start})."
BASELINE_HALF = "baseline_end: give both ends of the baseline period, or neither."
TARGET_RANGE = "target_days: must be between 1 and 365 days (got {value})."
ACTIVITY_CODE_UNKNOWN = (
    "billing_activity_code: must be a UTBMS activity code (A101 to A111), got {code!r}."
)
COST_RANGE = (
    "staff_cost_cents_per_hour: must be between 0.00 and 100,000.00 per hour (got {value})."
)
MAX_COST_CENTS = 10_000_000
CADENCE_INVALID = "cadence: must be one of {choices} (got {value!r})"
EMAIL_REQUIRED = "cadence: your profile has no email address to send the report to"


def _snapshot(row: ReportSettings) -> dict[str, Any]:
    return {
        "baseline_start": row.baseline_start,
        "baseline_end": row.baseline_end,
        "target_days": row.target_days,
        "staff_cost_cents_per_hour": row.staff_cost_cents_per_hour,
        "billing_activity_code": row.billing_activity_code,
    }


def report_settings_update(
    *,
    actor: Any,
    baseline_start: dt.date | None,
    baseline_end: dt.date | None,
    target_days: int,
    staff_cost_cents_per_hour: int,
    now: dt.datetime,
    billing_activity_code: str = metrics.BILLING_ACTIVITY_CODE,
) -> ReportSettings:
    """Set the baseline period, the ROI figures and the activity code of staff time on
    billing; one audit event with what changed."""
    if (baseline_start is None) != (baseline_end is None):
        raise ReportsError(BASELINE_HALF, field="baseline_end")
    if baseline_start and baseline_end:
        clock.date_check(baseline_start, field="baseline_start")
        clock.date_check(baseline_end, field="baseline_end")
        if baseline_end < baseline_start:
            raise ReportsError(
                BASELINE_ORDER.format(start=baseline_start.isoformat()), field="baseline_end"
            )
    if not 1 <= target_days <= 365:
        raise ReportsError(TARGET_RANGE.format(value=target_days), field="target_days")
    if not 0 <= staff_cost_cents_per_hour <= MAX_COST_CENTS:
        raise ReportsError(
            COST_RANGE.format(value=f"{staff_cost_cents_per_hour / 100:,.2f}"),
            field="staff_cost_cents_per_hour",
        )
    if not utbms.is_activity(billing_activity_code):
        raise ReportsError(
            ACTIVITY_CODE_UNKNOWN.format(code=billing_activity_code), field="billing_activity_code"
        )
    with transaction.atomic():
        row = settings_lock()
        before = _snapshot(row)
        row.baseline_start = baseline_start
        row.baseline_end = baseline_end
        row.target_days = target_days
        row.staff_cost_cents_per_hour = staff_cost_cents_per_hour
        row.billing_activity_code = billing_activity_code
        row.updated_at = now
        row.save()
        after = _snapshot(row)
        changed = [k for k in after if after[k] != before[k]]
        audit.record(
            actor=actor,
            action="reports.settings_saved",
            at=now,
            obj=row,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return row


def subscription_set(
    *, actor: Any, cadence: str, active: bool, now: dt.datetime
) -> ReportSubscription:
    """Subscribe ``actor`` to (or stop) the scheduled report of ``cadence``; audited."""
    require(actor, "reports.view")
    if cadence not in Cadence.values:
        raise ReportsError(
            CADENCE_INVALID.format(choices=", ".join(Cadence.values), value=cadence),
            field="cadence",
        )
    if active and not actor.email:
        raise ReportsError(EMAIL_REQUIRED, field="cadence")
    with transaction.atomic():
        row, created = ReportSubscription.objects.get_or_create(
            user=actor,
            cadence=cadence,
            defaults={"active": active, "created_at": now, "updated_at": now},
        )
        if not created and row.active == active:
            return row
        if not created:
            row.active = active
            row.updated_at = now
            row.save(update_fields=["active", "updated_at"])
        audit.record(
            actor=actor,
            action="reports.subscribed" if active else "reports.unsubscribed",
            at=now,
            obj=row,
            after={"cadence": cadence, "active": active},
        )
    return row
