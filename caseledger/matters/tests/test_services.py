from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Max

from caseledger.clients.tests.factories import make_beneficiary, make_company, make_person
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import AuditEvent
from caseledger.matters import hooks, services
from caseledger.matters.choices import DeadlineKind, MatterStatus, TaskStatus
from caseledger.matters.exceptions import (
    MatterClosed,
    MatterError,
    MatterOnHold,
    StageError,
    TaskError,
)
from caseledger.matters.models import Deadline, Matter, StageEvent, Task
from caseledger.matters.tests.factories import case_type, make_matter


@pytest.fixture
def h1b(db):
    return make_matter()


def _codes(matter):
    return list(matter.stage_events.order_by("at", "id").values_list("stage__code", flat=True))


# Creating matters ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_employment_case_refused_for_private_individual(now):
    person = make_person()
    with pytest.raises(MatterError) as exc:
        services.matter_create(client=person, case_type=case_type("perm"), actor=None, now=now)
    assert exc.value.message == (
        f"case_type: PERM labor certification is employment-based; the petitioner must be a "
        f"company (employer), not the private individual {person.name}"
    )
    assert Matter.objects.count() == 0


@pytest.mark.django_db
def test_self_petition_has_client_as_beneficiary(now):
    person = make_person(name="Lucía Gómez")
    matter = services.matter_create(client=person, case_type=case_type("n400"), actor=None, now=now)
    assert matter.beneficiary is None
    assert matter.beneficiary_name == "Lucía Gómez"
    other = make_beneficiary(client=person, relationship="SPOUSE")
    with pytest.raises(MatterError) as exc:
        services.matter_create(
            client=person,
            case_type=case_type("asylum_i589"),
            beneficiary=other,
            actor=None,
            now=now,
        )
    assert exc.value.field == "beneficiary"
    with pytest.raises(MatterError) as exc:
        services.matter_create(
            client=make_company(), case_type=case_type("n400"), actor=None, now=now
        )
    assert exc.value.field == "client"


@pytest.mark.django_db
def test_petition_needs_a_beneficiary_of_the_same_client(now):
    company = make_company()
    with pytest.raises(MatterError) as exc:
        services.matter_create(client=company, case_type=case_type("h1b_cap"), actor=None, now=now)
    assert (
        exc.value.message
        == "beneficiary: required for H-1B cap petition (the person the petition is for)"
    )
    stranger = make_beneficiary()
    with pytest.raises(MatterError) as exc:
        services.matter_create(
            client=company,
            case_type=case_type("h1b_cap"),
            beneficiary=stranger,
            actor=None,
            now=now,
        )
    assert (
        exc.value.message == f"beneficiary: {stranger.name} is not linked to client {company.name}"
    )


@pytest.mark.django_db
def test_team_roles_checked(now, users):
    with pytest.raises(MatterError) as exc:
        make_matter(attorney=users["PARALEGAL"])
    assert exc.value.field == "attorney"
    with pytest.raises(MatterError) as exc:
        make_matter(paralegal=users["ATTORNEY"])
    assert exc.value.field == "paralegal"


@pytest.mark.django_db
def test_matter_numbers_count_per_year(now):
    first = make_matter()
    second = make_matter()
    nxt = make_matter(opened_date=date(2027, 1, 4))
    assert (first.number, second.number, nxt.number) == ("2026-0001", "2026-0002", "2027-0001")


# Stage advance ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_advance_step_by_step_records_events_and_audit(h1b, users, now):
    paralegal = users["PARALEGAL"]
    for code in ("lca_filed", "petition_prepared", "prepare_filing"):
        event = services.matter_stage_advance(matter=h1b, stage=code, actor=paralegal, now=now)
        assert event.stage.code == code
    h1b.refresh_from_db()
    assert h1b.current_stage.code == "prepare_filing"
    assert _codes(h1b) == ["intake", "lca_filed", "petition_prepared", "prepare_filing"]
    last = StageEvent.objects.order_by("-id").first()
    assert last.from_stage.code == "petition_prepared"
    assert last.actor == paralegal
    assert AuditEvent.objects.filter(action="matters.stage_advanced").count() == 3


