"""Bank reconciliation on statement lines matched to ledger postings (``banking.LineMatch``):
``compute`` (the report, SQL aggregates), ``services`` (prepare, sign, reopen, verify, the
daily job) and ``pdf`` (the archived report)."""
