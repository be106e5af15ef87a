"""Row locks of the reports app (the lock order is in docs/architecture.md)."""

from __future__ import annotations

from caseledger.reports.models import ReportSettings


def settings_lock() -> ReportSettings:
    """The report settings row, locked for update (created first if missing)."""
    from caseledger.reports.selectors import settings_get

    settings_get()
    return ReportSettings.objects.select_for_update().get(id=1)