@pytest.mark.django_db
def test_stage_not_in_template_refused(h1b, users, now):
    with pytest.raises(StageError) as exc:
        services.matter_stage_advance(
            matter=h1b, stage="oath_ceremony", actor=users["PARTNER"], now=now
        )
    assert exc.value.message == (
        "stage: 'oath_ceremony' is not a stage of H-1B cap petition (stages: intake, lca_filed, "
        "petition_prepared, prepare_filing, filed, receipt_received, rfe, decision, closed)"
    )
    n400_stage = case_type("n400").stages.get(code="interview")
    with pytest.raises(StageError):
        services.matter_stage_advance(matter=h1b, stage=n400_stage, actor=users["PARTNER"], now=now)
    h1b.refresh_from_db()
    assert h1b.current_stage.code == "intake"
    assert h1b.stage_events.count() == 1


@pytest.mark.django_db
def test_same_and_backward_stage_refused(h1b, users, now):
    with pytest.raises(StageError) as exc:
        services.matter_stage_advance(matter=h1b, stage="intake", actor=users["PARTNER"], now=now)
    assert exc.value.message == f"stage: matter {h1b.number} is already at Intake"
    services.matter_stage_advance(matter=h1b, stage="lca_filed", actor=users["PARTNER"], now=now)
    with pytest.raises(StageError) as exc:
        services.matter_stage_advance(matter=h1b, stage="intake", actor=users["PARTNER"], now=now)
    assert (
        exc.value.message
        == "stage: cannot move back from LCA filed to Intake; stages only move forward"
    )


@pytest.mark.django_db
def test_skipping_needs_flag_and_capability(h1b, users, now):
    with pytest.raises(StageError) as exc:
        services.matter_stage_advance(
            matter=h1b, stage="prepare_filing", actor=users["ATTORNEY"], now=now
        )
    assert exc.value.message == (
        "stage: moving from Intake to Prepare filing skips LCA filed, Petition prepared; advance "
        "one stage at a time or choose to skip (attorneys, partners and admins)"
    )
    with pytest.raises(NotPermitted) as exc2:
        services.matter_stage_advance(
            matter=h1b, stage="prepare_filing", actor=users["PARALEGAL"], now=now, allow_skip=True
        )
    assert exc2.value.message == (
        "stage: you may not skip stages (LCA filed, Petition prepared); "
        "ask an attorney or a partner"
    )
    event = services.matter_stage_advance(
        matter=h1b, stage="prepare_filing", actor=users["PARTNER"], now=now, allow_skip=True
    )
    assert event.skipped == ["lca_filed", "petition_prepared"]


@pytest.mark.django_db
def test_optional_rfe_stage_may_be_passed_over(h1b, users, now):
    partner = users["PARTNER"]
    services.matter_stage_advance(
        matter=h1b, stage="receipt_received", actor=partner, now=now, allow_skip=True
    )
    event = services.matter_stage_advance(
        matter=h1b, stage="decision", actor=users["PARALEGAL"], now=now
    )
    assert event.skipped == []


@pytest.mark.django_db
def test_closing_stage_closes_matter_and_then_refuses(h1b, users, now):
    partner = users["PARTNER"]
    services.matter_stage_advance(
        matter=h1b, stage="closed", actor=partner, now=now, allow_skip=True
    )
    h1b.refresh_from_db()
    assert h1b.status == MatterStatus.CLOSED
    assert h1b.closed_date == date(2026, 11, 2)
    with pytest.raises(MatterClosed) as exc:
        services.matter_stage_advance(matter=h1b, stage="decision", actor=partner, now=now)
    assert (
        exc.value.message
        == f"matter: {h1b.number} is closed; nothing can change its stage or add new work"
    )


