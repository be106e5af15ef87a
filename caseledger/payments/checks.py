"""System checks of the payments configuration (``manage.py check --deploy`` and every start)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from caseledger.config import sandbox_problem


@register()
def sandbox_in_production(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """payments.E001: the sandbox provider (its pay page marks anything paid for whoever holds
    the link) in production, unless CASELEDGER_DEMO_SANDBOX_PAYMENTS allows it."""
    problem = sandbox_problem(
        provider=settings.PAYMENT_PROVIDER,
        production=getattr(settings, "PRODUCTION", False),
        demo_sandbox=getattr(settings, "DEMO_SANDBOX_PAYMENTS", False),
    )
    if not problem:
        return []
    return [
        Error(
            problem,
            hint="PAYMENT_PROVIDER=stripe, or CASELEDGER_DEMO_SANDBOX_PAYMENTS=true for a demo.",
            id="payments.E001",
        )
    ]
