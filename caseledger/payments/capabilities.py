from caseledger.core.choices import Role

CAPABILITIES = {
    "payments.view": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    "payments.record": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "payments.refund": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "payments.review": {Role.ADMIN, Role.PARTNER, Role.BILLING},
}

NAVIGATION = [
    ("Payments", "payments:list", "payments.view"),
]
