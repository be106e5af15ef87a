from caseledger.core.exceptions import ApplicationError


class TrustError(ApplicationError):
    """A trust action refused by a trust rule (cleared funds, earned fees, disputes, approvals)."""

    code = "trust_refused"


class ReceiptLinkError(TrustError):
    """A client receipt link that opens nothing: forged, altered, or past its age."""

    code = "receipt_link_invalid"


class ReceiptLinkExpired(ReceiptLinkError):
    code = "receipt_link_expired"
