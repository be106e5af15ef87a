"""Matters API: list, read, create, update matters; advance a stage; list my tasks. Every route
checks ``core.permissions.require`` (capability, then the matter's object scope)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from caseledger.clients.models import Beneficiary, Client
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import User
from caseledger.core.permissions import require
from caseledger.matters import selectors, services
from caseledger.matters.models import CaseType, Matter, StageEvent, Task

router = Router(tags=["matters"])

NOT_FOUND = "{field}: no {what} with id {pk}"


class MatterOut(Schema):
    id: int
    number: str
    title: str
    client_id: int
    client_name: str
    beneficiary_id: int | None
    beneficiary_name: str
    case_type: str
    current_stage: str | None
    status: str
    hold_new_work: bool
    hold_reason: str
    responsible_partner_id: int | None
    attorney_id: int | None
    paralegal_id: int | None
    opened_date: date
    closed_date: date | None
    priority_date: date | None
    receipt_numbers: list[str]
    notes: str

    @staticmethod
    def resolve_client_name(obj: Matter) -> str:
        return obj.client.name

    @staticmethod
    def resolve_case_type(obj: Matter) -> str:
        return obj.case_type.code

    @staticmethod
    def resolve_current_stage(obj: Matter) -> str | None:
        return obj.current_stage.code if obj.current_stage_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_receipt_numbers(obj: Matter) -> list[str]:
        return [r.number for r in obj.receipts.all()]


class MatterIn(Schema):
    client_id: int
    case_type: str
    beneficiary_id: int | None = None
    title: str = ""
    responsible_partner_id: int | None = None
    attorney_id: int | None = None
    paralegal_id: int | None = None
    priority_date: date | None = None
    notes: str = ""


class MatterPatch(Schema):
    title: str | None = None
    beneficiary_id: int | None = None
    responsible_partner_id: int | None = None
    attorney_id: int | None = None
    paralegal_id: int | None = None
    priority_date: date | None = None
    notes: str | None = None


class AdvanceIn(Schema):
    stage: str
    allow_skip: bool = False
    override_reason: str | None = None
    note: str = ""


class StageEventOut(Schema):
    id: int
    matter_id: int
    stage: str
    from_stage: str | None
    actor_id: int | None
    at: datetime
    skipped: list[str]

    @staticmethod
    def resolve_stage(obj: StageEvent) -> str:
        return obj.stage.code

    @staticmethod
    def resolve_from_stage(obj: StageEvent) -> str | None:
        return obj.from_stage.code if obj.from_stage_id else None  # type: ignore[union-attr]


class TaskOut(Schema):
    id: int
    title: str
    matter_id: int | None
    assignee_id: int | None
    assignee_role: str
    due_date: date | None
    status: str
    system_key: str


def _user(field: str, pk: int | None) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise ApplicationError(NOT_FOUND.format(field=field, what="user", pk=pk), field=field)
    return user


def _team(data: dict[str, object]) -> dict[str, object]:
    out = dict(data)
    for name in ("responsible_partner", "attorney", "paralegal"):
        key = f"{name}_id"
        if key in out:
            out[name] = _user(key, out.pop(key))  # type: ignore[arg-type]
    return out


def _matters() -> QuerySet[Matter]:
    return Matter.objects.select_related(
        "client", "beneficiary", "case_type", "current_stage"
    ).prefetch_related("receipts")


@router.get("/matters", response=list[MatterOut], operation_id="matters_list")
def matters_list(
    request: HttpRequest,
    q: str = "",
    status: str = "",
    case_type: str = "",
    stage: str = "",
    limit: int = 100,
    offset: int = 0,
) -> list[Matter]:
    require(request.user, "matters.view")
    ct = CaseType.objects.filter(code=case_type).first() if case_type else None
    filters = selectors.MatterFilters(
        search=q, status=status, stage_code=stage, case_type_id=ct.pk if ct else None
    )
    if case_type and ct is None:
        return []
    limit = max(1, min(limit, 500))
    qs = selectors.matter_list(user=request.user, filters=filters, today=clock.firm_today())
    return list(qs.prefetch_related("receipts")[offset : offset + limit])


def _matter(request: HttpRequest, matter_id: int, capability: str) -> Matter:
    require(request.user, capability)
    matter = get_object_or_404(_matters(), pk=matter_id)
    require(request.user, capability, matter)
    return matter


@router.get("/matters/{matter_id}", response=MatterOut, operation_id="matters_read")
def matters_read(request: HttpRequest, matter_id: int) -> Matter:
    return _matter(request, matter_id, "matters.view")


@router.post("/matters", response={201: MatterOut}, operation_id="matters_create")
def matters_create(request: HttpRequest, payload: MatterIn) -> Status[Matter]:
    require(request.user, "matters.manage")
    client = Client.objects.filter(pk=payload.client_id).first()
    if client is None:
        raise ApplicationError(
            NOT_FOUND.format(field="client_id", what="client", pk=payload.client_id),
            field="client_id",
        )
    require(request.user, "clients.view", client)
    case_type = CaseType.objects.filter(code=payload.case_type).first()
    if case_type is None:
        raise ApplicationError(
            f"case_type: unknown case type {payload.case_type!r}", field="case_type"
        )
    beneficiary = None
    if payload.beneficiary_id is not None:
        beneficiary = Beneficiary.objects.filter(pk=payload.beneficiary_id).first()
        if beneficiary is None:
            raise ApplicationError(
                NOT_FOUND.format(
                    field="beneficiary_id", what="beneficiary", pk=payload.beneficiary_id
                ),
                field="beneficiary_id",
            )
    data = _team(payload.dict(exclude={"client_id", "case_type", "beneficiary_id"}))
    matter = services.matter_create(
        client=client,
        case_type=case_type,
        beneficiary=beneficiary,
        actor=request.user,  # type: ignore[arg-type]
        now=clock.now(),
        **data,  # type: ignore[arg-type]
    )
    return Status(201, get_object_or_404(_matters(), pk=matter.pk))


@router.patch("/matters/{matter_id}", response=MatterOut, operation_id="matters_update")
def matters_update(request: HttpRequest, matter_id: int, payload: MatterPatch) -> Matter:
    matter = _matter(request, matter_id, "matters.manage")
    data = _team(payload.dict(exclude_unset=True))
    if "beneficiary_id" in data:
        pk = data.pop("beneficiary_id")
        data["beneficiary"] = (
            Beneficiary.objects.filter(pk=pk).first() if isinstance(pk, int) else None
        )
    services.matter_update(matter=matter, actor=request.user, now=clock.now(), **data)  # type: ignore[arg-type]
    return get_object_or_404(_matters(), pk=matter.pk)


@router.post(
    "/matters/{matter_id}/advance", response={201: StageEventOut}, operation_id="matters_advance"
)
def matters_advance(request: HttpRequest, matter_id: int, payload: AdvanceIn) -> Status[StageEvent]:
    matter = _matter(request, matter_id, "matters.advance")
    event = services.matter_stage_advance(
        matter=matter,
        stage=payload.stage,
        actor=request.user,  # type: ignore[arg-type]
        now=clock.now(),
        allow_skip=payload.allow_skip,
        override_reason=payload.override_reason,
        note=payload.note,
    )
    return Status(201, event)


@router.get("/tasks", response=list[TaskOut], operation_id="tasks_list")
def tasks_list(
    request: HttpRequest, include_done: bool = False, matter_id: int | None = None
) -> list[Task]:
    """My tasks (assigned to me or to my role); with ``matter_id``, that matter's tasks."""
    require(request.user, "tasks.view")
    if matter_id is not None:
        matter = _matter(request, matter_id, "matters.view")
        qs = matter.tasks.all()
        if not include_done:
            qs = qs.filter(status="OPEN")
        return list(qs.order_by("status", "due_date", "id"))
    return list(selectors.tasks_for_user(user=request.user, include_done=include_done)[:500])
