"""Who may see and work collections."""

from caseledger.core.choices import Role

CAPABILITIES = {
    "collections.view": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "collections.work": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "collections.policies": {Role.ADMIN, Role.PARTNER},
    "collections.hold_lift": {Role.ADMIN, Role.PARTNER},
    "collections.run": {Role.ADMIN, Role.BILLING},
    "collections.at_risk": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.ATTORNEY},
}

NAVIGATION = [
    ("Aging", "collections:aging", "collections.view"),
    ("Collections queue", "collections:queue", "collections.view"),
    ("At-risk matters", "collections:at_risk", "collections.at_risk"),
    ("Collection policies", "collections:policies", "collections.policies"),
]
