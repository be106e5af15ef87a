"""Who may read the firm's KPIs and set the baseline."""

from caseledger.core.choices import Role

CAPABILITIES = {
    "reports.view": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    "reports.billing": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "reports.operations": {Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS},
    "reports.attorney": {Role.PARTNER, Role.ATTORNEY},
    "reports.settings": {Role.ADMIN, Role.PARTNER},
}
# The home page's KPI panel: whoever may open at least one of the four dashboards.
_BOARDS = ("reports.view", "reports.billing", "reports.operations", "reports.attorney")
CAPABILITIES["reports.glance"] = set().union(*(CAPABILITIES[c] for c in _BOARDS))

NAVIGATION = [
    ("Reports", "reports:dashboard", "reports.view"),
]
