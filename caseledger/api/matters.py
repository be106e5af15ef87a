"""Matters API: list, read, create, update matters; advance a stage; list my tasks. Every route
checks ``core.permissions.require`` (capability, then the matter's object scope)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from caseledger.api.pagination import Page, paginate
from caseledger.api.types import DEFAULT_LIMIT, Day, Flag, Id, Limit, Offset, Text, choice, column
from caseledger.clients.models import Beneficiary, Client
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import User
from caseledger.core.permissions import require
from caseledger.matters import selectors, services
from caseledger.matters.choices import BeneficiaryLocation, MatterStatus
from caseledger.matters.models import CaseType, Matter, StageEvent

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
    # Facts the government fees read (billing.fees): the H-1B proclamation payment, ACWIA.
    beneficiary_location: str
    employer_prior_extensions: int
    # The agreed fee or estimate ("" and null: none agreed); set on the matter page with a reason.
    budget_kind: str
    budget_cents: int | None

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


Code = column(CaseType, "code", min_length=1)
Title = column(Matter, "title")
Notes = column(Matter, "notes")
Note = column(StageEvent, "note")
# "" (not an H-1B petition / not known) or where the beneficiary is when the petition is filed.
Location = Literal[("", *BeneficiaryLocation.values)]  # type: ignore[misc,valid-type]
PriorExtensions = Annotated[int, Field(ge=0, le=20)]


class MatterIn(Schema):
    client_id: Id
    case_type: Code  # type: ignore[valid-type]
    beneficiary_id: Id | None = None
    title: Title = ""  # type: ignore[valid-type]
    responsible_partner_id: Id | None = None
    attorney_id: Id | None = None
    paralegal_id: Id | None = None
    priority_date: Day | None = None
    notes: Notes = ""  # type: ignore[valid-type]
    beneficiary_location: Location = ""  # type: ignore[valid-type]
    employer_prior_extensions: PriorExtensions = 0


# A PATCH changes only the fields it sends; title and notes may be left out, not sent as null
# (the defaults are never validated, so an explicit null is a 422 naming the field).
class MatterPatch(Schema):
    title: Title = Field(default=None)  # type: ignore[valid-type]
    beneficiary_id: Id | None = None
    responsible_partner_id: Id | None = None
    attorney_id: Id | None = None
    paralegal_id: Id | None = None
    priority_date: Day | None = None
    notes: Notes = Field(default=None)  # type: ignore[valid-type]
    beneficiary_location: Location = Field(default=None)  # type: ignore[valid-type]
    employer_prior_extensions: PriorExtensions = Field(default=None)  # type: ignore[assignment]


class AdvanceIn(Schema):
    stage: Code  # type: ignore[valid-type]
    allow_skip: Flag = False
    override_reason: Text(300) | None = None  # type: ignore[valid-type]
    note: Note = ""  # type: ignore[valid-type]


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


@router.get("/matters", response=Page[MatterOut], operation_id="matters_list")
def matters_list(
    request: HttpRequest,
    q: Text(200) = "",  # type: ignore[valid-type]
    status: choice(MatterStatus) | None = None,  # type: ignore[valid-type]
    case_type: Text(40) = "",  # type: ignore[valid-type]
    stage: Text(40) = "",  # type: ignore[valid-type]
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict:
    """Matters the user may see, filtered; ``count`` and ``next`` page through them."""
    require(request.user, "matters.view")
    ct = CaseType.objects.filter(code=case_type).first() if case_type else None
    filters = selectors.MatterFilters(
        search=q, status=status or "", stage_code=stage, case_type_id=ct.pk if ct else None
    )
    qs = selectors.matter_list(user=request.user, filters=filters, today=clock.firm_today())
    if case_type and ct is None:
        qs = qs.none()
    return paginate(
        request, qs.prefetch_related("receipts"), limit=limit, offset=offset, serialize=list
    )


def _matter(request: HttpRequest, matter_id: int, capability: str) -> Matter:
    require(request.user, capability)
    matter = get_object_or_404(_matters(), pk=matter_id)
    require(request.user, capability, matter)
    return matter


@router.get("/matters/{matter_id}", response=MatterOut, operation_id="matters_read")
def matters_read(request: HttpRequest, matter_id: Id) -> Matter:
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
def matters_update(request: HttpRequest, matter_id: Id, payload: MatterPatch) -> Matter:
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
def matters_advance(request: HttpRequest, matter_id: Id, payload: AdvanceIn) -> Status[StageEvent]:
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


@router.get("/tasks", response=Page[TaskOut], operation_id="tasks_list")
def tasks_list(
    request: HttpRequest,
    include_done: bool = False,
    matter_id: Id | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict:
    """My tasks (assigned to me or to my role); with ``matter_id``, that matter's tasks."""
    require(request.user, "tasks.view")
    if matter_id is not None:
        matter = _matter(request, matter_id, "matters.view")
        qs = matter.tasks.all()
        if not include_done:
            qs = qs.filter(status="OPEN")
        qs = qs.order_by("status", "due_date", "id")
    else:
        qs = selectors.tasks_for_user(user=request.user, include_done=include_done)
    return paginate(request, qs, limit=limit, offset=offset, serialize=list)
