"""Who may bring the firm's old records in and post the opening balances."""

from caseledger.core.choices import Role

CAPABILITIES = {
    "imports.run": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "imports.cutover": {Role.ADMIN, Role.PARTNER},
    "imports.export": {Role.ADMIN, Role.PARTNER},
    "imports.parallel_sign": {Role.PARTNER},
    "imports.retention": {Role.ADMIN, Role.PARTNER},
    # recording money received for an imported open invoice (the payments.record roles)
    "imports.collect": {Role.ADMIN, Role.PARTNER, Role.BILLING},
}

NAVIGATION = [
    ("Imports", "imports:home", "imports.run"),
]
