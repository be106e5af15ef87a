from caseledger.core.exceptions import ApplicationError


class PaymentError(ApplicationError):
    """A payment, allocation or refund the payments app refuses."""

    code = "payment_refused"


class WebhookSignatureError(ApplicationError):
    """A webhook whose signature does not verify (HTTP 400, nothing recorded)."""

    code = "bad_signature"


class ProviderError(ApplicationError):
    """The payment provider refused or could not be reached.

    ``retryable`` is True when the outcome is unknown (no answer, a timeout, the provider's own
    error): the request may have been carried out, so it is sent again with the same
    idempotency key rather than taken as refused."""

    code = "provider_error"

    def __init__(self, message: str, field: str | None = None, *, retryable: bool = False):
        super().__init__(message, field=field)
        self.retryable = retryable


class WebhookPayloadError(ApplicationError):
    """A correctly signed webhook whose body is not an event CaseLedger can read (HTTP 400,
    nothing recorded)."""

    code = "bad_payload"


class WebhookNotReady(ApplicationError):
    """A verified event about a payment not recorded yet (delivered out of order): HTTP 409 and
    nothing recorded, so the provider delivers it again later."""

    code = "not_ready"