@pytest.mark.django_db
def test_held_matter_refuses_advance_unless_partner_overrides(h1b, users, now):
    services.matter_hold_set(
        matter=h1b, actor=None, reason="Invoice 2026-000123 90 days overdue", now=now
    )
    h1b.refresh_from_db()
    assert h1b.status == MatterStatus.ON_HOLD
    with pytest.raises(MatterOnHold) as exc:
        services.matter_stage_advance(
            matter=h1b, stage="lca_filed", actor=users["PARALEGAL"], now=now
        )
    assert exc.value.message == (
        f"matter: {h1b.number} is on hold for new work (Invoice 2026-000123 90 days overdue); a "
        "partner may override with a reason"
    )
    with pytest.raises(NotPermitted) as exc2:
        services.matter_stage_advance(
            matter=h1b,
            stage="lca_filed",
            actor=users["ATTORNEY"],
            now=now,
            override_reason="urgent",
        )
    assert exc2.value.message == "override_reason: only a partner may override a hold on new work"
    with pytest.raises(MatterOnHold) as exc:
        services.matter_stage_advance(
            matter=h1b, stage="lca_filed", actor=users["PARTNER"], now=now, override_reason="  "
        )
    assert exc.value.message == "override_reason: required to override a hold on new work"
    assert h1b.stage_events.count() == 1
    services.matter_stage_advance(
        matter=h1b,
        stage="lca_filed",
        actor=users["PARTNER"],
        now=now,
        override_reason="LCA deadline",
    )
    override = AuditEvent.objects.get(action="matters.hold_overridden")
    assert override.after["reason"] == "LCA deadline"
    assert override.actor == users["PARTNER"]


@pytest.mark.django_db
def test_hold_set_and_lift_idempotent_and_audited(h1b, users, now):
    services.matter_hold_set(matter=h1b, actor=None, reason="overdue", now=now)
    services.matter_hold_set(matter=h1b, actor=None, reason="overdue again", now=now)
    h1b.refresh_from_db()
    assert h1b.hold_reason == "overdue"
    services.matter_hold_lift(matter=h1b, actor=users["PARTNER"], reason="paid", now=now)
    services.matter_hold_lift(matter=h1b, actor=users["PARTNER"], reason="paid", now=now)
    h1b.refresh_from_db()
    assert (h1b.hold_new_work, h1b.status) == (False, MatterStatus.OPEN)
    assert (
        AuditEvent.objects.filter(action__in=["matters.hold_set", "matters.hold_lifted"]).count()
        == 2
    )
    with pytest.raises(MatterError) as exc:
        services.matter_hold_set(matter=h1b, actor=None, reason=" ", now=now)
    assert exc.value.message == "reason: required"


@pytest.mark.django_db
def test_assert_open_for_work(h1b, users, now):
    services.matter_assert_open_for_work(matter=h1b, actor=users["ATTORNEY"], now=now)
    services.matter_hold_set(matter=h1b, actor=None, reason="overdue", now=now)
    h1b.refresh_from_db()
    with pytest.raises(MatterOnHold):
        services.matter_assert_open_for_work(matter=h1b, actor=users["ATTORNEY"], now=now)
    with pytest.raises(NotPermitted):
        services.matter_assert_open_for_work(
            matter=h1b, actor=users["ATTORNEY"], override_reason="client call", now=now
        )
    services.matter_assert_open_for_work(
        matter=h1b, actor=users["PARTNER"], override_reason="client call", now=now
    )
    assert (
        AuditEvent.objects.filter(action="matters.hold_overridden").get().after["purpose"]
        == "new work"
    )


@pytest.mark.django_db
def test_listener_runs_inside_transaction_and_failure_rolls_back(h1b, users, now):
    seen = []

    def listener(event):
        seen.append((event.stage.code, StageEvent.objects.filter(pk=event.pk).exists()))
        if event.stage.code == "petition_prepared":
            raise RuntimeError("billing failed")

    hooks.register_stage_listener(listener)
    hooks.register_stage_listener(listener)  # idempotent
    try:
        services.matter_stage_advance(
            matter=h1b, stage="lca_filed", actor=users["PARTNER"], now=now
        )
        with pytest.raises(RuntimeError):
            services.matter_stage_advance(
                matter=h1b, stage="petition_prepared", actor=users["PARTNER"], now=now
            )
    finally:
        hooks.unregister_stage_listener(listener)
    assert seen == [("lca_filed", True), ("petition_prepared", True)]
    h1b.refresh_from_db()
    assert h1b.current_stage.code == "lca_filed"
    assert _codes(h1b) == ["intake", "lca_filed"]


