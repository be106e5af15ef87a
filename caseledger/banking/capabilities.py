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
    # Reconciliation reports, the archive of signed months and their PDFs. Attorneys see them
    # because they may review and sign.
    "banking.reconcile_view": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.BILLING},
    # Prepare a month (the preparer).
    "banking.reconcile_prepare": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Review and sign a prepared month: a lawyer, never the preparer (the service checks).
    "banking.reconcile_sign": {Role.PARTNER, Role.ATTORNEY},
    # Reopen a signed month (with a reason) and change the sign-off deadline.
    "banking.reconcile_reopen": {Role.PARTNER},
    "banking.reconcile_settings": {Role.ADMIN, Role.PARTNER},
}

NAVIGATION = [
    ("Bank accounts", "banking:accounts", "banking.view"),
    ("Reconciliations", "banking:reconciliation_home", "banking.reconcile_view"),
]
