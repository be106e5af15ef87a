"""Deadlines and their reminder tasks (firm deadline rules)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction

from caseledger.core import audit, clock
from caseledger.core.models import User
from caseledger.matters import locks
from caseledger.matters.choices import (
    DeadlineKind,
    MatterStatus,
    TaskStatus,
    TeamRole,
)
from caseledger.matters.exceptions import (
    MatterError,
)
from caseledger.matters.models import (
    Deadline,
    FirmDeadlineRule,
    Matter,
    Task,
)
from caseledger.matters.services.tasks import task_complete, task_open_for_system

DEADLINE_KIND_INVALID = "kind: must be one of {allowed} (got {value!r})"
DEADLINE_ALREADY_MET = "deadline: already marked met"
LEAD_DAYS_INVALID = "lead_days: must be between 0 and 365 (got {value})"


def deadline_rule_for(kind: str) -> FirmDeadlineRule:
    rule = FirmDeadlineRule.objects.filter(kind=kind).first()
    return rule or FirmDeadlineRule(kind=kind, lead_days=14, assign_to=TeamRole.PARALEGAL)


def _deadline_task_assignee(matter: Matter, assign_to: str) -> tuple[User | None, str]:
    person = {
        TeamRole.PARALEGAL: matter.paralegal,
        TeamRole.ATTORNEY: matter.attorney,
        TeamRole.PARTNER: matter.responsible_partner,
    }.get(assign_to)  # type: ignore[call-overload]
    if person is not None:
        return person, ""
    return None, assign_to


def deadline_task_key(deadline: Deadline) -> str:
    return f"deadline:{deadline.pk}"


def _deadline_open_task(*, deadline: Deadline, rule: FirmDeadlineRule, now: datetime) -> Task:
    matter = deadline.matter
    assignee, role = _deadline_task_assignee(matter, rule.assign_to)
    label = deadline.get_kind_display()
    task = task_open_for_system(
        key=deadline_task_key(deadline),
        matter=matter,
        title=f"{label} on {deadline.due_date:%b %-d, %Y} — {matter.number}",
        due_date=deadline.due_date,
        now=now,
        assignee=assignee,
        assignee_role=role,
        description=deadline.description,
    )
    Deadline.objects.filter(pk=deadline.pk).update(task=task)
    deadline.task = task
    return task


@transaction.atomic
def deadline_create(
    *,
    matter: Matter,
    kind: str,
    due_date: date,
    actor: User | None,
    now: datetime,
    description: str = "",
) -> Deadline:
    """Record a deadline; when its lead time has already come, its reminder task opens now."""
    if kind not in DeadlineKind.values:
        raise MatterError(
            DEADLINE_KIND_INVALID.format(allowed=", ".join(DeadlineKind.values), value=kind),
            field="kind",
        )
    if due_date is None:
        raise MatterError("due_date: required", field="due_date")
    clock.date_check(due_date, field="due_date")
    deadline = Deadline.objects.create(
        matter=matter,
        kind=kind,
        due_date=due_date,
        description=(description or "").strip()[:200],
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="matters.deadline_created",
        at=now,
        obj=matter,
        after={"deadline": deadline.pk, "kind": kind, "due_date": due_date},
    )
    rule = deadline_rule_for(kind)
    if matter.status != MatterStatus.CLOSED and due_date - timedelta(
        days=rule.lead_days
    ) <= clock.firm_date(now):
        _deadline_open_task(deadline=deadline, rule=rule, now=now)
    return deadline


@transaction.atomic
def deadline_mark_met(*, deadline: Deadline, actor: User | None, now: datetime) -> Deadline:
    """The deadline was met (response filed, hearing attended); its open reminder task closes."""
    deadline = locks.deadline_lock(deadline_id=deadline.pk)
    if deadline.met_at is not None:
        raise MatterError(DEADLINE_ALREADY_MET, field="deadline")
    deadline.met_at = now
    deadline.save(update_fields=["met_at"])
    audit.record(
        actor=actor,
        action="matters.deadline_met",
        at=now,
        obj=deadline.matter,
        after={"deadline": deadline.pk, "kind": deadline.kind, "due_date": deadline.due_date},
    )
    if deadline.task_id is not None:
        task = Task.objects.get(pk=deadline.task_id)
        if task.status == TaskStatus.OPEN:
            task_complete(task=task, actor=actor, now=now)
    return deadline


def deadlines_open_due_tasks(*, today: date, now: datetime) -> list[Task]:
    """Open the reminder task of every unmet deadline on a matter that is not closed whose lead
    time has come by ``today`` (due_date - lead_days <= today). Idempotent: a deadline whose task
    was opened once (even if done since) is not reopened. Returns the tasks opened."""
    opened: list[Task] = []
    for kind in DeadlineKind.values:
        rule = deadline_rule_for(kind)
        due = (
            Deadline.objects.filter(
                kind=kind,
                met_at__isnull=True,
                task__isnull=True,
                due_date__lte=today + timedelta(days=rule.lead_days),
            )
            .exclude(matter__status=MatterStatus.CLOSED)
            .select_related("matter", "matter__paralegal", "matter__attorney")
            .order_by("due_date", "id")
        )
        for deadline in due:
            with transaction.atomic():
                opened.append(_deadline_open_task(deadline=deadline, rule=rule, now=now))
    return opened


@transaction.atomic
def deadline_rule_update(
    *, kind: str, lead_days: int, assign_to: str, actor: User | None, now: datetime
) -> FirmDeadlineRule:
    if lead_days is None or not 0 <= int(lead_days) <= 365:
        raise MatterError(LEAD_DAYS_INVALID.format(value=lead_days), field="lead_days")
    if assign_to not in TeamRole.values:
        raise MatterError(
            f"assign_to: must be one of {', '.join(TeamRole.values)} (got {assign_to!r})",
            field="assign_to",
        )
    rule, _ = FirmDeadlineRule.objects.get_or_create(
        kind=kind, defaults={"lead_days": lead_days, "assign_to": assign_to}
    )
    before = {"lead_days": rule.lead_days, "assign_to": rule.assign_to}
    rule.lead_days = int(lead_days)
    rule.assign_to = assign_to
    rule.save()
    b, a = audit.diff(before, {"lead_days": rule.lead_days, "assign_to": rule.assign_to})
    if a:
        audit.record(
            actor=actor, action="matters.deadline_rule_updated", at=now, obj=rule, before=b, after=a
        )
    return rule
