"""Payment providers: ``sandbox`` (built in, for the demo and the tests) and ``stripe``.

``provider_get()`` returns the configured one (settings.PAYMENT_PROVIDER)."""

from __future__ import annotations

from django.conf import settings

from caseledger.payments.providers.base import (
    CheckoutRequest,
    CreatedCheckout,
    PaymentEvent,
    PaymentProvider,
)

__all__ = ["CheckoutRequest", "CreatedCheckout", "PaymentEvent", "PaymentProvider", "provider_get"]

PROVIDER_UNKNOWN = "PAYMENT_PROVIDER: must be sandbox or stripe (got {name!r})"


def provider_get(name: str | None = None) -> PaymentProvider:
    from caseledger.payments.providers.sandbox import SandboxProvider
    from caseledger.payments.providers.stripe import StripeProvider

    name = name or settings.PAYMENT_PROVIDER
    if name == "sandbox":
        return SandboxProvider()
    if name == "stripe":
        return StripeProvider(
            secret_key=settings.STRIPE_SECRET_KEY, webhook_secret=settings.STRIPE_WEBHOOK_SECRET
        )
    raise ValueError(PROVIDER_UNKNOWN.format(name=name))
