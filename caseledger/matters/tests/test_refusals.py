"""Every refusal of the matters services that no other test triggered: each is raised with the
message naming the field and the rule, and a refused call leaves matters, stage events, tasks,
deadlines, deadline rules, case types, stages, budget changes and audit events as they were
(``scripts/refusal_coverage.py`` lists them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.clients.tests.factories import make_beneficiary, make_company, make_person
from caseledger.core.models import AuditEvent
from caseledger.matters import services
from caseledger.matters.choices import BudgetKind, DeadlineKind
from caseledger.matters.exceptions import MatterError, TaskError
from caseledger.matters.models import (
    BudgetChange,
    CaseType,
    Deadline,
    FirmDeadlineRule,
    Matter,
    Stage,
    StageEvent,
    Task,
)
from caseledger.matters.tests.factories import case_type, make_matter

pytestmark = pytest.mark.django_db


def _state() -> dict[str, Any]:
    return {
        "matters": list(Matter.objects.values().order_by("id")),
        "stage_events": StageEvent.objects.count(),
        "tasks": list(Task.objects.values().order_by("id")),
        "deadlines": list(Deadline.objects.values().order_by("id")),
        "rules": list(FirmDeadlineRule.objects.values().order_by("id")),
        "case_types": list(CaseType.objects.values().order_by("id")),
        "stages": list(Stage.objects.values().order_by("id")),
        "budget_changes": BudgetChange.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., error=MatterError, **kwargs)``: the call raises ``error``
    matching ``match`` and changes nothing."""

    def check(
        call: Callable[..., Any],
        *,
        match: str,
        error: type[Exception] = MatterError,
        **kwargs: Any,
    ) -> None:
        before = _state()
        with pytest.raises(error, match=match):
            call(**kwargs)
        assert _state() == before

    return check


@pytest.fixture
def matter() -> Matter:
    return make_matter()


@pytest.fixture
def empty_type(users: dict[str, Any], now: Any) -> CaseType:
    """A case type whose stage template is still empty."""
    return services.case_type_save(
        actor=users["ADMIN"], now=now, code="consult_x", name="Consultation X"
    )


def test_team_members_must_hold_the_role_of_their_seat(users, now, refused):
    company = make_company()
    args = {
        "client": company,
        "case_type": case_type("h1b_cap"),
        "beneficiary": make_beneficiary(client=company),
        "actor": None,
        "now": now,
    }
    refused(
        services.matter_create,
        match="^"
        + re.escape(
            services.TEAM_ROLE_INVALID.format(
                field="responsible_partner", user=users["ATTORNEY"], wanted="a partner"
            )
        )
        + "$",
        responsible_partner=users["ATTORNEY"],
        **args,
    )
    refused(
        services.matter_create,
        match="^"
        + re.escape(
            services.TEAM_ROLE_INVALID.format(
                field="attorney", user=users["PARALEGAL"], wanted="an attorney"
            )
        )
        + "$",
        attorney=users["PARALEGAL"],
        **args,
    )
    refused(
        services.matter_create,
        match="^"
        + re.escape(
            services.TEAM_ROLE_INVALID.format(
                field="paralegal", user=users["ATTORNEY"], wanted="a paralegal"
            )
        )
        + "$",
        paralegal=users["ATTORNEY"],
        **args,
    )


def test_self_petitions_need_a_person_and_no_beneficiary(now, refused):
    company = make_company(name="Acme Corp")
    refused(
        services.matter_create,
        match=re.escape(
            "client: N-400 naturalization is filed by the applicant; the client must be a "
            "person, not the company Acme Corp"
        ),
        client=company,
        case_type=case_type("n400"),
        actor=None,
        now=now,
    )
    person = make_person()
    spouse = make_beneficiary(client=person, relationship="SPOUSE")
    refused(
        services.matter_create,
        match=re.escape(
            "is a self-petition; the client is the beneficiary, leave beneficiary empty"
        ),
        client=person,
        case_type=case_type("n400"),
        beneficiary=spouse,
        actor=None,
        now=now,
    )


def test_matter_create_refuses_bad_fee_facts_office_title_and_dates(now, refused):
    company = make_company()
    args = {
        "client": company,
        "case_type": case_type("h1b_cap"),
        "beneficiary": make_beneficiary(client=company),
        "actor": None,
        "now": now,
    }
    refused(
        services.matter_create,
        match=r"^beneficiary_location: must be one of IN_US, .* or empty \(got 'MARS'\)$",
        beneficiary_location="MARS",
        **args,
    )
    refused(
        services.matter_create,
        match=re.escape(
            "employer_prior_extensions: the number of extensions of stay this employer already "
            "obtained for the beneficiary, 0 to 20 (got 21)"
        ),
        employer_prior_extensions=21,
        **args,
    )
    refused(
        services.matter_create,
        match=r"^office: at most 60 characters$",
        office="x" * 61,
        **args,
    )
    refused(
        services.matter_create,
        match=r"^title: at most 200 characters$",
        title="x" * 201,
        **args,
    )
    refused(
        services.matter_create,
        match=r"^priority_date: cannot be after today \(got 2026-11-03\)$",
        priority_date=date(2026, 11, 3),
        **args,
    )


