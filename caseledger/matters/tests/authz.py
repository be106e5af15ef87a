"""Authorization matrix for the matters pages and API (collected by core's authz test).

The format is documented in ``caseledger/core/tests/test_authz_matrix.py``. Object routes are
requested for a matter whose team (attorney, paralegal, responsible partner) is two other
users, so the attorney and paralegal asking are outside it and expect 403 there; the unscoped
roles (admin, partner, billing, operations) reach it. ``outside_team_world`` builds that matter
with everything hanging off it; the clients matrix uses it too.
"""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role
from caseledger.core.tests.authz import ADMIN, ADMIN_PARTNER

A, P, B, OPS = Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value, Role.OPERATIONS.value
STAFF = frozenset(r.value for r in Role if r != Role.CLIENT)
UNSCOPED_STAFF = frozenset({A, P, B, OPS})  # attorney/paralegal are outside the matter's team
HOLDERS = frozenset({A, P, B})
# The first two stages of the H-1B template the matters factory opens matters with.
FIRST_STAGE, NEXT_STAGE = "intake", "lca_filed"


def outside_team_world(ctx: Any) -> dict[str, Any]:
    """A company client with a beneficiary and an H-1B matter staffed by another attorney and
    paralegal, plus a billing contact, a hearing deadline and a task for the other paralegal.
    Built once per request (memoized on ``ctx``) so kwargs and form data see the same rows."""
    world = getattr(ctx, "outside_team_world", None)
    if world is not None:
        return world  # type: ignore[no-any-return]
    from caseledger.clients.services import contact_add
    from caseledger.clients.tests.factories import make_beneficiary
    from caseledger.matters import services
    from caseledger.matters.tests.factories import make_matter

    other_attorney = ctx.make_user(role=Role.ATTORNEY, username="authz-other-attorney")
    other_paralegal = ctx.make_user(role=Role.PARALEGAL, username="authz-other-paralegal")
    beneficiary = make_beneficiary()
    matter = make_matter(
        beneficiary=beneficiary,
        client=beneficiary.client,
        attorney=other_attorney,
        paralegal=other_paralegal,
    )
    assert matter.current_stage is not None
    assert matter.current_stage.code == FIRST_STAGE
    world = {
        "matter": matter,
        "client": matter.client,
        "beneficiary": beneficiary,
        "contact": contact_add(
            client=matter.client, actor=None, now=ctx.now, name="AP", role="BILLING"
        ),
        "deadline": services.deadline_create(
            matter=matter, kind="HEARING", due_date=ctx.now.date(), actor=None, now=ctx.now
        ),
        "task": services.task_create(
            title="Collect pay stubs",
            matter=matter,
            assignee=other_paralegal,
            actor=None,
            now=ctx.now,
        ),
    }
    ctx.outside_team_world = world
    return world


def _matter(ctx: Any) -> dict[str, Any]:
    return {"pk": outside_team_world(ctx)["matter"].pk}


def _matter_id(ctx: Any) -> dict[str, Any]:
    return {"matter_id": outside_team_world(ctx)["matter"].pk}


def _deadline(ctx: Any) -> dict[str, Any]:
    return {"pk": outside_team_world(ctx)["deadline"].pk}


def _task(ctx: Any) -> dict[str, Any]:
    return {"pk": outside_team_world(ctx)["task"].pk}


def _case_type(ctx: Any) -> dict[str, Any]:
    return {"pk": outside_team_world(ctx)["matter"].case_type_id}


def _client_field(ctx: Any) -> dict[str, Any]:
    # The matter form for a client outside the attorney's / paralegal's team.
    return {"client": outside_team_world(ctx)["client"].pk}


def _advance_data(ctx: Any) -> dict[str, Any]:
    matter = outside_team_world(ctx)["matter"]
    return {"stage": matter.case_type.stages.get(code=NEXT_STAGE).pk, "note": "LCA certified"}


def _document(ctx: Any, *, share: bool = False) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from caseledger.matters.documents import document_upload

    document = document_upload(
        matter=outside_team_world(ctx)["matter"],
        upload=SimpleUploadedFile("approval.pdf", b"%PDF-1.7\n%%EOF\n"),
        title="Approval notice",
        kind="APPROVAL_NOTICE",
        actor=ctx.users["PARTNER"],
        now=ctx.now,
        share=share,
    )
    return {"pk": document.pk}


def _document_upload_data(ctx: Any) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "title": "RFE",
        "kind": "RFE",
        "file": SimpleUploadedFile("rfe.pdf", b"%PDF-1.7\n%%EOF\n"),
    }


