from caseledger.core.choices import Role

CAPABILITIES = {
    # Read the books: chart, ledgers, trial balance, entries, client trust ledgers, CSV exports.
    "ledger.view": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Change the chart: add trust bank accounts, deactivate / reactivate accounts.
    "ledger.manage": {Role.ADMIN, Role.PARTNER},
}

NAVIGATION = [
    ("Chart of accounts", "ledger:accounts", "ledger.view"),
    ("Trial balance", "ledger:trial_balance", "ledger.view"),
    ("Client trust ledgers", "ledger:trust_ledgers", "ledger.view"),
]
