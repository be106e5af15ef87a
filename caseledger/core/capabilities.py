from caseledger.core.choices import Role

CAPABILITIES = {
    "firm.view": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    "firm.manage": {Role.ADMIN},
    "users.manage": {Role.ADMIN},
    "audit.view": {Role.ADMIN, Role.PARTNER},
    "profile.edit": set(Role),
    "api.tokens": {r for r in Role if r != Role.CLIENT},
}
