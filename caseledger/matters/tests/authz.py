"""Authorization matrix for the matters pages and API (format: HELPERS.md; see
caseledger/clients/tests/authz.py). Object routes use a matter whose team does not include the
attorney or paralegal asking, so those roles expect 403."""

A, P, AT, PL, B, OPS, C = (
    "ADMIN",
    "PARTNER",
    "ATTORNEY",
    "PARALEGAL",
    "BILLING",
    "OPERATIONS",
    "CLIENT",
)


def _roles(ok: object, denied: object, allowed: set[str]) -> dict[str, object]:
    return {r: (ok if r in allowed else denied) for r in (A, P, AT, PL, B, OPS, C)}


STAFF = {A, P, AT, PL, B, OPS}
UNSCOPED_STAFF = {A, P, B, OPS}
TEAM_UNSCOPED = {A, P}

MATRIX: dict[str, dict[str, object]] = {
    "matters:list": _roles(200, 403, STAFF),
    # Requested with ?client= a client outside the attorney's / paralegal's team.
    "matters:create": _roles(200, 403, TEAM_UNSCOPED),
    "matters:detail": _roles(200, 403, UNSCOPED_STAFF),
    "matters:edit": _roles(200, 403, TEAM_UNSCOPED),
    "matters:advance": _roles("allow", "deny", TEAM_UNSCOPED),
    "matters:hold": _roles("allow", "deny", {A, P, B}),
    "matters:lift": _roles("allow", "deny", {A, P, B}),
    "matters:receipt_add": _roles("allow", "deny", TEAM_UNSCOPED),
    "matters:deadline_add": _roles("allow", "deny", TEAM_UNSCOPED),
    "matters:deadline_met": _roles("allow", "deny", TEAM_UNSCOPED),
    "matters:task_add": _roles("allow", "deny", UNSCOPED_STAFF),
    "matters:my_tasks": _roles(200, 403, STAFF),
    "matters:task_done": _roles("allow", "deny", UNSCOPED_STAFF),
    "matters:case_types": _roles(200, 403, {A}),
    "matters:case_type_create": _roles(200, 403, {A}),
    "matters:case_type_edit": _roles(200, 403, {A}),
    # API
    "matters_list": _roles(200, 403, STAFF),
    "matters_read": _roles(200, 403, UNSCOPED_STAFF),
    "matters_create": _roles(201, 403, TEAM_UNSCOPED),
    "matters_update": _roles(200, 403, TEAM_UNSCOPED),
    "matters_advance": _roles(201, 403, TEAM_UNSCOPED),
    "tasks_list": _roles(200, 403, STAFF),
}
