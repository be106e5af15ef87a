from caseledger.core.choices import Role

CAPABILITIES = {
    "payments.view": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    "payments.record": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "payments.refund": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "payments.review": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Approve a payment reversal above the firm's threshold (never one's own request).
    "payments.reverse.approve": {Role.PARTNER},
    # The firm's correction rules (the reversal approval threshold).
    "payments.settings": {Role.ADMIN, Role.PARTNER},
}

NAVIGATION = [
    ("Payments", "payments:list", "payments.view"),
]
