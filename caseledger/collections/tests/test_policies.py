from __future__ import annotations

import pytest
from django.db import IntegrityError

from caseledger.clients.choices import ClientType
from caseledger.collections import exceptions as E
from caseledger.collections.choices import Channel, ReminderStatus
from caseledger.collections.models import CollectionPolicy, PolicyStage, Reminder
from caseledger.collections.services import (
    DEFAULT_STAGES,
    StageInput,
    policy_default_ensure,
    policy_save,
)
from caseledger.core.models import AuditEvent
from caseledger.credits.tests import factories as F

pytestmark = pytest.mark.django_db


def _stage(code: str, days_from: int, days_to: int | None, **kw: object) -> StageInput:
    return StageInput(
        code=code,
        name=code.title(),
        days_from=days_from,
        days_to=days_to,
        subject="Invoice {invoice}",
        body="Dear {client}, {balance} is due.",
        **kw,  # type: ignore[arg-type]
    )


def test_default_policy_has_the_three_default_stages(now):
    policy = policy_default_ensure(now=now)
    stages = list(policy.stages.order_by("days_from").values_list("code", "days_from", "days_to"))
    assert stages == [("friendly", 7, 29), ("formal", 30, 59), ("escalation", 60, None)]
    formal = policy.stages.get(code="formal")
    assert formal.open_task
    assert formal.send_letter
    assert not formal.set_hold
    escalation = policy.stages.get(code="escalation")
    assert escalation.set_hold
    assert escalation.escalate_partner


def test_overlapping_stages_refused_with_both_names_and_nothing_changed(users, now):
    policy = policy_default_ensure(now=now)
    events = AuditEvent.objects.count()
    with pytest.raises(E.CollectionsError) as info:
        policy_save(
            policy=policy,
            name="Standard collections",
            client_type="",
            stages=[_stage("friendly", 7, 35), _stage("formal", 30, 59)],
            actor=users["PARTNER"],
            now=now,
        )
    assert info.value.message == (
        "stages: 'Friendly' (7-35 days) overlaps 'Formal' (30-59 days); each day past due may "
        "belong to one stage only"
    )
    assert info.value.field == "stages"
    assert policy.stages.filter(active=True).count() == 3
    assert AuditEvent.objects.count() == events


def test_open_ended_stage_before_another_overlaps(users, now):
    with pytest.raises(E.CollectionsError) as info:
        policy_save(
            policy=None,
            name="Corporate",
            client_type=ClientType.CORPORATE,
            stages=[_stage("late", 60, None), _stage("early", 10, 20), _stage("mid", 90, 120)],
            actor=users["PARTNER"],
            now=now,
        )
    assert info.value.message == (
        "stages: 'Late' (60+ days) overlaps 'Mid' (90-120 days); each day past due may belong "
        "to one stage only"
    )
    assert not CollectionPolicy.objects.filter(client_type=ClientType.CORPORATE).exists()


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([], E.POLICY_NO_STAGES),
        ([_stage("Bad Code", 7, 10)], E.STAGE_CODE_INVALID.format(index=0, value="Bad Code")),
        (
            [_stage("a", 7, 10), _stage("a", 11, 20)],
            E.STAGE_CODE_DUPLICATE.format(index=1, value="a"),
        ),
        ([_stage("a", 0, 10)], E.STAGE_FROM_INVALID.format(index=0, value=0)),
        ([_stage("a", 10, 5)], E.STAGE_RANGE_INVALID.format(index=0, days_from=10, value=5)),
        ([_stage("a", 7, 10, send_email=False)], E.STAGE_NO_ACTION.format(index=0)),
    ],
)
def test_bad_stages_refused(users, now, stages, message):
    with pytest.raises(E.CollectionsError) as info:
        policy_save(
            policy=None,
            name="Private",
            client_type=ClientType.PRIVATE,
            stages=stages,
            actor=users["PARTNER"],
            now=now,
        )
    assert info.value.message == message
    assert not CollectionPolicy.objects.filter(client_type=ClientType.PRIVATE).exists()


def test_unknown_placeholder_refused(users, now):
    stage = StageInput(
        code="a", name="A", days_from=7, days_to=None, subject="Pay {amount}", body="x"
    )
    with pytest.raises(E.CollectionsError) as info:
        policy_save(
            policy=None,
            name="Private",
            client_type=ClientType.PRIVATE,
            stages=[stage],
            actor=users["PARTNER"],
            now=now,
        )
    assert info.value.message.startswith("stages[0].subject: unknown placeholder {amount}; use ")


def test_second_policy_for_same_client_type_refused(users, now):
    policy_save(
        policy=None,
        name="Corporate",
        client_type=ClientType.CORPORATE,
        stages=DEFAULT_STAGES,
        actor=users["PARTNER"],
        now=now,
    )
    with pytest.raises(E.CollectionsError) as info:
        policy_save(
            policy=None,
            name="Corporate 2",
            client_type=ClientType.CORPORATE,
            stages=DEFAULT_STAGES,
            actor=users["PARTNER"],
            now=now,
        )
    assert info.value.message == "client_type: a policy for corporate clients already exists"


def test_billing_cannot_edit_policies(users, now):
    from caseledger.core.exceptions import NotPermitted

    with pytest.raises(NotPermitted):
        policy_save(
            policy=None,
            name="Private",
            client_type=ClientType.PRIVATE,
            stages=DEFAULT_STAGES,
            actor=users["BILLING"],
            now=now,
        )


def test_dropping_a_stage_with_history_deactivates_it(users, now):
    policy = policy_default_ensure(now=now)
    friendly = policy.stages.get(code="friendly")
    invoice = F.invoice(matter_obj=F.matter())
    Reminder.objects.create(
        invoice=invoice,
        stage=friendly,
        channel=Channel.EMAIL,
        status=ReminderStatus.SENT,
        run_date=now.date(),
        days_past_due=8,
        balance_cents=100,
        created_at=now,
    )
    policy_save(
        policy=policy,
        name=policy.name,
        client_type="",
        stages=[s for s in DEFAULT_STAGES if s.code != "friendly"] + [_stage("gentle", 5, 29)],
        actor=users["PARTNER"],
        now=now,
    )
    friendly.refresh_from_db()
    assert friendly.active is False
    assert set(policy.stages.filter(active=True).values_list("code", flat=True)) == {
        "gentle",
        "formal",
        "escalation",
    }
    audit = AuditEvent.objects.filter(action="collections.policy_saved").latest("id")
    assert audit.after["stages"][0] == ["gentle", 5, 29]


def test_reminder_unique_per_invoice_stage_channel(now):
    policy = policy_default_ensure(now=now)
    stage = PolicyStage.objects.get(policy=policy, code="friendly")
    invoice = F.invoice(matter_obj=F.matter())
    fields = {
        "invoice": invoice,
        "stage": stage,
        "status": ReminderStatus.QUEUED,
        "run_date": now.date(),
        "days_past_due": 8,
        "balance_cents": 100,
        "created_at": now,
    }
    Reminder.objects.create(channel=Channel.EMAIL, **fields)
    Reminder.objects.create(channel=Channel.LETTER, **fields)
    with pytest.raises(IntegrityError):
        Reminder.objects.create(channel=Channel.EMAIL, **fields)
