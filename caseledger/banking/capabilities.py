"""Banking capabilities: the people who keep the books (admin, partner, billing) see bank
accounts, import statements and create and edit bank accounts. Bank accounts are firm-wide
records, so there is no object scope."""

from caseledger.core.choices import Role

CAPABILITIES = {
    # Bank accounts, their statements and imports.
    "banking.view": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Upload statement files, confirm a CSV column mapping.
    "banking.import": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Match statement lines to ledger postings (accept suggestions, match by hand, unmatch)
    # and resolve lines with nothing behind them (interest, bank fees, returned deposits).
    "banking.match": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Create and edit bank accounts (numbers, mapping to the ledger).
    "banking.manage": {Role.ADMIN, Role.PARTNER, Role.BILLING},
}

NAVIGATION = [
    ("Bank accounts", "banking:accounts", "banking.view"),
]