@pytest.mark.django_db
def test_stage_events_are_append_only(h1b):
    from django.db import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic():
        StageEvent.objects.filter(matter=h1b).update(note="forged")


# Receipts --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_receipts_many_per_matter_unique_overall(h1b, now):
    services.receipt_add(matter=h1b, number="eac-24-900-12345", actor=None, now=now, form="I-129")
    services.receipt_add(matter=h1b, number="EAC2490012346", actor=None, now=now, form="I-539")
    assert list(h1b.receipts.order_by("number").values_list("number", flat=True)) == [
        "EAC2490012345",
        "EAC2490012346",
    ]
    with pytest.raises(MatterError) as exc:
        services.receipt_add(matter=make_matter(), number="EAC2490012345", actor=None, now=now)
    assert (
        exc.value.message
        == f"receipt_number: EAC2490012345 is already recorded on matter {h1b.number}"
    )


# Tasks and deadlines ---------------------------------------------------------------------


@pytest.mark.django_db
def test_system_task_one_open_per_key(h1b, now):
    first = services.task_open_for_system(
        key="collections:hold:1",
        matter=h1b,
        title="Call client",
        due_date=None,
        now=now,
        assignee_role="BILLING",
    )
    again = services.task_open_for_system(
        key="collections:hold:1", matter=h1b, title="Call client", due_date=None, now=now
    )
    assert again.pk == first.pk
    assert Task.objects.filter(system_key="collections:hold:1").count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(title="dup", system_key="collections:hold:1", created_at=now)
    services.task_complete(task=first, actor=None, now=now)
    reopened = services.task_open_for_system(
        key="collections:hold:1", matter=h1b, title="Call client", due_date=None, now=now
    )
    assert reopened.pk != first.pk


@pytest.mark.django_db
def test_deadline_opens_task_by_lead_time_and_job_is_idempotent(h1b, users, now):
    h1b = services.matter_update(matter=h1b, actor=None, now=now, paralegal=users["PARALEGAL"])
    today = date(2026, 11, 2)
    near = services.deadline_create(
        matter=h1b,
        kind=DeadlineKind.RFE_RESPONSE,
        due_date=today + timedelta(days=20),
        actor=None,
        now=now,
    )
    far = services.deadline_create(
        matter=h1b,
        kind=DeadlineKind.RFE_RESPONSE,
        due_date=today + timedelta(days=45),
        actor=None,
        now=now,
    )
    near.refresh_from_db()
    far.refresh_from_db()
    assert near.task is not None
    assert near.task.assignee == users["PARALEGAL"]
    assert near.task.title == f"RFE / NOID response due on Nov 22, 2026 — {h1b.number}"
    assert far.task is None
    assert services.deadlines_open_due_tasks(today=today + timedelta(days=14), now=now) == []
    opened = services.deadlines_open_due_tasks(today=today + timedelta(days=15), now=now)
    assert [t.system_key for t in opened] == [f"deadline:{far.pk}"]
    assert services.deadlines_open_due_tasks(today=today + timedelta(days=16), now=now) == []
    # Done tasks stay done on a rerun.
    services.task_complete(task=opened[0], actor=None, now=now)
    assert services.deadlines_open_due_tasks(today=today + timedelta(days=17), now=now) == []
    assert Task.objects.filter(status=TaskStatus.OPEN).count() == 1


@pytest.mark.django_db
def test_deadline_task_goes_to_role_without_team_member(h1b, now):
    deadline = services.deadline_create(
        matter=h1b, kind=DeadlineKind.HEARING, due_date=date(2026, 11, 20), actor=None, now=now
    )
    deadline.refresh_from_db()
    assert deadline.task.assignee is None
    assert deadline.task.assignee_role == "ATTORNEY"


