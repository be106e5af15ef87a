"""Reads for matters: the authorization scope as a queryset, list filters and search, tasks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from caseledger.core.choices import Role
from caseledger.core.permissions import UNSCOPED_ROLES
from caseledger.matters.choices import MatterStatus, TaskStatus
from caseledger.matters.models import (
    BudgetChange,
    CaseType,
    Deadline,
    Matter,
    Stage,
    StageEvent,
    Task,
)


def matters_visible_to(user: Any) -> QuerySet[Matter]:
    """The matters ``user`` may open, as a queryset (same rule as the matter object scope)."""
    from caseledger.core.selectors import firm_get

    qs = Matter.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.role in UNSCOPED_ROLES:
        return qs
    if user.role == Role.CLIENT:
        return qs.filter(client__portal_users=user)
    if user.role in {Role.ATTORNEY, Role.PARALEGAL}:
        if firm_get().matters_open_to_all:
            return qs
        return qs.filter(Q(attorney=user) | Q(paralegal=user) | Q(responsible_partner=user))
    return qs.none()


class ClientMatters:
    """The client pages' matters, registered with ``clients.hooks`` (clients sit below matters)."""

    @staticmethod
    def visible(user: Any, client: Any) -> list[Matter]:
        return list(
            matters_visible_to(user)
            .filter(client=client)
            .select_related("case_type", "current_stage", "beneficiary", "attorney")
            .order_by("-opened_date", "-id")
        )

    @staticmethod
    def open_counts(client_ids: list[int]) -> dict[int, int]:
        """Matters not closed per client, for these clients only (one grouped query)."""
        rows = (
            Matter.objects.filter(client_id__in=client_ids)
            .exclude(status=MatterStatus.CLOSED)
            .values("client_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {r["client_id"]: r["n"] for r in rows}


@dataclass(frozen=True)
class MatterFilters:
    search: str = ""
    attorney_id: int | None = None
    partner_id: int | None = None
    case_type_id: int | None = None
    stage_code: str = ""
    status: str = ""
    deadline_within_days: int | None = None


def matter_list(*, user: Any, filters: MatterFilters, today: date) -> QuerySet[Matter]:
    """Visible matters matching ``filters``. Search matches the client, beneficiary or matter
    name/number, a receipt number, or an A-number (through its keyed hash: exact match only)."""
    from caseledger.clients.selectors import a_number_hash_for_search, without_pii

    # The team (three foreign keys into the small user table) is prefetched, not joined: with
    # seven joins PostgreSQL spent 30-60 ms planning each page of the list (3 ms with four).
    qs = without_pii(
        matters_visible_to(user)
        .select_related("client", "beneficiary", "case_type", "current_stage")
        .prefetch_related("attorney", "paralegal", "responsible_partner"),
        "client",
        "beneficiary",
    )
    if filters.search:
        term = filters.search.strip()
        compact = re.sub(r"[\s\-.]", "", term).upper()
        q = (
            Q(client__name__icontains=term)
            | Q(beneficiary__name__icontains=term)
            | Q(title__icontains=term)
            | Q(number__icontains=term)
            | Q(receipts__number=compact)
        )
        a_hash = a_number_hash_for_search(term)
        if a_hash:
            q |= Q(client__a_number_hash=a_hash) | Q(beneficiary__a_number_hash=a_hash)
        qs = qs.filter(q).distinct()
    if filters.attorney_id:
        qs = qs.filter(attorney_id=filters.attorney_id)
    if filters.partner_id:
        qs = qs.filter(responsible_partner_id=filters.partner_id)
    if filters.case_type_id:
        qs = qs.filter(case_type_id=filters.case_type_id)
    if filters.stage_code:
        qs = qs.filter(current_stage__code=filters.stage_code)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.deadline_within_days is not None:
        horizon = today + timedelta(days=filters.deadline_within_days)
        qs = qs.filter(
            Exists(
                Deadline.objects.filter(
                    matter=OuterRef("pk"), met_at__isnull=True, due_date__lte=horizon
                )
            )
        )
    return qs.order_by("-opened_date", "-id")


def matter_next_deadline(matters: list[Matter]) -> dict[int, Deadline]:
    """The earliest unmet deadline per matter (one query)."""
    found: dict[int, Deadline] = {}
    rows = Deadline.objects.filter(
        matter_id__in=[m.pk for m in matters], met_at__isnull=True
    ).order_by("due_date", "id")
    for deadline in rows:
        found.setdefault(deadline.matter_id, deadline)
    return found


def matter_timeline(matter: Matter) -> list[dict[str, Any]]:
    """The template with, per stage, the event that reached it (if any) and its state."""
    events = {
        e.stage_id: e
        for e in StageEvent.objects.filter(matter=matter)
        .select_related("actor")
        .order_by("at", "id")
    }
    current_pos = matter.current_stage.position if matter.current_stage_id else 0  # type: ignore[union-attr]
    rows = []
    for stage in matter.case_type.stages.order_by("position", "id"):
        event = events.get(stage.pk)
        if matter.current_stage_id == stage.pk:
            state = "current"
        elif event is not None:
            state = "done"
        elif stage.position < current_pos:
            state = "passed"
        else:
            state = "todo"
        rows.append({"stage": stage, "event": event, "state": state})
    return rows


def stages_ahead(matter: Matter, stages: Iterable[Stage]) -> list[Stage]:
    """Of ``stages`` (the case type's, in template order, e.g. the timeline's), those the matter
    may move to: every one after its current stage (all of them before the first). The first is
    the advance form's default."""
    if matter.current_stage_id is None:
        return list(stages)
    position = matter.current_stage.position  # type: ignore[union-attr]
    return [stage for stage in stages if stage.position > position]


def tasks_for_user(*, user: Any, include_done: bool = False) -> QuerySet[Task]:
    """'My tasks': assigned to me, or to my role and on a matter I may open (or on no matter)."""
    visible = matters_visible_to(user).values("pk")
    qs = Task.objects.filter(
        Q(assignee=user)
        | (
            Q(assignee__isnull=True, assignee_role=user.role)
            & (Q(matter__isnull=True) | Q(matter__in=visible))
        )
    ).select_related("matter", "matter__client", "assignee")
    if not include_done:
        qs = qs.filter(status=TaskStatus.OPEN)
    return qs.order_by("status", "due_date", "id")


def tasks_visible_to(user: Any) -> QuerySet[Task]:
    """Every task ``user`` may see (their own plus those of matters they may open)."""
    visible = matters_visible_to(user).values("pk")
    if user.role in UNSCOPED_ROLES:
        return Task.objects.all()
    return Task.objects.filter(
        Q(assignee=user) | Q(matter__in=visible) | Q(assignee_role=user.role, matter__isnull=True)
    )


def case_type_list() -> QuerySet[CaseType]:
    return CaseType.objects.order_by("position", "name", "id")


def budget_changes(matter: Matter) -> list[BudgetChange]:
    """The matter's budget history, newest first."""
    return list(matter.budget_changes.select_related("actor").order_by("-at", "-id")[:20])


def matter_pick(
    queryset: QuerySet[Matter], *, query: str, client_id: int | str | None = None
) -> QuerySet[Matter]:
    """Matters of ``queryset`` for the matter picker: of ``client_id`` when given, matching
    ``query`` (matter number or title, client or beneficiary name, any part, any case), open
    ones first, newest first; the client is loaded for the label."""
    query = (query or "").strip()
    if client_id not in (None, "") and str(client_id).isdigit():
        queryset = queryset.filter(client_id=int(client_id))
    if query:
        queryset = queryset.filter(
            Q(number__icontains=query)
            | Q(title__icontains=query)
            | Q(client__name__icontains=query)
            | Q(beneficiary__name__icontains=query)
        )
    return queryset.select_related("client", "case_type").order_by(
        F("closed_date").asc(nulls_first=True), "-opened_date", "-id"
    )
