"""Who may do what with credit notes, refunds and write-offs."""

from caseledger.core.choices import Role

CAPABILITIES = {
    "credits.view": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "credits.request": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "credits.approve": {Role.ADMIN, Role.PARTNER},
    "credits.write_off": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "credits.settings": {Role.ADMIN, Role.PARTNER},
    "credits.reports": {Role.ADMIN, Role.PARTNER, Role.BILLING},
}

NAVIGATION = [
    ("Credit notes", "credits:credit_note_list", "credits.view"),
    ("Write-offs", "credits:write_off_list", "credits.view"),
    ("Credit reports", "credits:report", "credits.reports"),
]
