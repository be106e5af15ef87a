"""Authorization matrix for the clients pages and API (collected by core's authz test).

The format is documented in ``caseledger/core/tests/test_authz_matrix.py``. Object routes are
requested for a client outside the attorney's and paralegal's team (its matter is staffed by
other users: ``caseledger.matters.tests.authz.outside_team_world``), so those two roles expect
403 there. Attorneys may reveal personal data, but not for a client outside their team.
"""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role
from caseledger.core.tests.authz import ADMIN_PARTNER

A, P, B, OPS = Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value, Role.OPERATIONS.value
STAFF = frozenset(r.value for r in Role if r != Role.CLIENT)
UNSCOPED_STAFF = frozenset({A, P, B, OPS})  # attorney/paralegal are outside the client's team
REVEAL = ADMIN_PARTNER


def _world(ctx: Any) -> dict[str, Any]:
    from caseledger.matters.tests.authz import outside_team_world

    return outside_team_world(ctx)


def _client(ctx: Any) -> dict[str, Any]:
    return {"pk": _world(ctx)["client"].pk}


def _client_id(ctx: Any) -> dict[str, Any]:
    return {"client_id": _world(ctx)["client"].pk}


def _contact(ctx: Any) -> dict[str, Any]:
    world = _world(ctx)
    return {"pk": world["client"].pk, "contact_pk": world["contact"].pk}


def _beneficiary(ctx: Any) -> dict[str, Any]:
    return {"pk": _world(ctx)["beneficiary"].pk}


def _exact(code: int, roles: frozenset[str]) -> dict[str, int]:
    return dict.fromkeys(roles, code)


MATRIX: dict[str, dict[str, Any]] = {
    "clients:list": {"allow": STAFF, "status": _exact(200, STAFF)},
    "clients:create": {"allow": STAFF, "status": _exact(200, STAFF)},
    "clients:detail": {
        "allow": UNSCOPED_STAFF,
        "kwargs": _client,
        "status": _exact(200, UNSCOPED_STAFF),
    },
    "clients:edit": {
        "allow": UNSCOPED_STAFF,
        "kwargs": _client,
        "status": _exact(200, UNSCOPED_STAFF),
    },
    "clients:reveal": {"allow": REVEAL, "method": "POST", "kwargs": _client},
    "clients:contact_add": {
        "allow": UNSCOPED_STAFF,
        "method": "POST",
        "kwargs": _client,
        "data": {"name": "Dana Whitfield", "role": "HR", "email": "hr@northwind.example"},
    },
    "clients:contact_remove": {"allow": UNSCOPED_STAFF, "method": "POST", "kwargs": _contact},
    "clients:beneficiary_create": {
        "allow": UNSCOPED_STAFF,
        "kwargs": _client,
        "status": _exact(200, UNSCOPED_STAFF),
    },
    "clients:beneficiary_edit": {
        "allow": UNSCOPED_STAFF,
        "kwargs": _beneficiary,
        "status": _exact(200, UNSCOPED_STAFF),
    },
    "clients:beneficiary_reveal": {"allow": REVEAL, "method": "POST", "kwargs": _beneficiary},
    # API
    "GET /api/v1/clients": {"allow": STAFF, "status": _exact(200, STAFF)},
    "GET /api/v1/clients/{client_id}": {
        "allow": UNSCOPED_STAFF,
        "kwargs": _client_id,
        "status": _exact(200, UNSCOPED_STAFF),
    },
    "POST /api/v1/clients": {
        "allow": STAFF,
        "json": {"name": "Zed Corp", "kind": "COMPANY", "client_type": "CORPORATE"},
        "status": _exact(201, STAFF),
    },
    "PATCH /api/v1/clients/{client_id}": {
        "allow": UNSCOPED_STAFF,
        "kwargs": _client_id,
        "json": {"phone": "+1 555 0100"},
        "status": _exact(200, UNSCOPED_STAFF),
    },
}
