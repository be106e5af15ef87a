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


class WebhookPayloadError(ApplicationError):
    """A correctly signed webhook whose body is not an event CaseLedger can read (HTTP 400,
    nothing recorded)."""

    code = "bad_payload"


class WebhookNotReady(ApplicationError):
    """A verified event about a payment not recorded yet (delivered out of order): HTTP 409 and
    nothing recorded, so the provider delivers it again later."""

    code = "not_ready"
