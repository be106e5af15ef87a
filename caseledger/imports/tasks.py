"""huey tasks: thin wrappers that pass the clock to a service."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from caseledger.core import clock


@db_task()
def import_job_run_task(job_id: int, actor_id: int | None) -> None:
    """Commit an import job batch by batch (resumes where a stopped run left off)."""
    from caseledger.core.models import User
    from caseledger.imports import services
    from caseledger.imports.models import ImportJob

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    services.job_run(job=ImportJob.objects.get(pk=job_id), actor=actor, now=clock.now())
