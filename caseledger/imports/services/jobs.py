"""Import jobs: create, map, dry run, commit (queued or run here) batch by batch, and the
one-call ``import_file``."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction

from caseledger.core import audit
from caseledger.core.exceptions import ApplicationError
from caseledger.imports import locks
from caseledger.imports.choices import JobStatus
from caseledger.imports.exceptions import ImportRefused
from caseledger.imports.models import (
    ImportJob,
    ImportMapping,
)
from caseledger.imports.services.cleaning import plan_units
from caseledger.imports.services.common import REFUSED, Report
from caseledger.imports.services.mappings import mapping_for
from caseledger.imports.services.reading import decode_upload, mapping_check, read_csv, source_get
from caseledger.imports.services.writing import _run_units, _UnitProblem

BATCH_SIZE = 200

JOB_NOT_READY = "job: run the dry run before committing (the job is {status})"
JOB_HAS_ERRORS = "job: the dry run found {count} problems; fix the file and upload it again"
JOB_DONE = "job: already imported"
JOB_FILE_CHANGED = "job: the file no longer gives {expected} records ({found}); start a new import"


class _Rollback(Exception):
    """Raised to roll the dry run back."""


@transaction.atomic
def job_create(
    *,
    source: str,
    filename: str,
    data: bytes,
    mapping: ImportMapping | None,
    actor: Any,
    now: datetime,
) -> ImportJob:
    """Store an uploaded file as a job with the suggested mapping (the saved one named, else
    the source's shipped one)."""
    src = source_get(source)
    content = decode_upload(data)
    headers, rows = read_csv(content)
    chosen = mapping or mapping_for(src, now=now)
    columns = {k: v for k, v in chosen.columns.items() if v in headers}
    job = ImportJob.objects.create(
        source=src.code,
        filename=filename[:200],
        content=content,
        mapping=chosen,
        columns=columns,
        defaults=dict(chosen.defaults),
        rows=len(rows),
        created_by=actor,
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="imports.job_created",
        at=now,
        obj=job,
        after={"source": src.code, "filename": job.filename, "rows": len(rows)},
    )
    return job


@transaction.atomic
def job_map(
    *,
    job: ImportJob,
    columns: dict[str, str],
    defaults: dict[str, str],
    consent_updates: bool,
    actor: Any,
    now: datetime,
) -> ImportJob:
    """Set the job's mapping and defaults (refused when they name a field or header that does
    not exist). Sends the job back to dry run."""
    job = locks.job_lock(job_id=job.pk)
    if job.status in {JobStatus.RUNNING, JobStatus.DONE, JobStatus.FAILED}:
        raise ImportRefused(JOB_DONE, field="job")
    src = source_get(job.source)
    headers, _ = read_csv(job.content)
    columns = {k: v for k, v in columns.items() if v}
    mapping_check(source=src, columns=columns, headers=headers)
    job.columns = columns
    job.defaults = {k: v for k, v in defaults.items() if v and k in src.field_names()}
    job.consent_updates = consent_updates
    job.status = JobStatus.UPLOADED
    job.report = {}
    job.save()
    return job


def dry_run(
    *,
    source: str,
    content: str,
    columns: dict[str, str],
    defaults: dict[str, str],
    consent: bool,
    actor: Any,
    now: datetime,
    job: ImportJob | None = None,
) -> Report:
    """Validate every row and run every write inside a transaction that is always rolled back:
    the report says what a commit would create, update and refuse; nothing is written."""
    src = source_get(source)
    rows, units, problems = plan_units(
        source=src, content=content, columns=columns, defaults=defaults
    )
    report = Report(rows=rows, problems=problems, units=len(units))
    try:
        with transaction.atomic():
            holder = job or ImportJob.objects.create(
                source=src.code, filename="dry run", content="", created_at=now
            )
            _run_units(
                units,
                source=src.code,
                job=holder,
                consent=consent,
                actor=actor,
                now=now,
                report=report,
                stop_on_problem=False,
            )
            raise _Rollback
    except _Rollback:
        pass
    return report


def job_dry_run(*, job: ImportJob, actor: Any, now: datetime) -> Report:
    """Dry-run the job and keep the report on it (the only write: the job's own status)."""
    report = dry_run(
        source=job.source,
        content=job.content,
        columns=job.columns,
        defaults=job.defaults,
        consent=job.consent_updates,
        actor=actor,
        now=now,
        job=job,
    )
    with transaction.atomic():
        locked = locks.job_lock(job_id=job.pk)
        if locked.status in {JobStatus.UPLOADED, JobStatus.VALIDATED}:
            locked.status = JobStatus.VALIDATED
            locked.report = report.as_dict()
            locked.rows = report.rows
            locked.total_units = report.units
            locked.save()
    job.refresh_from_db()
    return report


def job_commit_start(*, job: ImportJob, actor: Any, now: datetime) -> ImportJob:
    """Check the job may be committed (a clean dry run, or a stopped run to resume)."""
    job = ImportJob.objects.get(pk=job.pk)
    if job.status == JobStatus.DONE:
        raise ImportRefused(JOB_DONE, field="job")
    if job.status not in {JobStatus.VALIDATED, JobStatus.RUNNING, JobStatus.FAILED}:
        raise ImportRefused(JOB_NOT_READY.format(status=job.get_status_display()), field="job")
    errors = job.report.get("errors") or []
    if errors:
        raise ImportRefused(JOB_HAS_ERRORS.format(count=len(errors)), field="job")
    return job


def job_commit_queue(*, job: ImportJob, actor: Any, now: datetime) -> ImportJob:
    """Check the job may be committed (``job_commit_start``) and start its run as a background
    job once this transaction commits (the run commits batch by batch on its own)."""
    job = job_commit_start(job=job, actor=actor, now=now)
    actor_id = getattr(actor, "pk", None)
    transaction.on_commit(partial(_run_enqueue, job.pk, actor_id))
    return job


def _run_enqueue(job_id: int, actor_id: int | None) -> None:
    from caseledger.imports.tasks import import_job_run_task

    import_job_run_task(job_id, actor_id)


def job_run(
    *, job: ImportJob, actor: Any, now: datetime, batch_size: int = BATCH_SIZE
) -> ImportJob:
    """Commit the job batch by batch, each batch all or nothing, resuming after the last
    committed batch. A batch that hits a problem rolls back and stops the job (FAILED, with the
    problem); a crash leaves it RUNNING or FAILED and a second call carries on: the import keys
    make a batch that did commit count as unchanged, so nothing is written twice."""
    job = job_commit_start(job=job, actor=actor, now=now)
    src = source_get(job.source)
    _, units, problems = plan_units(
        source=src, content=job.content, columns=job.columns, defaults=job.defaults
    )
    if problems:
        raise ImportRefused(JOB_HAS_ERRORS.format(count=len(problems)), field="job")
    if job.total_units and job.total_units != len(units):
        raise ImportRefused(
            JOB_FILE_CHANGED.format(expected=job.total_units, found=len(units)), field="job"
        )
    with transaction.atomic():
        locked = locks.job_lock(job_id=job.pk)
        locked.status = JobStatus.RUNNING
        locked.total_units = len(units)
        locked.failure = ""
        locked.save(update_fields=["status", "total_units", "failure"])
        if locked.processed_units == 0:
            audit.record(actor=actor, action="imports.job_started", at=now, obj=locked)
    start = job.processed_units
    for index in range(start, len(units), batch_size):
        batch = units[index : index + batch_size]
        report = Report()
        try:
            with transaction.atomic():
                locked = locks.job_lock(job_id=job.pk)
                if locked.processed_units != index:
                    continue  # another runner took this batch
                _run_units(
                    batch,
                    source=src.code,
                    job=locked,
                    consent=locked.consent_updates,
                    actor=actor,
                    now=now,
                    report=report,
                    stop_on_problem=True,
                )
                locked.processed_units = index + len(batch)
                locked.created += report.created
                locked.updated += report.updated
                locked.save(update_fields=["processed_units", "created", "updated"])
        except (_UnitProblem, ApplicationError) as refused:
            if report.problems:
                problem = report.problems[-1]
                message = f"line {problem.line}: {problem.rule}: {problem.message}"
            else:  # refused by a bulk insert's own check (a number taken meanwhile)
                message = f"stopped at record {index + 1}: {refused}"
            _job_fail(job, message, now)
            job.refresh_from_db()
            return job
        except Exception as exc:
            _job_fail(job, f"stopped at record {index + 1}: {type(exc).__name__}: {exc}", now)
            raise
    with transaction.atomic():
        locked = locks.job_lock(job_id=job.pk)
        locked.status = JobStatus.DONE
        locked.finished_at = now
        locked.save(update_fields=["status", "finished_at"])
        audit.record(
            actor=actor,
            action="imports.job_done",
            at=now,
            obj=locked,
            after={"created": locked.created, "updated": locked.updated},
        )
    job.refresh_from_db()
    return job


def _job_fail(job: ImportJob, message: str, now: datetime) -> None:
    with transaction.atomic():
        locked = locks.job_lock(job_id=job.pk)
        locked.status = JobStatus.FAILED
        locked.failure = message[:500]
        locked.save(update_fields=["status", "failure"])


def import_file(
    *,
    source: str,
    data: bytes,
    filename: str,
    mapping: ImportMapping | None,
    dry: bool,
    actor: Any,
    now: datetime,
    consent_updates: bool = False,
) -> dict[str, Any]:
    """The shell's path (``manage.py import_data``): the dry run's report, or the job run's
    counts. Returns ``{rows, valid, errors, created, updated}``."""
    job = job_create(
        source=source, filename=filename, data=data, mapping=mapping, actor=actor, now=now
    )
    if consent_updates:
        job = job_map(
            job=job,
            columns=job.columns,
            defaults=job.defaults,
            consent_updates=True,
            actor=actor,
            now=now,
        )
    report = job_dry_run(job=job, actor=actor, now=now)
    result = report.as_dict()
    if dry or report.problems:
        return result
    job = job_run(job=job, actor=actor, now=now)
    result["created"], result["updated"] = job.created, job.updated
    if job.status != JobStatus.DONE:
        result["errors"].append({"line": 0, "rule": REFUSED, "field": "", "message": job.failure})
    return result