def _exact(code: int, roles: frozenset[str]) -> dict[str, int]:
    return dict.fromkeys(roles, code)


MATRIX: dict[str, dict[str, Any]] = {
    "matters:list": {"allow": STAFF, "status": _exact(200, STAFF)},
    "matters:create": {
        "allow": ADMIN_PARTNER,
        "method": "POST",
        "data": _client_field,
        "status": _exact(200, ADMIN_PARTNER),
    },
    "matters:detail": {
        "allow": UNSCOPED_STAFF,
        "kwargs": _matter,
        "status": _exact(200, UNSCOPED_STAFF),
    },
    "matters:edit": {
        "allow": ADMIN_PARTNER,
        "kwargs": _matter,
        "status": _exact(200, ADMIN_PARTNER),
    },
    "matters:advance": {
        "allow": ADMIN_PARTNER,
        "method": "POST",
        "kwargs": _matter,
        "data": _advance_data,
    },
    "matters:hold": {
        "allow": HOLDERS,
        "method": "POST",
        "kwargs": _matter,
        "data": {"reason": "Retainer not replenished"},
    },
    "matters:lift": {
        "allow": HOLDERS,
        "method": "POST",
        "kwargs": _matter,
        "data": {"reason": "Paid"},
    },
    "matters:budget": {
        # Attorney and paralegal are outside the matter's team: only the unscoped holders.
        "allow": HOLDERS,
        "method": "POST",
        "kwargs": _matter,
        "data": {"budget_kind": "FLAT_FEE", "budget": "5,000.00", "reason": "Engagement letter"},
    },
    "matters:receipt_add": {
        "allow": ADMIN_PARTNER,
        "method": "POST",
        "kwargs": _matter,
        "data": {"number": "EAC2490012345", "form": "I-129"},
    },
    "matters:document_upload": {
        "allow": ADMIN_PARTNER,
        "method": "POST",
        "kwargs": _matter,
        "data": _document_upload_data,
    },
    "matters:document_download": {"allow": UNSCOPED_STAFF, "kwargs": _document},
    "matters:document_share": {"allow": ADMIN_PARTNER, "method": "POST", "kwargs": _document},
    "matters:document_unshare": {
        "allow": ADMIN_PARTNER,
        "method": "POST",
        "kwargs": lambda ctx: _document(ctx, share=True),
    },
    "matters:deadline_add": {
        "allow": ADMIN_PARTNER,
        "method": "POST",
        "kwargs": _matter,
        "data": lambda ctx: {"kind": "FILING_WINDOW", "due_date": ctx.now.date().isoformat()},
    },
    "matters:deadline_met": {"allow": ADMIN_PARTNER, "method": "POST", "kwargs": _deadline},
    "matters:task_add": {
        "allow": UNSCOPED_STAFF,
        "method": "POST",
        "kwargs": _matter,
        "data": {"title": "Request the employer's payroll records", "assignee_role": "PARALEGAL"},
    },
    "matters:my_tasks": {"allow": STAFF, "status": _exact(200, STAFF)},
    "matters:task_done": {"allow": UNSCOPED_STAFF, "method": "POST", "kwargs": _task},
    "matters:case_types": {"allow": ADMIN, "status": _exact(200, ADMIN)},
    "matters:case_type_create": {"allow": ADMIN, "status": _exact(200, ADMIN)},
    "matters:case_type_edit": {"allow": ADMIN, "kwargs": _case_type, "status": _exact(200, ADMIN)},
    # API
    "GET /api/v1/matters": {"allow": STAFF, "status": _exact(200, STAFF)},
    "GET /api/v1/matters/{matter_id}": {
        "allow": UNSCOPED_STAFF,
        "kwargs": _matter_id,
        "status": _exact(200, UNSCOPED_STAFF),
    },
    "POST /api/v1/matters": {
        "allow": ADMIN_PARTNER,
        "json": lambda ctx: {
            "client_id": outside_team_world(ctx)["client"].pk,
            "case_type": "consultation",
        },
        "status": _exact(201, ADMIN_PARTNER),
    },
    "PATCH /api/v1/matters/{matter_id}": {
        "allow": ADMIN_PARTNER,
        "kwargs": _matter_id,
        "json": {"notes": "called"},
        "status": _exact(200, ADMIN_PARTNER),
    },
    "POST /api/v1/matters/{matter_id}/advance": {
        "allow": ADMIN_PARTNER,
        "kwargs": _matter_id,
        "json": {"stage": NEXT_STAGE},
        "status": _exact(201, ADMIN_PARTNER),
    },
    "GET /api/v1/tasks": {"allow": STAFF, "status": _exact(200, STAFF)},
}
