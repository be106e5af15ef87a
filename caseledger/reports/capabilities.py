"""Who may read the firm's KPIs and set the baseline."""

from caseledger.core.choices import Role

CAPABILITIES = {
    "reports.view": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    "reports.billing": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "reports.operations": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    "reports.attorney": {Role.PARTNER, Role.ATTORNEY},
    "reports.settings": {Role.ADMIN, Role.PARTNER},
}

NAVIGATION = [
    ("Reports", "reports:dashboard", "reports.view"),
]
