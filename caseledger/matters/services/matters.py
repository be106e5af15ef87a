"""Writes for matters: create/update, stage advance (with the billing hook), holds, receipt
numbers, deadlines and tasks, case-type templates. Every write is one transaction with an audit
event; ``now`` is always passed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When

from caseledger.clients.choices import ClientKind
from caseledger.clients.models import Beneficiary, Client
from caseledger.core import audit, clock
from caseledger.core.amounts import firm_money
from caseledger.core.choices import Role
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import User
from caseledger.core.numbering import counter_next
from caseledger.core.permissions import authorize
from caseledger.matters import hooks, locks
from caseledger.matters.choices import (
    BUDGET_THRESHOLDS_PCT,
    BeneficiaryLocation,
    BeneficiaryRule,
    BudgetKind,
    DeadlineKind,
    MatterStatus,
    TaskStatus,
    TeamRole,
)
from caseledger.matters.exceptions import (
    MatterClosed,
    MatterError,
    MatterOnHold,
    StageError,
    TaskError,
)
from caseledger.matters.models import (
    BudgetChange,
    CaseType,
    Deadline,
    FirmDeadlineRule,
    Matter,
    MatterNumberCounter,
    ReceiptNumber,
    Stage,
    StageEvent,
    Task,
)
from caseledger.matters.validators import normalize_receipt_number, validate_stage_code

# Matter creation and team.
EMPLOYMENT_PRIVATE_PETITIONER = (
    "case_type: {case_type} is employment-based; the petitioner must be a company (employer), "
    "not the private individual {client}"
)
SELF_PETITION_NEEDS_PERSON = (
    "client: {case_type} is filed by the applicant; the client must be a person, not the "
    "company {client}"
)
SELF_PETITION_NO_BENEFICIARY = (
    "beneficiary: {case_type} is a self-petition; the client is the beneficiary, leave "
    "beneficiary empty"
)
BENEFICIARY_REQUIRED = "beneficiary: required for {case_type} (the person the petition is for)"
BENEFICIARY_NOT_OF_CLIENT = "beneficiary: {beneficiary} is not linked to client {client}"
CASE_TYPE_INACTIVE = "case_type: {case_type} is no longer offered"
CASE_TYPE_NO_STAGES = "case_type: {case_type} has no stages; add its stage template first"
TEAM_ROLE_INVALID = "{field}: {user} is not {wanted}"
TITLE_TOO_LONG = "title: at most 200 characters"
PRIORITY_DATE_FUTURE = "priority_date: cannot be after today (got {value})"

# Stage advance.
STAGE_NOT_IN_TEMPLATE = "stage: {stage!r} is not a stage of {case_type} (stages: {allowed})"
STAGE_ALREADY = "stage: matter {number} is already at {stage}"
STAGE_BACKWARDS = "stage: cannot move back from {current} to {stage}; stages only move forward"
STAGE_SKIP_NEEDS_FLAG = (
    "stage: moving from {current} to {stage} skips {skipped}; advance one stage at a time or "
    "choose to skip (attorneys, partners and admins)"
)
STAGE_SKIP_FORBIDDEN = "stage: you may not skip stages ({skipped}); ask an attorney or a partner"
MATTER_CLOSED = "matter: {number} is closed; nothing can change its stage or add new work"
MATTER_ON_HOLD = (
    "matter: {number} is on hold for new work ({reason}); a partner may override with a reason"
)
HOLD_OVERRIDE_FORBIDDEN = "override_reason: only a partner may override a hold on new work"
HOLD_REASON_REQUIRED = "reason: required"
OVERRIDE_REASON_REQUIRED = "override_reason: required to override a hold on new work"

# Receipts, deadlines, tasks.
RECEIPT_TAKEN = "receipt_number: {number} is already recorded on matter {matter}"
DEADLINE_KIND_INVALID = "kind: must be one of {allowed} (got {value!r})"
DEADLINE_ALREADY_MET = "deadline: already marked met"
TASK_TITLE_REQUIRED = "title: required"
TASK_ASSIGNEE_REQUIRED = "assignee: choose a person or a role"
TASK_ALREADY_DONE = "task: already done"
SYSTEM_KEY_REQUIRED = "key: required for a system task"
LEAD_DAYS_INVALID = "lead_days: must be between 0 and 365 (got {value})"

# Budget.
BUDGET_KIND_INVALID = "budget_kind: must be one of {allowed} (got {value!r})"
BUDGET_AMOUNT_INVALID = "budget: must be zero or more (got {value})"
BUDGET_MAX_CENTS = (
    100_000_000_000  # $1,000,000,000.00: far above any engagement, far below overflow
)
BUDGET_AMOUNT_TOO_LARGE = "budget: at most {limit} (got {value})"
BUDGET_AMOUNT_REQUIRED = "budget: required with a budget kind"
BUDGET_REASON_REQUIRED = "reason: required when changing the budget"
BUDGET_REDUCE_INVALID = "amount: a budget reduction must be positive (got {value})"
BUDGET_TASK_TITLE = "Budget: {pct}% of the {kind} billed on {number}"
BUDGET_TASK_DESCRIPTION = (
    "Billed {billed} of the agreed {budget} ({share}%). Talk to the client about the budget "
    "before more work is billed."
)

# Case types.
CASE_TYPE_CODE_TAKEN = "code: a case type with code {code!r} already exists"
STAGE_CODE_TAKEN = "code: {case_type} already has a stage {code!r}"
STAGE_IN_USE = "stage: {stage} is used by matters or stage events and cannot be removed"
NAME_REQUIRED = "name: required"


def _check_team(
    *, responsible_partner: User | None, attorney: User | None, paralegal: User | None
) -> None:
    if responsible_partner is not None and responsible_partner.role != Role.PARTNER:
        raise MatterError(
            TEAM_ROLE_INVALID.format(
                field="responsible_partner", user=responsible_partner, wanted="a partner"
            ),
            field="responsible_partner",
        )
    if attorney is not None and attorney.role not in {Role.ATTORNEY, Role.PARTNER}:
        raise MatterError(
            TEAM_ROLE_INVALID.format(field="attorney", user=attorney, wanted="an attorney"),
            field="attorney",
        )
    if paralegal is not None and paralegal.role != Role.PARALEGAL:
        raise MatterError(
            TEAM_ROLE_INVALID.format(field="paralegal", user=paralegal, wanted="a paralegal"),
            field="paralegal",
        )


def _check_parties(*, client: Client, case_type: CaseType, beneficiary: Beneficiary | None) -> None:
    if case_type.employment_based and client.kind == ClientKind.PERSON:
        raise MatterError(
            EMPLOYMENT_PRIVATE_PETITIONER.format(case_type=case_type.name, client=client.name),
            field="case_type",
        )
    if case_type.beneficiary_rule == BeneficiaryRule.SELF:
        if client.kind != ClientKind.PERSON:
            raise MatterError(
                SELF_PETITION_NEEDS_PERSON.format(case_type=case_type.name, client=client.name),
                field="client",
            )
        if beneficiary is not None:
            raise MatterError(
                SELF_PETITION_NO_BENEFICIARY.format(case_type=case_type.name),
                field="beneficiary",
            )
    if case_type.beneficiary_rule == BeneficiaryRule.PETITION and beneficiary is None:
        raise MatterError(
            BENEFICIARY_REQUIRED.format(case_type=case_type.name), field="beneficiary"
        )
    if beneficiary is not None and beneficiary.client_id != client.pk:
        raise MatterError(
            BENEFICIARY_NOT_OF_CLIENT.format(beneficiary=beneficiary.name, client=client.name),
            field="beneficiary",
        )


BENEFICIARY_LOCATION_INVALID = (
    "beneficiary_location: must be one of {allowed} or empty (got {value!r})"
)
PRIOR_EXTENSIONS_INVALID = (
    "employer_prior_extensions: the number of extensions of stay this employer already "
    "obtained for the beneficiary, 0 to 20 (got {value!r})"
)


def _check_fee_facts(*, beneficiary_location: Any, employer_prior_extensions: Any) -> None:
    """The facts the government fees read (billing.fees): a known location, a small count."""
    if (beneficiary_location or "") not in ("", *BeneficiaryLocation.values):
        raise MatterError(
            BENEFICIARY_LOCATION_INVALID.format(
                allowed=", ".join(BeneficiaryLocation.values), value=beneficiary_location
            ),
            field="beneficiary_location",
        )
    if (
        not isinstance(employer_prior_extensions, int)
        or isinstance(employer_prior_extensions, bool)
        or not 0 <= employer_prior_extensions <= 20
    ):
        raise MatterError(
            PRIOR_EXTENSIONS_INVALID.format(value=employer_prior_extensions),
            field="employer_prior_extensions",
        )


def _matter_number(*, year: int) -> str:
    return f"{year}-{counter_next(MatterNumberCounter, field='last', year=year):04d}"


OFFICE_TOO_LONG = "office: at most 60 characters"


def _office_check(office: str | None) -> str:
    office = (office or "").strip()
    if len(office) > 60:
        raise MatterError(OFFICE_TOO_LONG, field="office")
    return office


def _snapshot(matter: Matter) -> dict[str, Any]:
    return {
        "title": matter.title,
        "beneficiary": matter.beneficiary_id,
        "responsible_partner": matter.responsible_partner_id,
        "attorney": matter.attorney_id,
        "paralegal": matter.paralegal_id,
        "priority_date": matter.priority_date,
        "notes": matter.notes,
        "office": matter.office,
        "status": matter.status,
        "stage": matter.current_stage.code if matter.current_stage_id else None,  # type: ignore[union-attr]
        "hold_new_work": matter.hold_new_work,
        "hold_reason": matter.hold_reason,
        "beneficiary_location": matter.beneficiary_location,
        "employer_prior_extensions": matter.employer_prior_extensions,
    }


@transaction.atomic
def matter_create(
    *,
    client: Client,
    case_type: CaseType,
    actor: User | None,
    now: datetime,
    title: str = "",
    beneficiary: Beneficiary | None = None,
    responsible_partner: User | None = None,
    attorney: User | None = None,
    paralegal: User | None = None,
    priority_date: date | None = None,
    notes: str = "",
    opened_date: date | None = None,
    beneficiary_location: str = "",
    employer_prior_extensions: int | None = 0,
    office: str = "",
) -> Matter:
    """Open a matter at the first stage of its case type. The first stage is reached like any
    other: a StageEvent is written and the stage listeners run (inside this transaction).
    ``beneficiary_location`` and ``employer_prior_extensions`` are the facts the government
    fees read (the H-1B proclamation payment, the ACWIA second-extension exemption)."""
    employer_prior_extensions = employer_prior_extensions or 0
    _check_fee_facts(
        beneficiary_location=beneficiary_location,
        employer_prior_extensions=employer_prior_extensions,
    )
    if not case_type.is_active:
        raise MatterError(CASE_TYPE_INACTIVE.format(case_type=case_type.name), field="case_type")
    _check_parties(client=client, case_type=case_type, beneficiary=beneficiary)
    _check_team(responsible_partner=responsible_partner, attorney=attorney, paralegal=paralegal)
    first = case_type.stages.order_by("position", "id").first()
    if first is None:
        raise MatterError(CASE_TYPE_NO_STAGES.format(case_type=case_type.name), field="case_type")
    today = clock.firm_date(now)
    if priority_date:
        clock.date_check(priority_date, field="priority_date")
    if opened_date:
        clock.date_check(opened_date, field="opened_date")
    if priority_date and priority_date > today:
        raise MatterError(PRIORITY_DATE_FUTURE.format(value=priority_date), field="priority_date")
    title = (title or "").strip() or (
        f"{case_type.name} — {beneficiary.name if beneficiary else client.name}"
    )
    if len(title) > 200:
        raise MatterError(TITLE_TOO_LONG, field="title")
    office = _office_check(office)
    opened = opened_date or today
    matter = Matter.objects.create(
        number=_matter_number(year=opened.year),
        title=title,
        client=client,
        beneficiary=beneficiary,
        case_type=case_type,
        current_stage=first,
        responsible_partner=responsible_partner or client.responsible_partner,
        attorney=attorney,
        paralegal=paralegal,
        status=MatterStatus.OPEN,
        opened_date=opened,
        office=office,
        priority_date=priority_date,
        notes=notes or "",
        beneficiary_location=beneficiary_location or "",
        employer_prior_extensions=employer_prior_extensions,
        created_at=now,
        updated_at=now,
    )
    audit.record(
        actor=actor,
        action="matters.matter_created",
        at=now,
        obj=matter,
        after={**_snapshot(matter), "client": client.pk, "case_type": case_type.code},
    )
    event = StageEvent.objects.create(matter=matter, stage=first, actor=actor, at=now)
    hooks.notify_stage_reached(event)
    return matter


MATTER_NUMBER_TAKEN = "number: matter {number} already exists"
CLOSED_BEFORE_OPENED = "closed_date: {closed} is before opened_date {opened}"


def matter_import_build(
    *,
    client: Client,
    case_type: CaseType,
    number: str,
    title: str,
    opened_date: date,
    closed_date: date | None,
    now: datetime,
    stages: list[Any] | None = None,
) -> Matter:
    """A historical matter checked by the rules of ``matter_import_history``, not saved (its
    number is checked against the saved matters only; ``matter_import_many`` checks the batch).
    ``stages``: the case type's stages in order, when the caller has them. Raises MatterError
    naming the field."""
    clock.date_check(opened_date, field="opened_date")
    if closed_date is not None:
        clock.date_check(closed_date, field="closed_date")
        if closed_date < opened_date:
            raise MatterError(
                CLOSED_BEFORE_OPENED.format(closed=closed_date, opened=opened_date),
                field="closed_date",
            )
    if stages is None:
        stages = list(case_type.stages.order_by("position", "id"))
    if not stages:
        raise MatterError(CASE_TYPE_NO_STAGES.format(case_type=case_type.name), field="case_type")
    closing = next((s for s in stages if s.closes_matter), stages[-1])
    title = (title or "").strip() or f"{case_type.name} — {client.name}"
    if len(title) > 200:
        raise MatterError(TITLE_TOO_LONG, field="title")
    return Matter(
        number=number,
        title=title,
        client=client,
        case_type=case_type,
        current_stage=closing if closed_date else stages[0],
        responsible_partner_id=client.responsible_partner_id,
        status=MatterStatus.CLOSED if closed_date else MatterStatus.OPEN,
        opened_date=opened_date,
        closed_date=closed_date,
        created_at=now,
        updated_at=now,
    )


def _imported_event(matter: Matter) -> audit.Pending:
    return audit.Pending(
        "matters.matter_imported",
        obj=matter,
        after={**_snapshot(matter), "client": matter.client_id, "case_type": matter.case_type.code},
    )


@transaction.atomic
def matter_import_history(
    *,
    client: Client,
    case_type: CaseType,
    number: str,
    title: str,
    opened_date: date,
    closed_date: date | None,
    actor: User | None,
    now: datetime,
) -> Matter:
    """Record a matter from the firm's old system as history: it keeps its old ``number`` and
    dates, sits at its case type's first stage (or the closing stage when closed) and, unlike
    ``matter_create``, writes no StageEvent and calls no stage listener, so billing drafts
    nothing and no reminder or email follows. Raises MatterError naming the field."""
    matter = matter_import_build(
        client=client,
        case_type=case_type,
        number=number,
        title=title,
        opened_date=opened_date,
        closed_date=closed_date,
        now=now,
    )
    if Matter.objects.filter(number=number).exists():
        raise MatterError(MATTER_NUMBER_TAKEN.format(number=number), field="number")
    matter.save()
    pending = _imported_event(matter)
    audit.record(actor=actor, action=pending.action, at=now, obj=matter, after=pending.after)
    return matter


@transaction.atomic
def matter_import_many(*, matters: list[Matter], actor: User | None, now: datetime) -> list[Matter]:
    """Insert historical matters made by ``matter_import_build`` with one bulk INSERT and their
    ``matters.matter_imported`` events (one each) with one more. Refused (MatterError, nothing
    written) when a number is taken or given twice."""
    numbers = [m.number for m in matters]
    seen: set[str] = set()
    for number in numbers:
        if number in seen:
            raise MatterError(MATTER_NUMBER_TAKEN.format(number=number), field="number")
        seen.add(number)
    taken = Matter.objects.filter(number__in=numbers).values_list("number", flat=True).first()
    if taken is not None:
        raise MatterError(MATTER_NUMBER_TAKEN.format(number=taken), field="number")
    created = Matter.objects.bulk_create(matters, batch_size=500)
    audit.record_many(actor=actor, at=now, events=[_imported_event(m) for m in created])
    return created


@transaction.atomic
def matter_update(*, matter: Matter, actor: User | None, now: datetime, **changes: Any) -> Matter:
    """Change title, beneficiary, team, priority date, notes or the fee facts (beneficiary
    location, employer's prior extensions); case type and stage change only through their own
    services."""
    allowed = {
        "title",
        "beneficiary",
        "responsible_partner",
        "attorney",
        "paralegal",
        "priority_date",
        "notes",
        "beneficiary_location",
        "employer_prior_extensions",
        "office",
    }
    if "employer_prior_extensions" in changes and changes["employer_prior_extensions"] is None:
        changes["employer_prior_extensions"] = 0
    unknown = set(changes) - allowed
    if unknown:
        raise MatterError(f"{sorted(unknown)[0]}: cannot be changed here", field=sorted(unknown)[0])
    matter = locks.matter_lock(matter_id=matter.pk)
    before = _snapshot(matter)
    for key, value in changes.items():
        setattr(matter, key, value.strip() if isinstance(value, str) else value)
    if "office" in changes:
        matter.office = _office_check(changes["office"])
    if "title" in changes and not matter.title:
        raise MatterError("title: required", field="title")
    _check_fee_facts(
        beneficiary_location=matter.beneficiary_location,
        employer_prior_extensions=matter.employer_prior_extensions,
    )
    if len(matter.title) > 200:
        raise MatterError(TITLE_TOO_LONG, field="title")
    _check_parties(client=matter.client, case_type=matter.case_type, beneficiary=matter.beneficiary)
    _check_team(
        responsible_partner=matter.responsible_partner,
        attorney=matter.attorney,
        paralegal=matter.paralegal,
    )
    if matter.priority_date:
        clock.date_check(matter.priority_date, field="priority_date")
    if matter.priority_date and matter.priority_date > clock.firm_date(now):
        raise MatterError(
            PRIORITY_DATE_FUTURE.format(value=matter.priority_date), field="priority_date"
        )
    b, a = audit.diff(before, _snapshot(matter))
    if a:
        matter.updated_at = now
        matter.save()
        audit.record(
            actor=actor, action="matters.matter_updated", at=now, obj=matter, before=b, after=a
        )
    return matter


def _hold_override(
    *, matter: Matter, actor: User | None, override_reason: str, now: datetime, purpose: str
) -> None:
    reason = (override_reason or "").strip()
    if not reason:
        raise MatterOnHold(OVERRIDE_REASON_REQUIRED, field="override_reason")
    if actor is None or not authorize(actor, "matters.override_hold", matter):
        raise NotPermitted(HOLD_OVERRIDE_FORBIDDEN, field="override_reason")
    audit.record(
        actor=actor,
        action="matters.hold_overridden",
        at=now,
        obj=matter,
        after={"reason": reason, "purpose": purpose, "hold_reason": matter.hold_reason},
    )


def matter_assert_open_for_work(
    *, matter: Matter, actor: User | None, override_reason: str | None = None, now: datetime
) -> None:
    """Raise MatterClosed / MatterOnHold unless new work (a time entry, a stage) may be recorded.
    A partner may pass ``override_reason`` to work on a held matter: the override is audited."""
    if matter.status == MatterStatus.CLOSED:
        raise MatterClosed(MATTER_CLOSED.format(number=matter.number), field="matter")
    if matter.hold_new_work:
        if override_reason is None:
            raise MatterOnHold(
                MATTER_ON_HOLD.format(number=matter.number, reason=matter.hold_reason),
                field="matter",
            )
        with transaction.atomic():
            _hold_override(
                matter=matter,
                actor=actor,
                override_reason=override_reason,
                now=now,
                purpose="new work",
            )


def _resolve_stage(matter: Matter, stage: Stage | str) -> Stage:
    stages = list(matter.case_type.stages.order_by("position", "id"))
    code = stage if isinstance(stage, str) else stage.code
    for candidate in stages:
        if (isinstance(stage, Stage) and candidate.pk == stage.pk) or (
            isinstance(stage, str) and candidate.code == stage
        ):
            return candidate
    raise StageError(
        STAGE_NOT_IN_TEMPLATE.format(
            stage=code,
            case_type=matter.case_type.name,
            allowed=", ".join(s.code for s in stages),
        ),
        field="stage",
    )


@transaction.atomic
def matter_stage_advance(
    *,
    matter: Matter,
    stage: Stage | str,
    actor: User | None,
    now: datetime,
    allow_skip: bool = False,
    override_reason: str | None = None,
    note: str = "",
) -> StageEvent:
    """Move ``matter`` forward to ``stage`` (a Stage or its code) and call the stage listeners.

    Refuses (changing nothing): a stage outside the case type's template, the current or an
    earlier stage, a closed matter, a held matter (unless a partner gives ``override_reason``),
    and passing over required stages unless ``allow_skip`` and the actor has
    ``matters.skip_stage``. Optional stages (an RFE) may be passed over by anyone. Reaching a
    stage marked ``closes_matter`` closes the matter."""
    matter = locks.matter_lock(matter_id=matter.pk)
    target = _resolve_stage(matter, stage)
    if matter.status == MatterStatus.CLOSED:
        raise MatterClosed(MATTER_CLOSED.format(number=matter.number), field="matter")
    if matter.hold_new_work:
        if override_reason is None:
            raise MatterOnHold(
                MATTER_ON_HOLD.format(number=matter.number, reason=matter.hold_reason),
                field="matter",
            )
        _hold_override(
            matter=matter,
            actor=actor,
            override_reason=override_reason,
            now=now,
            purpose=f"stage advance to {target.code}",
        )
    current = matter.current_stage
    if current is not None:
        if target.pk == current.pk:
            raise StageError(
                STAGE_ALREADY.format(number=matter.number, stage=current.name), field="stage"
            )
        if target.position < current.position:
            raise StageError(
                STAGE_BACKWARDS.format(current=current.name, stage=target.name), field="stage"
            )
    low = current.position if current is not None else 0
    passed = list(
        matter.case_type.stages.filter(
            position__gt=low, position__lt=target.position, optional=False
        ).order_by("position", "id")
    )
    skipped = [s.code for s in passed]
    if skipped:
        names = ", ".join(s.name for s in passed)
        if not allow_skip:
            raise StageError(
                STAGE_SKIP_NEEDS_FLAG.format(
                    current=current.name if current else "(none)",
                    stage=target.name,
                    skipped=names,
                ),
                field="stage",
            )
        if actor is not None and not authorize(actor, "matters.skip_stage", matter):
            raise NotPermitted(STAGE_SKIP_FORBIDDEN.format(skipped=names), field="stage")
    before = _snapshot(matter)
    event = StageEvent.objects.create(
        matter=matter,
        stage=target,
        from_stage=current,
        actor=actor,
        at=now,
        skipped=skipped,
        note=(note or "").strip()[:300],
    )
    matter.current_stage = target
    if target.closes_matter:
        matter.status = MatterStatus.CLOSED
        matter.closed_date = max(clock.firm_date(now), matter.opened_date)
    matter.updated_at = now
    matter.save()
    b, a = audit.diff(before, _snapshot(matter))
    audit.record(
        actor=actor,
        action="matters.stage_advanced",
        at=now,
        obj=matter,
        before=b,
        after={**a, "skipped": skipped} if skipped else a,
    )
    hooks.notify_stage_reached(event)
    return event


@transaction.atomic
def matter_hold_set(*, matter: Matter, actor: User | None, reason: str, now: datetime) -> Matter:
    """Put a hold on new work (``actor`` None = the system, e.g. collections). Idempotent: a
    matter already on hold keeps its first reason. One matter through ``matter_hold_set_bulk``
    (the same rule, lock and audit event)."""
    held = matter_hold_set_bulk(reasons={matter.pk: reason}, actor=actor, now=now)
    return held[0] if held else locks.matter_lock(matter_id=matter.pk)


def matter_hold_set_bulk(
    *, reasons: Mapping[int, str], actor: User | None, now: datetime, actor_label: str = ""
) -> list[Matter]:
    """Put a hold on new work on many matters at once (a job's batch: collections escalation).

    ``reasons`` maps matter id -> reason. Same rule as ``matter_hold_set`` (a matter already on
    hold keeps its first reason), but the matters are locked in id order in one statement,
    updated in one statement; each matter held gets its own ``matters.hold_set`` event, as from
    ``matter_hold_set``, so the matter's audit trail shows the hold. Returns the matters this
    call put on hold. Raises MatterError (field ``reason``) for a blank reason, changing
    nothing."""
    cleaned = {int(pk): (reason or "").strip() for pk, reason in reasons.items()}
    if not cleaned:
        return []
    if any(not reason for reason in cleaned.values()):
        raise MatterError(HOLD_REASON_REQUIRED, field="reason")
    changed = []
    for matter in locks.matters_lock(matter_ids=cleaned):
        if matter.hold_new_work:
            continue
        matter.hold_new_work = True
        matter.hold_reason = cleaned[matter.pk][:300]
        matter.hold_set_at = now
        if matter.status == MatterStatus.OPEN:
            matter.status = MatterStatus.ON_HOLD
        matter.updated_at = now
        changed.append(matter)
    if not changed:
        return []
    # One UPDATE: the flag, dates and status are the same for every matter; only the reason
    # differs (one CASE), which costs far less than bulk_update's CASE per column.
    Matter.objects.filter(pk__in=[m.pk for m in changed]).update(
        hold_new_work=True,
        hold_set_at=now,
        updated_at=now,
        status=Case(
            When(status=MatterStatus.OPEN, then=Value(MatterStatus.ON_HOLD)),
            default=F("status"),
        ),
        hold_reason=Case(
            *[When(pk=m.pk, then=Value(m.hold_reason)) for m in changed],
            default=F("hold_reason"),
        ),
    )
    for matter in changed:
        audit.record(
            actor=actor,
            actor_label=actor_label or None,
            action="matters.hold_set",
            at=now,
            obj=matter,
            before={"hold_new_work": False},
            after={"hold_new_work": True, "reason": matter.hold_reason},
        )
    return changed


@transaction.atomic
def matter_hold_lift(*, matter: Matter, actor: User | None, reason: str, now: datetime) -> Matter:
    """Lift the hold (idempotent on a matter that is not held)."""
    reason = (reason or "").strip()
    if not reason:
        raise MatterError(HOLD_REASON_REQUIRED, field="reason")
    matter = locks.matter_lock(matter_id=matter.pk)
    if not matter.hold_new_work:
        return matter
    previous = matter.hold_reason
    matter.hold_new_work = False
    matter.hold_reason = ""
    matter.hold_set_at = None
    if matter.status == MatterStatus.ON_HOLD:
        matter.status = MatterStatus.OPEN
    matter.updated_at = now
    matter.save()
    audit.record(
        actor=actor,
        action="matters.hold_lifted",
        at=now,
        obj=matter,
        before={"hold_new_work": True, "hold_reason": previous},
        after={"hold_new_work": False, "reason": reason},
    )
    return matter


@transaction.atomic
def receipt_add(
    *,
    matter: Matter,
    number: str,
    actor: User | None,
    now: datetime,
    form: str = "",
    received_date: date | None = None,
) -> ReceiptNumber:
    cleaned = normalize_receipt_number(number)
    if received_date:
        clock.date_check(received_date, field="received_date")
    existing = ReceiptNumber.objects.filter(number=cleaned).select_related("matter").first()
    if existing is not None:
        raise MatterError(
            RECEIPT_TAKEN.format(number=cleaned, matter=existing.matter.number),
            field="receipt_number",
        )
    receipt = ReceiptNumber.objects.create(
        matter=matter,
        number=cleaned,
        form=(form or "").strip()[:20],
        received_date=received_date,
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="matters.receipt_added",
        at=now,
        obj=matter,
        after={"receipt_number": cleaned, "form": receipt.form},
    )
    return receipt


# Tasks -----------------------------------------------------------------------------------


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


# Deadlines -------------------------------------------------------------------------------


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


# Case types ------------------------------------------------------------------------------


@transaction.atomic
def case_type_save(
    *,
    actor: User | None,
    now: datetime,
    case_type: CaseType | None = None,
    code: str,
    name: str,
    form: str = "",
    employment_based: bool = False,
    beneficiary_rule: str = BeneficiaryRule.OPTIONAL,
    description: str = "",
    is_active: bool = True,
) -> CaseType:
    """Create (``case_type`` None) or update a case type."""
    code = validate_stage_code(code)
    if not (name or "").strip():
        raise MatterError(NAME_REQUIRED, field="name")
    if beneficiary_rule not in BeneficiaryRule.values:
        raise MatterError(
            f"beneficiary_rule: must be one of {', '.join(BeneficiaryRule.values)} "
            f"(got {beneficiary_rule!r})",
            field="beneficiary_rule",
        )
    clash = CaseType.objects.filter(code=code)
    if case_type is not None:
        clash = clash.exclude(pk=case_type.pk)
    if clash.exists():
        raise MatterError(CASE_TYPE_CODE_TAKEN.format(code=code), field="code")
    values = {
        "code": code,
        "name": name.strip(),
        "form": (form or "").strip(),
        "employment_based": bool(employment_based),
        "beneficiary_rule": beneficiary_rule,
        "description": description or "",
        "is_active": bool(is_active),
    }
    if case_type is None:
        position = (
            CaseType.objects.order_by("-position").values_list("position", flat=True).first() or 0
        ) + 1
        case_type = CaseType.objects.create(position=position, **values)
        audit.record(
            actor=actor, action="matters.case_type_created", at=now, obj=case_type, after=values
        )
        return case_type
    before = {k: getattr(case_type, k) for k in values}
    for key, value in values.items():
        setattr(case_type, key, value)
    case_type.save()
    b, a = audit.diff(before, values)
    if a:
        audit.record(
            actor=actor,
            action="matters.case_type_updated",
            at=now,
            obj=case_type,
            before=b,
            after=a,
        )
    return case_type


@transaction.atomic
def case_type_stages_save(
    *, case_type: CaseType, stages: list[dict[str, Any]], actor: User | None, now: datetime
) -> list[Stage]:
    """Replace the template with ``stages`` in the given order: each dict has ``code``, ``name``,
    ``optional``, ``closes_matter`` and ``id`` (None for a new stage). Stages left out are
    deleted; a stage a matter is at or has reached cannot be removed. Codes of existing stages
    are kept stable (billing triggers point at them)."""
    codes: set[str] = set()
    for row in stages:
        row["code"] = validate_stage_code(row["code"])
        if not (row.get("name") or "").strip():
            raise MatterError(NAME_REQUIRED, field="name")
        if row["code"] in codes:
            raise MatterError(
                STAGE_CODE_TAKEN.format(case_type=case_type.name, code=row["code"]), field="code"
            )
        codes.add(row["code"])
    existing = {s.pk: s for s in case_type.stages.all()}
    keep = {row["id"] for row in stages if row.get("id")}
    for pk, stage in existing.items():
        if pk in keep:
            continue
        used = (
            Matter.objects.filter(current_stage=stage).exists()
            or StageEvent.objects.filter(stage=stage).exists()
            or StageEvent.objects.filter(from_stage=stage).exists()
        )
        if used:
            raise MatterError(STAGE_IN_USE.format(stage=stage.name), field="stage")
        stage.delete()
    before = [f"{s.position}:{s.code}" for s in sorted(existing.values(), key=lambda s: s.position)]
    # Move surviving stages out of the way first: (case_type, position) is unique.
    offset = 1000
    for pk in keep:
        Stage.objects.filter(pk=pk, case_type=case_type).update(position=offset + pk)
    result: list[Stage] = []
    for position, row in enumerate(stages, start=1):
        values = {
            "code": row["code"],
            "name": row["name"].strip(),
            "position": position,
            "optional": bool(row.get("optional")),
            "closes_matter": bool(row.get("closes_matter")),
        }
        if row.get("id"):
            stage = existing[row["id"]]
            for key, value in values.items():
                setattr(stage, key, value)
            stage.save()
        else:
            stage = Stage.objects.create(case_type=case_type, **values)
        result.append(stage)
    after = [f"{s.position}:{s.code}" for s in result]
    audit.record(
        actor=actor,
        action="matters.stage_template_saved",
        at=now,
        obj=case_type,
        before={"stages": before},
        after={"stages": after},
    )
    return result


# Budget ---------------------------------------------------------------------------------------


def _budget_record(
    *,
    matter: Matter,
    kind: str,
    before: int | None,
    after: int | None,
    reason: str,
    source: str,
    actor: User | None,
    now: datetime,
    action: str,
) -> BudgetChange:
    change = BudgetChange.objects.create(
        matter=matter,
        kind=kind,
        before_cents=before,
        after_cents=after,
        reason=reason[:300],
        source=source[:120],
        actor=actor,
        at=now,
    )
    audit.record(
        actor=actor,
        action=action,
        at=now,
        obj=matter,
        before={"budget_kind": matter.budget_kind, "budget_cents": before},
        after={"budget_kind": kind, "budget_cents": after, "reason": reason, "source": source},
    )
    return change


@transaction.atomic
def matter_budget_set(
    *,
    matter: Matter,
    kind: str,
    amount_cents: int | None,
    reason: str,
    actor: User | None,
    now: datetime,
) -> Matter:
    """Set, change or clear (``kind`` "") the matter's agreed fee or estimate, with a reason.

    Writes a BudgetChange row and an audit event, then opens the 80% / 100% tasks the new amount
    crosses (``matter_budget_check``). Raises MatterError for an unknown kind, a missing or
    negative amount, or no reason."""
    kind = kind or ""
    if kind and kind not in BudgetKind.values:
        raise MatterError(
            BUDGET_KIND_INVALID.format(allowed=", ".join(BudgetKind.values), value=kind),
            field="budget_kind",
        )
    if kind and amount_cents is None:
        raise MatterError(BUDGET_AMOUNT_REQUIRED, field="budget")
    if amount_cents is not None and amount_cents < 0:
        raise MatterError(
            BUDGET_AMOUNT_INVALID.format(value=firm_money(amount_cents)), field="budget"
        )
    if amount_cents is not None and amount_cents > BUDGET_MAX_CENTS:
        raise MatterError(
            BUDGET_AMOUNT_TOO_LARGE.format(
                limit=firm_money(BUDGET_MAX_CENTS), value=firm_money(amount_cents)
            ),
            field="budget",
        )
    reason = (reason or "").strip()
    if not reason:
        raise MatterError(BUDGET_REASON_REQUIRED, field="reason")
    locked = locks.matter_lock(matter_id=matter.pk)
    after = amount_cents if kind else None
    if locked.budget_kind == kind and locked.budget_cents == after:
        return locked
    before = locked.budget_cents
    _budget_record(
        matter=locked,
        kind=kind or locked.budget_kind or BudgetKind.ESTIMATE,
        before=before,
        after=after,
        reason=reason,
        source="",
        actor=actor,
        now=now,
        action="matters.budget_set",
    )
    locked.budget_kind = kind
    locked.budget_cents = after
    locked.updated_at = now
    locked.save(update_fields=["budget_kind", "budget_cents", "updated_at"])
    matter.budget_kind, matter.budget_cents = locked.budget_kind, locked.budget_cents
    matter_budget_check(matter=locked, now=now)
    return locked


@transaction.atomic
def matter_budget_reduce(
    *,
    matter: Matter,
    amount_cents: int,
    reason: str,
    source: str,
    actor: User | None,
    now: datetime,
) -> Matter:
    """Lower the matter's budget by ``amount_cents`` (never below zero) for a scope reduction,
    e.g. a credit note; ``source`` names the document. A matter without a budget is left as it
    is. The caller holds the matter lock first when it also locks invoices (global order)."""
    if amount_cents <= 0:
        raise MatterError(
            BUDGET_REDUCE_INVALID.format(value=firm_money(amount_cents)), field="amount"
        )
    locked = locks.matter_lock(matter_id=matter.pk)
    if not locked.budget_kind or locked.budget_cents is None:
        return locked
    before = locked.budget_cents
    after = max(before - amount_cents, 0)
    _budget_record(
        matter=locked,
        kind=locked.budget_kind,
        before=before,
        after=after,
        reason=(reason or "").strip() or "Scope reduction",
        source=source,
        actor=actor,
        now=now,
        action="matters.budget_reduced",
    )
    locked.budget_cents = after
    locked.updated_at = now
    locked.save(update_fields=["budget_cents", "updated_at"])
    matter_budget_check(matter=locked, now=now)
    return locked


def _budget_task_assignee(matter: Matter) -> tuple[User | None, str]:
    """The responsible attorney: the matter's attorney, else its partner, else every attorney."""
    person = matter.attorney or matter.responsible_partner
    if person is not None:
        return person, ""
    return None, Role.ATTORNEY


def matter_budget_check(*, matter: Matter, now: datetime) -> list[Task]:
    """Open a task for the responsible attorney for each budget threshold (80%, 100% of the
    agreed amount, billed) the matter has reached, once per threshold and matter: a key whose
    task exists (open or done) opens nothing again. Returns the tasks this call opened.

    Billed comes from ``hooks.billed_cents`` (billing registers it). Call inside the write
    that changed the billed amount or the budget."""
    if not matter.budget_kind or not matter.budget_cents:
        return []
    billed = hooks.billed_cents(matter)
    share = billed * 100 // matter.budget_cents
    opened: list[Task] = []
    for pct in BUDGET_THRESHOLDS_PCT:
        if billed * 100 < pct * matter.budget_cents:
            continue
        key = f"matters.budget:{matter.pk}:{pct}"
        if Task.objects.filter(system_key=key).exists():
            continue
        assignee, role = _budget_task_assignee(matter)
        opened.append(
            task_open_for_system(
                key=key,
                matter=matter,
                title=BUDGET_TASK_TITLE.format(
                    pct=pct,
                    kind=BudgetKind(matter.budget_kind).label.lower(),
                    number=matter.number,
                ),
                description=BUDGET_TASK_DESCRIPTION.format(
                    billed=firm_money(billed), budget=firm_money(matter.budget_cents), share=share
                ),
                due_date=clock.firm_date(now),
                now=now,
                assignee=assignee,
                assignee_role=role,
            )
        )
    return opened
