"""Every row lock of the matters app. Global order: matter -> trust balance -> invoice -> payment;
within matters: matter before its tasks."""

from __future__ import annotations

from collections.abc import Iterable

from caseledger.matters.models import Deadline, Matter, MatterDocument, Task


def matter_lock(*, matter_id: int) -> Matter:
    # No select_related: PostgreSQL refuses FOR UPDATE on the nullable side of an outer join
    # (current_stage, beneficiary); related rows load lazily after the lock.
    return Matter.objects.select_for_update().get(pk=matter_id)


def matters_lock(*, matter_ids: Iterable[int]) -> list[Matter]:
    """Lock several matters in id order (the one order every bulk writer uses, so two bulk
    writers never deadlock on each other)."""
    return list(Matter.objects.select_for_update().filter(pk__in=set(matter_ids)).order_by("pk"))


def task_lock(*, task_id: int) -> Task:
    return Task.objects.select_for_update().get(pk=task_id)


def deadline_lock(*, deadline_id: int) -> Deadline:
    return Deadline.objects.select_for_update().get(pk=deadline_id)


def document_lock(*, document_id: int) -> MatterDocument:
    """A matter document (sharing it or withdrawing it), with its matter."""
    return MatterDocument.objects.select_for_update().select_related("matter").get(pk=document_id)
