"""Collection policies: the firm default and per-client-type overrides, with their stages."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_noop

from caseledger.clients.choices import ClientType
from caseledger.collections import exceptions as E
from caseledger.collections.models import CollectionPolicy, PolicyStage
from caseledger.core import audit
from caseledger.core.models import User
from caseledger.core.permissions import require

# Placeholders a stage's subject and body may use. The default stages' texts are in the
# collections catalog (gettext_noop marks them): a client reading Spanish gets them in
# Spanish; a text the firm rewrites is sent as written.
PLACEHOLDERS = (
    "client",
    "invoice",
    "balance",
    "due_date",
    "days_past_due",
    "matter",
    "firm",
)
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class StageInput:
    code: str
    name: str
    days_from: int
    days_to: int | None
    subject: str = ""
    body: str = ""
    send_email: bool = True
    send_letter: bool = False
    open_task: bool = False
    escalate_partner: bool = False
    set_hold: bool = False


DEFAULT_STAGES = [
    StageInput(
        code="friendly",
        name=gettext_noop("Friendly reminder"),
        days_from=7,
        days_to=29,
        subject=gettext_noop("Reminder: invoice {invoice} is past due"),
        body=gettext_noop(
            "Dear {client},\n\nThis is a friendly reminder that invoice {invoice} for matter "
            "{matter} was due on {due_date}. The balance due is {balance}.\n\nIf you have "
            "already paid, thank you, and please disregard this message.\n\n{firm}"
        ),
    ),
    StageInput(
        code="formal",
        name=gettext_noop("Formal notice"),
        days_from=30,
        days_to=59,
        subject=gettext_noop("Formal notice: invoice {invoice} is {days_past_due} days past due"),
        body=gettext_noop(
            "Dear {client},\n\nInvoice {invoice} for matter {matter} is {days_past_due} days "
            "past due. The balance due is {balance}. Please pay it or contact us to agree a "
            "payment plan.\n\n{firm}"
        ),
        send_letter=True,
        open_task=True,
    ),
    StageInput(
        code="escalation",
        name=gettext_noop("Partner escalation"),
        days_from=60,
        days_to=None,
        subject=gettext_noop("Final notice: invoice {invoice} is {days_past_due} days past due"),
        body=gettext_noop(
            "Dear {client},\n\nInvoice {invoice} for matter {matter} is {days_past_due} days "
            "past due (balance {balance}). Your responsible partner has been asked to review "
            "the matter, and new work on it is paused until the balance is settled.\n\n{firm}"
        ),
        open_task=True,
        escalate_partner=True,
        set_hold=True,
    ),
]


def _range(days_from: int, days_to: int | None) -> str:
    return f"{days_from}+ days" if days_to is None else f"{days_from}-{days_to} days"


def _check_placeholders(index: int, field: str, text: str) -> None:
    for _, name, _, _ in string.Formatter().parse(text):
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise E.CollectionsError(
                E.STAGE_PLACEHOLDER_INVALID.format(
                    index=index,
                    field=field,
                    name=name,
                    allowed=", ".join("{" + p + "}" for p in PLACEHOLDERS),
                ),
                field=f"stages[{index}].{field}",
            )


def stages_validate(stages: list[StageInput]) -> None:
    """Refuse bad stages with one message; overlapping ranges are named by both stage names."""
    if not stages:
        raise E.CollectionsError(E.POLICY_NO_STAGES, field="stages")
    codes: set[str] = set()
    for index, stage in enumerate(stages):
        if not _CODE.match(stage.code or ""):
            raise E.CollectionsError(
                E.STAGE_CODE_INVALID.format(index=index, value=stage.code),
                field=f"stages[{index}].code",
            )
        if stage.code in codes:
            raise E.CollectionsError(
                E.STAGE_CODE_DUPLICATE.format(index=index, value=stage.code),
                field=f"stages[{index}].code",
            )
        codes.add(stage.code)
        if not stage.name.strip():
            raise E.CollectionsError(
                E.STAGE_NAME_REQUIRED.format(index=index), field=f"stages[{index}].name"
            )
        if stage.days_from < 1:
            raise E.CollectionsError(
                E.STAGE_FROM_INVALID.format(index=index, value=stage.days_from),
                field=f"stages[{index}].days_from",
            )
        if stage.days_to is not None and stage.days_to < stage.days_from:
            raise E.CollectionsError(
                E.STAGE_RANGE_INVALID.format(
                    index=index, days_from=stage.days_from, value=stage.days_to
                ),
                field=f"stages[{index}].days_to",
            )
        if not (
            stage.send_email
            or stage.send_letter
            or stage.open_task
            or stage.escalate_partner
            or stage.set_hold
        ):
            raise E.CollectionsError(
                E.STAGE_NO_ACTION.format(index=index), field=f"stages[{index}]"
            )
        if (stage.send_email or stage.send_letter) and not stage.subject.strip():
            raise E.CollectionsError(
                E.STAGE_SUBJECT_REQUIRED.format(index=index), field=f"stages[{index}].subject"
            )
        _check_placeholders(index, "subject", stage.subject)
        _check_placeholders(index, "body", stage.body)
    ordered = sorted(stages, key=lambda s: s.days_from)
    for first, second in zip(ordered, ordered[1:], strict=False):
        if first.days_to is None or first.days_to >= second.days_from:
            raise E.CollectionsError(
                E.STAGES_OVERLAP.format(
                    first=first.name,
                    first_range=_range(first.days_from, first.days_to),
                    second=second.name,
                    second_range=_range(second.days_from, second.days_to),
                ),
                field="stages",
            )


def policy_save(
    *,
    policy: CollectionPolicy | None,
    name: str,
    client_type: str,
    stages: list[StageInput],
    actor: User | None,
    now: datetime,
    exclude_payment_plan: bool = True,
    exclude_dispute: bool = True,
    exclude_trust_covered: bool = True,
    at_risk_days: int = 14,
) -> CollectionPolicy:
    """Create or update a policy and replace its stages (matched by code). A stage that already
    has reminders is kept for their history and deactivated when dropped."""
    if actor is not None:
        require(actor, "collections.policies")
    if not name.strip():
        raise E.CollectionsError(E.POLICY_NAME_REQUIRED, field="name")
    if client_type and client_type not in ClientType.values:
        raise E.CollectionsError(
            E.POLICY_CLIENT_TYPE_INVALID.format(
                choices=", ".join(ClientType.values), value=client_type
            ),
            field="client_type",
        )
    if not 1 <= at_risk_days <= 365:
        raise E.CollectionsError(
            E.AT_RISK_DAYS_INVALID.format(value=at_risk_days), field="at_risk_days"
        )
    stages_validate(stages)
    with transaction.atomic():
        clash = CollectionPolicy.objects.filter(client_type=client_type)
        if policy is not None:
            clash = clash.exclude(pk=policy.pk)
        if clash.exists():
            label = ClientType(client_type).label.lower() if client_type else "all"
            raise E.CollectionsError(
                E.POLICY_CLIENT_TYPE_TAKEN.format(label=label), field="client_type"
            )
        before = None if policy is None else policy_snapshot(policy)
        if policy is None:
            policy = CollectionPolicy(updated_at=now)
        policy.name = name.strip()
        policy.client_type = client_type
        policy.exclude_payment_plan = exclude_payment_plan
        policy.exclude_dispute = exclude_dispute
        policy.exclude_trust_covered = exclude_trust_covered
        policy.at_risk_days = at_risk_days
        policy.updated_at = now
        policy.save()
        existing = {s.code: s for s in PolicyStage.objects.filter(policy=policy)}
        wanted = {s.code for s in stages}
        for code, row in existing.items():
            if code in wanted:
                continue
            if row.reminders.exists():
                if row.active:
                    row.active = False
                    row.save(update_fields=["active"])
            else:
                row.delete()
        for stage in stages:
            row = existing.get(stage.code) or PolicyStage(policy=policy, code=stage.code)
            row.name = stage.name.strip()
            row.days_from = stage.days_from
            row.days_to = stage.days_to
            row.subject = stage.subject.strip()
            row.body = stage.body
            row.send_email = stage.send_email
            row.send_letter = stage.send_letter
            row.open_task = stage.open_task
            row.escalate_partner = stage.escalate_partner
            row.set_hold = stage.set_hold
            row.active = True
            row.save()
        audit.record(
            actor=actor,
            action="collections.policy_saved",
            at=now,
            obj=policy,
            before=before,
            after=policy_snapshot(policy),
        )
    return policy


def policy_snapshot(policy: CollectionPolicy) -> dict[str, object]:
    return {
        "name": policy.name,
        "client_type": policy.client_type,
        "exclude_payment_plan": policy.exclude_payment_plan,
        "exclude_dispute": policy.exclude_dispute,
        "exclude_trust_covered": policy.exclude_trust_covered,
        "at_risk_days": policy.at_risk_days,
        "stages": [
            [s.code, s.days_from, s.days_to]
            for s in policy.stages.filter(active=True).order_by("days_from", "id")
        ],
    }


def policy_default_ensure(*, now: datetime) -> CollectionPolicy:
    """The firm default policy (client type blank), created with the default stages if missing."""
    existing = CollectionPolicy.objects.filter(client_type="").first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return policy_save(
                policy=None,
                name="Standard collections",
                client_type="",
                stages=DEFAULT_STAGES,
                actor=None,
                now=now,
            )
    except (IntegrityError, E.CollectionsError):
        # A concurrent run created it first: the unique client type refused this insert, or
        # policy_save's own check saw that run's committed policy. Anything else re-raises.
        existing = CollectionPolicy.objects.filter(client_type="").first()
        if existing is None:
            raise
        return existing
