"""Authorization matrix entries for core's pages and the API's identity routes.

The format is documented in ``caseledger/core/tests/test_authz_matrix.py``; the role-set
constants below are shared by every app's ``tests/authz.py``."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

ANONYMOUS = "ANONYMOUS"
ALL_ROLES = frozenset(r.value for r in Role)  # every signed-in role (not anonymous)
STAFF = frozenset(r.value for r in Role if r != Role.CLIENT)
PUBLIC = ALL_ROLES | {ANONYMOUS}  # no authorization at all (login, password reset, API docs)
ADMIN = frozenset({Role.ADMIN.value})
ADMIN_PARTNER = frozenset({Role.ADMIN.value, Role.PARTNER.value})


def _target_user(ctx: Any) -> dict[str, Any]:
    # A user other than every role's own account, so no one acts on themselves.
    return {"pk": ctx.make_user(role=Role.PARALEGAL, username="authz-target").pk}


def _own_token(ctx: Any) -> dict[str, Any]:
    from caseledger.core.services import api_token_create

    if ctx.user is None:
        owner = ctx.users[Role.ATTORNEY.value]
    else:
        owner = ctx.user
    token, _ = api_token_create(user=owner, now=ctx.now, name="authz")
    return {"pk": token.pk}


def _failed_message(ctx: Any) -> dict[str, Any]:
    from caseledger.core.choices import OutboxStatus
    from caseledger.core.models import OutboxMessage

    row = OutboxMessage.objects.create(
        key=f"authz.test:{OutboxMessage.objects.count()}",
        kind="authz.test",
        to=["client@example.com"],
        subject="Authz",
        body="",
        message_id="<authz@caseledger.host>",
        status=OutboxStatus.DEAD,
        attempts=6,
        next_attempt_at=ctx.now,
        created_at=ctx.now,
    )
    return {"pk": row.pk}


OUTBOX_VIEW = frozenset(
    {Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value, Role.OPERATIONS.value}
)
OUTBOX_RETRY = frozenset({Role.ADMIN.value, Role.BILLING.value, Role.OPERATIONS.value})

MATRIX: dict[str, dict[str, Any]] = {
    "core:home": {"allow": ALL_ROLES},
    "core:waiting": {"allow": STAFF},
    "core:favicon": {"allow": PUBLIC},
    "core:baseline": {"allow": PUBLIC},
    "core:login": {"allow": PUBLIC},
    "core:logout": {"allow": PUBLIC, "method": "POST"},
    "core:two_factor_verify": {"allow": ALL_ROLES},
    "core:password_reset": {"allow": PUBLIC},
    "core:password_reset_done": {"allow": PUBLIC},
    "core:password_reset_confirm": {
        "allow": PUBLIC,
        "kwargs": {"uidb64": "MQ", "token": "set-password"},
    },
    "core:password_reset_complete": {"allow": PUBLIC},
    "core:profile": {"allow": ALL_ROLES},
    "core:password_change": {"allow": ALL_ROLES},
    "core:two_factor_enrol": {"allow": ALL_ROLES},
    "core:two_factor_disable": {"allow": ALL_ROLES, "method": "POST", "data": {"code": "1"}},
    "core:api_token_create": {"allow": STAFF, "method": "POST", "data": {"name": "ci"}},
    "core:api_token_revoke": {"allow": STAFF, "method": "POST", "kwargs": _own_token},
    "core:firm_settings": {"allow": ADMIN},
    "core:firm_two_factor": {"allow": ADMIN, "method": "POST"},
    "core:users": {"allow": ADMIN},
    "core:user_invite": {"allow": ADMIN},
    "core:user_detail": {"allow": ADMIN, "kwargs": _target_user},
    "core:user_role": {
        "allow": ADMIN,
        "method": "POST",
        "kwargs": _target_user,
        "data": {"role": "ATTORNEY"},
    },
    "core:user_active": {
        "allow": ADMIN,
        "method": "POST",
        "kwargs": _target_user,
        "data": {"active": "0"},
    },
    "core:user_unlock": {"allow": ADMIN, "method": "POST", "kwargs": _target_user},
    "core:audit": {"allow": ADMIN_PARTNER},
    # A staff guide and one of its screenshots; clients read the client guide only
    # (caseledger/core/tests/test_guides.py checks theirs).
    "core:help": {"allow": STAFF, "kwargs": {"guide": "billing"}},
    "core:help_image": {"allow": STAFF, "kwargs": {"name": "billing-issue-invoice.png"}},
    "core:outbox": {"allow": OUTBOX_VIEW},
    "core:outbox_retry": {"allow": OUTBOX_RETRY, "method": "POST", "kwargs": _failed_message},
    # The API's schema and docs carry no data: open, so API clients can generate code.
    "api:openapi-json": {"allow": PUBLIC},
    "api:openapi-view": {"allow": PUBLIC},
    "api:api-root": {"allow": PUBLIC, "status": dict.fromkeys(PUBLIC, 404)},
    "GET /api/v1/me": {"allow": ALL_ROLES},
}
