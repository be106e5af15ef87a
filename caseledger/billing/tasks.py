"""huey tasks: thin wrappers that pass the clock to a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from caseledger.core import clock


@db_periodic_task(crontab(hour="2", minute="15"))
def recurring_billing_task() -> None:
    """Daily: draft the recurring invoices due today (a rerun creates nothing)."""
    from caseledger.billing.services import billing_run

    now = clock.now()
    billing_run(run_date=clock.firm_date(now), now=now)
