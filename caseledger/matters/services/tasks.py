"""Tasks: created by people, or opened once per key by the system."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction

from caseledger.core import audit, clock
from caseledger.core.choices import Role
from caseledger.core.models import User
from caseledger.matters import locks
from caseledger.matters.choices import (
    TaskStatus,
)
from caseledger.matters.exceptions import (
    TaskError,
)
from caseledger.matters.models import (
    Matter,
    Task,
)

TASK_TITLE_REQUIRED = "title: required"
TASK_ASSIGNEE_REQUIRED = "assignee: choose a person or a role"
TASK_ALREADY_DONE = "task: already done"
SYSTEM_KEY_REQUIRED = "key: required for a system task"


@transaction.atomic
def task_create(
    *,
    title: str,
    actor: User | None,
    now: datetime,
    matter: Matter | None = None,
    due_date: date | None = None,
    assignee: User | None = None,
    assignee_role: str = "",
    description: str = "",
) -> Task:
    """A task entered by a person, for a person or for everyone in a role."""
    title = (title or "").strip()
    if not title:
        raise TaskError(TASK_TITLE_REQUIRED, field="title")
    if due_date:
        clock.date_check(due_date, field="due_date")
    if assignee is None and not assignee_role:
        raise TaskError(TASK_ASSIGNEE_REQUIRED, field="assignee")
    if assignee_role and assignee_role not in Role.values:
        raise TaskError(f"assignee_role: unknown role {assignee_role!r}", field="assignee_role")
    task = Task.objects.create(
        matter=matter,
        title=title[:200],
        description=description or "",
        due_date=due_date,
        assignee=assignee,
        assignee_role=assignee_role or "",
        created_by=actor,
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="matters.task_created",
        at=now,
        obj=task,
        after={
            "title": task.title,
            "matter": matter.pk if matter else None,
            "assignee": assignee.pk if assignee else None,
            "assignee_role": task.assignee_role,
            "due_date": due_date,
        },
    )
    return task


def task_open_for_system(
    *,
    key: str,
    matter: Matter | None,
    title: str,
    due_date: date | None,
    now: datetime,
    assignee: User | None = None,
    assignee_role: str | None = None,
    description: str = "",
) -> Task:
    """Open the system task for ``key`` unless one is already open; return the open task.

    At most one OPEN task per key (partial unique constraint), so reruns and concurrent jobs
    never open a second. Once that task is done, the same key may open a new one."""
    if not (key or "").strip():
        raise TaskError(SYSTEM_KEY_REQUIRED, field="key")
    existing = Task.objects.filter(system_key=key, status=TaskStatus.OPEN).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            task = Task.objects.create(
                matter=matter,
                title=(title or key)[:200],
                description=description or "",
                due_date=due_date,
                assignee=assignee,
                assignee_role=assignee_role or "",
                system_key=key,
                created_at=now,
            )
            audit.record(
                actor=None,
                action="matters.task_opened_by_system",
                at=now,
                obj=task,
                after={"key": key, "matter": matter.pk if matter else None, "due_date": due_date},
            )
    except IntegrityError:
        # A concurrent run opened it between our read and insert.
        return Task.objects.get(system_key=key, status=TaskStatus.OPEN)
    return task


@dataclass(frozen=True)
class SystemTaskSpec:
    """One system task to open (see ``task_open_for_system``)."""

    key: str
    matter_id: int | None
    title: str
    due_date: date | None
    assignee_id: int | None = None
    assignee_role: str = ""
    description: str = ""


def task_open_for_system_bulk(
    *, specs: Sequence[SystemTaskSpec], now: datetime, actor_label: str = ""
) -> list[Task]:
    """Open many system tasks at once (a job's batch); returns the tasks this call opened.

    Same rule as ``task_open_for_system``: a key with an OPEN task is skipped (the first spec of
    a key repeated in ``specs`` wins). The missing ones are inserted in one statement and
    recorded as one audit event (``matters.tasks_opened_by_system``) listing each task's id,
    key and matter. When a concurrent job opens one of the keys between the read and the insert
    (the partial unique index refuses it), the batch falls back to one savepoint per task, so
    each key still has one open task and nothing else is lost. Raises TaskError (field ``key``)
    for a blank key, changing nothing."""
    unique: dict[str, SystemTaskSpec] = {}
    for spec in specs:
        if not (spec.key or "").strip():
            raise TaskError(SYSTEM_KEY_REQUIRED, field="key")
        unique.setdefault(spec.key, spec)
    if not unique:
        return []
    with transaction.atomic():
        existing = set(
            Task.objects.filter(system_key__in=list(unique), status=TaskStatus.OPEN).values_list(
                "system_key", flat=True
            )
        )
        new = [
            Task(
                matter_id=spec.matter_id,
                title=(spec.title or spec.key)[:200],
                description=spec.description or "",
                due_date=spec.due_date,
                assignee_id=spec.assignee_id,
                assignee_role=spec.assignee_role or "",
                system_key=spec.key,
                created_at=now,
            )
            # Key order: two jobs inserting overlapping keys wait on each other's index entries
            # in one order, never in a cycle.
            for spec in sorted(unique.values(), key=lambda spec: spec.key)
            if spec.key not in existing
        ]
        if not new:
            return []
        try:
            with transaction.atomic():
                Task.objects.bulk_create(new)
        except IntegrityError:
            opened = []
            for task in new:
                task.pk = None
                try:
                    with transaction.atomic():
                        task.save(force_insert=True)
                except IntegrityError:
                    continue
                opened.append(task)
            new = opened
        if new:
            audit.record(
                actor=None,
                actor_label=actor_label or None,
                action="matters.tasks_opened_by_system",
                at=now,
                after={
                    "tasks": [[t.pk, t.system_key, t.matter_id, t.due_date] for t in new],
                },
            )
    return new


@transaction.atomic
def task_complete(*, task: Task, actor: User | None, now: datetime) -> Task:
    task = locks.task_lock(task_id=task.pk)
    if task.status == TaskStatus.DONE:
        raise TaskError(TASK_ALREADY_DONE, field="task")
    task.status = TaskStatus.DONE
    task.completed_at = now
    task.completed_by = actor
    task.save(update_fields=["status", "completed_at", "completed_by"])
    audit.record(
        actor=actor,
        action="matters.task_completed",
        at=now,
        obj=task,
        before={"status": TaskStatus.OPEN},
        after={"status": TaskStatus.DONE},
    )
    return task
