"""Banking jobs: thin wrappers that call a service."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from caseledger.banking import services
from caseledger.core import clock


@db_task()
def statement_import_job(import_id: int) -> None:
    """Import an uploaded statement file (progress on the import row)."""
    services.statement_import_run(import_id=import_id, now=clock.now())


@db_periodic_task(crontab(hour="6", minute="40"))
def reconciliation_daily_job() -> None:
    """Daily: bank balance against the journal, and months not signed in time (tasks)."""
    from caseledger.banking.reconciliation.services import reconciliation_daily

    reconciliation_daily(now=clock.now())