@pytest.mark.django_db
def test_deadline_met_closes_task(h1b, now):
    deadline = services.deadline_create(
        matter=h1b,
        kind=DeadlineKind.FILING_WINDOW,
        due_date=date(2026, 11, 10),
        actor=None,
        now=now,
    )
    services.deadline_mark_met(deadline=deadline, actor=None, now=now)
    deadline.refresh_from_db()
    assert deadline.task.status == TaskStatus.DONE
    with pytest.raises(MatterError):
        services.deadline_mark_met(deadline=deadline, actor=None, now=now)


@pytest.mark.django_db
def test_run_deadlines_command(h1b, now):
    from io import StringIO

    from django.core.management import CommandError, call_command

    Deadline.objects.create(
        matter=h1b, kind=DeadlineKind.HEARING, due_date=date(2027, 3, 1), created_at=now
    )
    out = StringIO()
    call_command("run_deadlines", "--date", "2027-01-30", stdout=out)
    assert out.getvalue().strip() == "run_deadlines 2027-01-30: 1 task(s) opened"
    with pytest.raises(CommandError) as exc:
        call_command("run_deadlines", "--date", "30/01/2027")
    assert str(exc.value) == "--date: must be YYYY-MM-DD (got '30/01/2027')"


@pytest.mark.django_db
def test_case_type_template_edit_keeps_used_stages(users, now):
    ct = case_type("consultation")
    stages = list(ct.stages.order_by("position"))
    rows = [
        {
            "id": s.pk,
            "code": s.code,
            "name": s.name,
            "optional": False,
            "closes_matter": s.closes_matter,
        }
        for s in stages
    ]
    rows.insert(2, {"id": None, "code": "follow_up_call", "name": "Follow-up call"})
    result = services.case_type_stages_save(
        case_type=ct, stages=rows, actor=users["ADMIN"], now=now
    )
    assert [s.code for s in result] == [
        "scheduled",
        "consultation_held",
        "follow_up_call",
        "advice_sent",
        "closed",
    ]
    make_matter(client=make_person(), case_type=ct)
    with pytest.raises(MatterError) as exc:
        services.case_type_stages_save(case_type=ct, stages=rows[1:], actor=users["ADMIN"], now=now)
    assert (
        exc.value.message
        == "stage: Scheduled is used by matters or stage events and cannot be removed"
    )


@pytest.mark.django_db
def test_home_panel_contexts_and_daily_job(h1b, users, now):
    from caseledger.matters.home import deadlines_context, my_tasks_context
    from caseledger.matters.tasks import open_deadline_tasks

    class Request:
        user = users["PARTNER"]

    services.deadline_create(
        matter=h1b, kind=DeadlineKind.HEARING, due_date=date(2026, 11, 1), actor=None, now=now
    )
    assert len(deadlines_context(Request(), now)["deadlines"]) == 1  # type: ignore[arg-type]
    assert my_tasks_context(Request(), now)["open_count"] == 0  # type: ignore[arg-type]
    assert open_deadline_tasks.call_local() == 0  # already opened at creation (lead time)


@pytest.mark.django_db
def test_home_panel_templates_render(h1b, users, now):
    from django.template.loader import render_to_string

    from caseledger.matters.home import deadlines_context, my_tasks_context

    class Request:
        user = users["PARTNER"]

    services.deadline_create(
        matter=h1b, kind=DeadlineKind.HEARING, due_date=date(2026, 11, 1), actor=None, now=now
    )
    html = render_to_string(
        "matters/home/deadlines.html",
        {"panel": deadlines_context(Request(), now)},  # type: ignore[arg-type]
    )
    assert h1b.number in html
    assert 'class="overdue"' in html
    html = render_to_string(
        "matters/home/my_tasks.html",
        {"panel": my_tasks_context(Request(), now)},  # type: ignore[arg-type]
    )
    assert "All my tasks" in html


