"""Matter writes: create (with the team, beneficiary and fee-fact rules), import, update,
receipt numbers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction

from caseledger.clients.choices import ClientKind
from caseledger.clients.models import Beneficiary, Client
from caseledger.core import audit, bulk, clock
from caseledger.core.choices import Role
from caseledger.core.models import User
from caseledger.core.numbering import counter_next
from caseledger.matters import hooks, locks
from caseledger.matters.choices import (
    BeneficiaryLocation,
    BeneficiaryRule,
    MatterStatus,
)
from caseledger.matters.exceptions import (
    MatterError,
)
from caseledger.matters.models import (
    CaseType,
    Matter,
    MatterNumberCounter,
    ReceiptNumber,
    StageEvent,
)
from caseledger.matters.validators import normalize_receipt_number

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
RECEIPT_TAKEN = "receipt_number: {number} is already recorded on matter {matter}"


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
    created = bulk.insert_objects(matters)
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
        regroup = not hooks.REGROUP_FIELDS.isdisjoint(a)
        if regroup:
            hooks.matter_regrouped(matter_id=matter.pk, moved=False)
        matter.updated_at = now
        matter.save()
        if regroup:
            hooks.matter_regrouped(matter_id=matter.pk, moved=True)
        audit.record(
            actor=actor, action="matters.matter_updated", at=now, obj=matter, before=b, after=a
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
