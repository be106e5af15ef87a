"""Authorization matrix for the clients pages and API (format: HELPERS.md).

Keys are URL names (``namespace:name``) or API operation ids; values map each role to the
expected HTTP status (GET pages and API calls) or to "allow"/"deny" (form POSTs, where "allow"
means anything but 403). Object routes are requested for a client outside the attorney's and
paralegal's team, so those two roles expect 403 there."""

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
UNSCOPED_STAFF = {A, P, B, OPS}  # attorneys/paralegals are out of the sample client's team
REVEAL = {A, P}  # the attorney may reveal, but not for a client outside the team

MATRIX: dict[str, dict[str, object]] = {
    "clients:list": _roles(200, 403, STAFF),
    "clients:create": _roles(200, 403, STAFF),
    "clients:detail": _roles(200, 403, UNSCOPED_STAFF),
    "clients:edit": _roles(200, 403, UNSCOPED_STAFF),
    "clients:reveal": _roles("allow", "deny", REVEAL),
    "clients:contact_add": _roles("allow", "deny", UNSCOPED_STAFF),
    "clients:contact_remove": _roles("allow", "deny", UNSCOPED_STAFF),
    "clients:beneficiary_create": _roles(200, 403, UNSCOPED_STAFF),
    "clients:beneficiary_edit": _roles(200, 403, UNSCOPED_STAFF),
    "clients:beneficiary_reveal": _roles("allow", "deny", REVEAL),
    # API
    "clients_list": _roles(200, 403, STAFF),
    "clients_read": _roles(200, 403, UNSCOPED_STAFF),
    "clients_create": _roles(201, 403, STAFF),
    "clients_update": _roles(200, 403, UNSCOPED_STAFF),
}