def test_matter_create_refuses_a_retired_or_empty_case_type(users, now, empty_type, refused):
    company = make_company()
    retired = case_type("perm")
    CaseType.objects.filter(pk=retired.pk).update(is_active=False)
    retired.refresh_from_db()
    refused(
        services.matter_create,
        match=r"^case_type: PERM labor certification is no longer offered$",
        client=company,
        case_type=retired,
        actor=None,
        now=now,
    )
    refused(
        services.matter_create,
        match=r"^case_type: Consultation X has no stages; add its stage template first$",
        client=company,
        case_type=empty_type,
        actor=None,
        now=now,
    )


def test_history_import_refuses_bad_dates_empty_types_long_titles_and_taken_numbers(
    users, now, matter, empty_type, refused
):
    company = make_company()
    args = {
        "client": company,
        "case_type": case_type("perm"),
        "title": "",
        "opened_date": date(2020, 3, 1),
        "closed_date": None,
        "actor": None,
        "now": now,
    }
    refused(
        services.matter_import_history,
        match=r"^closed_date: 2020-02-01 is before opened_date 2020-03-01$",
        **{**args, "number": "OLD-1", "closed_date": date(2020, 2, 1)},
    )
    refused(
        services.matter_import_history,
        match=r"^case_type: Consultation X has no stages; add its stage template first$",
        **{**args, "number": "OLD-1", "case_type": empty_type},
    )
    refused(
        services.matter_import_history,
        match=r"^title: at most 200 characters$",
        **{**args, "number": "OLD-1", "title": "x" * 201},
    )
    refused(
        services.matter_import_history,
        match=rf"^number: matter {re.escape(matter.number)} already exists$",
        **{**args, "number": matter.number},
    )


def test_bulk_history_import_refuses_a_number_given_twice_or_taken(users, now, matter, refused):
    company = make_company()

    def build(number: str) -> Matter:
        return services.matter_import_build(
            client=company,
            case_type=case_type("perm"),
            number=number,
            title="",
            opened_date=date(2020, 3, 1),
            closed_date=None,
            now=now,
        )

    refused(
        services.matter_import_many,
        match=r"^number: matter OLD-7 already exists$",
        matters=[build("OLD-7"), build("OLD-7")],
        actor=None,
        now=now,
    )
    refused(
        services.matter_import_many,
        match=rf"^number: matter {re.escape(matter.number)} already exists$",
        matters=[build("OLD-8"), build(matter.number)],
        actor=None,
        now=now,
    )


def test_matter_update_refuses_unknown_fields_a_blank_or_long_title_and_a_future_date(
    users, now, matter, refused
):
    args = {"matter": matter, "actor": users["ATTORNEY"], "now": now}
    refused(
        services.matter_update,
        match=r"^case_type: cannot be changed here$",
        case_type=case_type("perm"),
        **args,
    )
    refused(services.matter_update, match=r"^title: required$", title="   ", **args)
    refused(
        services.matter_update, match=r"^title: at most 200 characters$", title="x" * 201, **args
    )
    refused(
        services.matter_update,
        match=r"^priority_date: cannot be after today \(got 2026-12-01\)$",
        priority_date=date(2026, 12, 1),
        **args,
    )


def test_tasks_refuse_no_title_no_assignee_an_unknown_role_and_a_second_completion(
    users, now, matter, refused
):
    args = {"matter": matter, "actor": users["PARALEGAL"], "now": now}
    refused(
        services.task_create,
        match=r"^title: required$",
        error=TaskError,
        title=" ",
        assignee=users["PARALEGAL"],
        **args,
    )
    refused(
        services.task_create,
        match=r"^assignee: choose a person or a role$",
        error=TaskError,
        title="Call the client",
        **args,
    )
    refused(
        services.task_create,
        match=r"^assignee_role: unknown role 'JANITOR'$",
        error=TaskError,
        title="Call the client",
        assignee_role="JANITOR",
        **args,
    )
    task = services.task_create(title="Call the client", assignee=users["PARALEGAL"], **args)
    services.task_complete(task=task, actor=users["PARALEGAL"], now=now)
    refused(
        services.task_complete,
        match=r"^task: already done$",
        error=TaskError,
        task=task,
        actor=users["PARALEGAL"],
        now=now,
    )


