"""Row locks of the reports app (the lock order is in docs/architecture.md)."""

from __future__ import annotations

from caseledger.core import clock
from caseledger.reports.models import ReportSettings


def settings_lock() -> ReportSettings:
    """The report settings row, locked for update (created first if missing)."""
    ReportSettings.objects.get_or_create(id=1, defaults={"updated_at": clock.now()})
    return ReportSettings.objects.select_for_update().get(id=1)
