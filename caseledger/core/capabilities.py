from caseledger.core.choices import Role

CAPABILITIES = {
    "firm.view": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    "firm.manage": {Role.ADMIN},
    "users.manage": {Role.ADMIN},
    "audit.view": {Role.ADMIN, Role.PARTNER},
    "profile.edit": set(Role),
    # The training guides (/help/<guide>/): clients only their own (core.guides.may_read).
    "help.view": set(Role),
    "api.tokens": {r for r in Role if r != Role.CLIENT},
    # The "waiting on me" page; each item source there has its own capability too.
    "waiting.view": {r for r in Role if r != Role.CLIENT},
    # Any signed-in, active user may call the API's identity routes (/api/v1/me).
    "api.access": set(Role),
    # The outbox page: every message that left or is waiting to leave, with its attempts.
    "outbox.view": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    # Send a failed message again (after checking the address or the mail server).
    "outbox.retry": {Role.ADMIN, Role.BILLING, Role.OPERATIONS},
}

# (label, url name, capability): the menu, shown per role by core.context_processors.
NAVIGATION = [
    ("Audit log", "core:audit", "audit.view"),
    ("Outbox", "core:outbox", "outbox.view"),
    ("People", "core:users", "users.manage"),
    ("Firm settings", "core:firm_settings", "firm.manage"),
    ("Profile", "core:profile", "profile.edit"),
]
