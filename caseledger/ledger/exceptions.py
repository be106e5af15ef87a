from caseledger.core.exceptions import ApplicationError


class LedgerError(ApplicationError):
    """An entry or account change the ledger refuses."""

    code = "ledger_refused"


class TrustViolation(LedgerError):
    """The entry would break a trust (IOLTA) rule."""

    code = "trust_violation"


class IdempotencyConflict(LedgerError):
    code = "idempotency_conflict"


class LedgerIntegrityError(LedgerError):
    """Stored balances disagree with what the entry just posted: a bug, never a user error."""

    code = "ledger_integrity"
