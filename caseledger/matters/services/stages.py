"""Stage advance (with the billing hook) and holds on new work."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, Value, When

from caseledger.core import audit, clock
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import User
from caseledger.core.permissions import authorize
from caseledger.matters import hooks, locks
from caseledger.matters.choices import (
    MatterStatus,
)
from caseledger.matters.exceptions import (
    MatterClosed,
    MatterError,
    MatterOnHold,
    StageError,
)
from caseledger.matters.models import (
    Matter,
    Stage,
    StageEvent,
)
from caseledger.matters.services.matters import _snapshot

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
