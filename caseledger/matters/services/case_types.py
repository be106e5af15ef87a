"""Case-type templates and their stages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from caseledger.core import audit
from caseledger.core.models import User
from caseledger.matters.choices import (
    BeneficiaryRule,
)
from caseledger.matters.exceptions import (
    MatterError,
)
from caseledger.matters.models import (
    CaseType,
    Matter,
    Stage,
    StageEvent,
)
from caseledger.matters.validators import validate_stage_code

CASE_TYPE_CODE_TAKEN = "code: a case type with code {code!r} already exists"
STAGE_CODE_TAKEN = "code: {case_type} already has a stage {code!r}"
STAGE_IN_USE = "stage: {stage} is used by matters or stage events and cannot be removed"
NAME_REQUIRED = "name: required"


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
