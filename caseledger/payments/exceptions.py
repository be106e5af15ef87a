from caseledger.core.exceptions import ApplicationError


class PaymentError(ApplicationError):
    """A payment, allocation or refund the payments app refuses."""

    code = "payment_refused"


class WebhookSignatureError(ApplicationError):
    """A webhook whose signature does not verify (HTTP 400, nothing recorded)."""

    code = "bad_signature"


class ProviderError(ApplicationError):
    """The payment provider refused or could not be reached."""

    code = "provider_error"