@pytest.mark.django_db
def test_system_tasks_in_bulk_skip_open_keys_and_audit_once(h1b, now):
    spec = services.SystemTaskSpec
    first = services.task_open_for_system(
        key="bulk:1", matter=h1b, title="Already open", due_date=None, now=now
    )
    events = AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0
    opened = services.task_open_for_system_bulk(
        specs=[
            spec(key="bulk:1", matter_id=h1b.pk, title="Again", due_date=None),
            spec(key="bulk:2", matter_id=h1b.pk, title="Two", due_date=date(2026, 5, 1)),
            spec(key="bulk:2", matter_id=h1b.pk, title="Two again", due_date=None),
            spec(
                key="bulk:3", matter_id=None, title="Three", due_date=None, assignee_role="BILLING"
            ),
        ],
        now=now,
    )
    assert [t.system_key for t in opened] == ["bulk:2", "bulk:3"]
    assert all(t.pk for t in opened)
    assert Task.objects.get(system_key="bulk:2").title == "Two"
    assert Task.objects.filter(system_key="bulk:1").get().pk == first.pk
    event = AuditEvent.objects.get(pk__gt=events)
    assert event.action == "matters.tasks_opened_by_system"
    assert [row[1] for row in event.after["tasks"]] == ["bulk:2", "bulk:3"]
    assert (
        services.task_open_for_system_bulk(specs=[spec("bulk:2", h1b.pk, "x", None)], now=now) == []
    )
    with pytest.raises(TaskError) as info:
        services.task_open_for_system_bulk(
            specs=[
                spec(key="bulk:4", matter_id=None, title="x", due_date=None),
                spec(" ", None, "", None),
            ],
            now=now,
        )
    assert info.value.field == "key"
    assert not Task.objects.filter(system_key="bulk:4").exists()


@pytest.mark.django_db
def test_system_tasks_in_bulk_fall_back_when_a_key_was_taken_meanwhile(h1b, now, monkeypatch):
    spec = services.SystemTaskSpec
    real = Task.objects.filter

    def stale_read(*args, **kwargs):  # the read misses a task a concurrent job just opened
        if "system_key__in" in kwargs:
            return real(pk=-1)
        return real(*args, **kwargs)

    taken = services.task_open_for_system(
        key="race:1", matter=h1b, title="Theirs", due_date=None, now=now
    )
    monkeypatch.setattr(Task.objects, "filter", stale_read)
    opened = services.task_open_for_system_bulk(
        specs=[
            spec(key="race:1", matter_id=h1b.pk, title="Ours", due_date=None),
            spec(key="race:2", matter_id=h1b.pk, title="Ours too", due_date=None),
        ],
        now=now,
    )
    monkeypatch.undo()
    assert [t.system_key for t in opened] == ["race:2"]
    assert Task.objects.get(system_key="race:1").pk == taken.pk


@pytest.mark.django_db
def test_holds_in_bulk_keep_the_first_reason_and_audit_once(h1b, now):
    other = make_matter()
    services.matter_hold_set(matter=h1b, actor=None, reason="first", now=now)
    events = AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0
    held = services.matter_hold_set_bulk(
        reasons={h1b.pk: "second", other.pk: "overdue"}, actor=None, now=now
    )
    assert [m.pk for m in held] == [other.pk]
    h1b.refresh_from_db()
    other.refresh_from_db()
    assert h1b.hold_reason == "first"
    assert (other.hold_new_work, other.status, other.hold_reason) == (
        True,
        MatterStatus.ON_HOLD,
        "overdue",
    )
    event = AuditEvent.objects.get(pk__gt=events)
    assert (event.action, event.object_type, event.object_id) == (
        "matters.hold_set",
        "matters.matter",
        str(other.pk),
    )
    assert event.after == {"hold_new_work": True, "reason": "overdue"}
    with pytest.raises(MatterError) as info:
        services.matter_hold_set_bulk(reasons={h1b.pk: " "}, actor=None, now=now)
    assert info.value.field == "reason"
