"""Scheduled jobs: thin wrappers that call a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from caseledger.core import clock
from caseledger.matters.services import deadlines_open_due_tasks


@db_periodic_task(crontab(hour="5", minute="30"))
def open_deadline_tasks() -> int:
    """Daily: open the reminder task of every deadline whose lead time has come."""
    now = clock.now()
    return len(deadlines_open_due_tasks(today=clock.firm_date(now), now=now))
