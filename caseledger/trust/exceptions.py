from caseledger.core.exceptions import ApplicationError


class TrustError(ApplicationError):
    """A trust action refused by a trust rule (cleared funds, earned fees, disputes, approvals)."""

    code = "trust_refused"
