"""Banking capabilities: the books' people (admin, partner, billing) see bank accounts and
import statements; admins and partners create and edit bank accounts."""

from caseledger.core.choices import Role

CAPABILITIES = {
    # Bank accounts, their statements and imports.
    "banking.view": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Upload statement files, confirm a CSV column mapping.
    "banking.import": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Create and edit bank accounts (numbers, mapping to the ledger).
    "banking.manage": {Role.ADMIN, Role.PARTNER, Role.BILLING},
}

NAVIGATION = [
    ("Bank accounts", "banking:accounts", "banking.view"),
]