def test_system_tasks_refuse_a_blank_key(now, matter, refused):
    refused(
        services.task_open_for_system,
        match=r"^key: required for a system task$",
        error=TaskError,
        key="  ",
        matter=matter,
        title="Reminder",
        due_date=None,
        now=now,
    )
    refused(
        services.task_open_for_system_bulk,
        match=r"^key: required for a system task$",
        error=TaskError,
        specs=[
            services.SystemTaskSpec(key="ok-key", matter_id=matter.pk, title="A", due_date=None),
            services.SystemTaskSpec(key="", matter_id=matter.pk, title="B", due_date=None),
        ],
        now=now,
    )


def test_deadlines_refuse_an_unknown_kind_no_date_and_a_second_met(users, now, matter, refused):
    args = {"matter": matter, "actor": users["PARALEGAL"], "now": now}
    refused(
        services.deadline_create,
        match=r"^kind: must be one of RFE_RESPONSE, .* \(got 'PARTY'\)$",
        kind="PARTY",
        due_date=date(2027, 1, 15),
        **args,
    )
    refused(
        services.deadline_create,
        match=r"^due_date: required$",
        kind=DeadlineKind.HEARING,
        due_date=None,
        **args,
    )
    deadline = services.deadline_create(
        kind=DeadlineKind.HEARING, due_date=date(2027, 1, 15), **args
    )
    services.deadline_mark_met(deadline=deadline, actor=users["PARALEGAL"], now=now)
    refused(
        services.deadline_mark_met,
        match=r"^deadline: already marked met$",
        deadline=deadline,
        actor=users["PARALEGAL"],
        now=now,
    )


def test_deadline_rules_refuse_a_lead_time_out_of_range_and_an_unknown_assignee(
    users, now, refused
):
    args = {"kind": DeadlineKind.HEARING, "actor": users["ADMIN"], "now": now}
    refused(
        services.deadline_rule_update,
        match=r"^lead_days: must be between 0 and 365 \(got 366\)$",
        lead_days=366,
        assign_to="PARALEGAL",
        **args,
    )
    refused(
        services.deadline_rule_update,
        match=r"^assign_to: must be one of PARALEGAL, ATTORNEY, PARTNER \(got 'INTERN'\)$",
        lead_days=10,
        assign_to="INTERN",
        **args,
    )


def test_case_types_refuse_no_name_an_unknown_rule_a_taken_code_and_duplicate_stages(
    users, now, empty_type, refused
):
    args = {"actor": users["ADMIN"], "now": now}
    refused(services.case_type_save, match=r"^name: required$", code="new_ct", name=" ", **args)
    refused(
        services.case_type_save,
        match=r"^beneficiary_rule: must be one of PETITION, SELF, OPTIONAL \(got 'ANY'\)$",
        code="new_ct",
        name="New",
        beneficiary_rule="ANY",
        **args,
    )
    refused(
        services.case_type_save,
        match=r"^code: a case type with code 'consult_x' already exists$",
        code="consult_x",
        name="Another",
        **args,
    )
    refused(
        services.case_type_stages_save,
        match=r"^name: required$",
        case_type=empty_type,
        stages=[{"code": "intake", "name": "", "id": None}],
        **args,
    )
    refused(
        services.case_type_stages_save,
        match=r"^code: Consultation X already has a stage 'intake'$",
        case_type=empty_type,
        stages=[
            {"code": "intake", "name": "Intake", "id": None},
            {"code": "intake", "name": "Intake again", "id": None},
        ],
        **args,
    )


def test_budget_refuses_bad_kinds_amounts_and_no_reason(users, now, matter, refused):
    args = {"matter": matter, "actor": users["PARTNER"], "now": now}
    refused(
        services.matter_budget_set,
        match=r"^budget_kind: must be one of FLAT_FEE, ESTIMATE \(got 'GUESS'\)$",
        kind="GUESS",
        amount_cents=100_000,
        reason="Engagement letter",
        **args,
    )
    refused(
        services.matter_budget_set,
        match=r"^budget: required with a budget kind$",
        kind=BudgetKind.ESTIMATE,
        amount_cents=None,
        reason="Engagement letter",
        **args,
    )
    refused(
        services.matter_budget_set,
        match=r"^budget: must be zero or more \(got -\$1\.00\)$",
        kind=BudgetKind.ESTIMATE,
        amount_cents=-100,
        reason="Engagement letter",
        **args,
    )
    refused(
        services.matter_budget_set,
        match=r"^budget: at most \$1,000,000,000\.00 \(got \$1,000,000,000\.01\)$",
        kind=BudgetKind.ESTIMATE,
        amount_cents=services.BUDGET_MAX_CENTS + 1,
        reason="Engagement letter",
        **args,
    )
    refused(
        services.matter_budget_set,
        match=r"^reason: required when changing the budget$",
        kind=BudgetKind.ESTIMATE,
        amount_cents=100_000,
        reason="  ",
        **args,
    )
    refused(
        services.matter_budget_reduce,
        match=r"^amount: a budget reduction must be positive \(got \$0\.00\)$",
        amount_cents=0,
        reason="Credit note",
        source="CN-1",
        **args,
    )
