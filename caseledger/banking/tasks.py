"""Banking jobs: thin wrappers that call a service."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from caseledger.banking import services
from caseledger.core import clock


@db_task()
def statement_import_job(import_id: int) -> None:
    """Import an uploaded statement file (progress on the import row)."""
    services.statement_import_run(import_id=import_id, now=clock.now())
