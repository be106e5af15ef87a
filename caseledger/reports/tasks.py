"""huey tasks: thin wrappers that pass the clock to a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from caseledger.core import clock


@db_periodic_task(crontab(hour="6", minute="45"))
def scheduled_reports_task() -> None:
    """Daily: queue the weekly (Mondays) and monthly (the 1st) KPI reports not yet sent for
    their period; a rerun sends nothing twice."""
    from caseledger.reports.scheduled import reports_send

    now = clock.now()
    reports_send(today=clock.firm_date(now), now=now)
