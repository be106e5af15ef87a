"""The demo banner: with the sandbox payment provider allowed for a demonstration
(``CASELEDGER_DEMO_SANDBOX_PAYMENTS``), every page says that card payments are simulated."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

DEMO_BANNER = "Demo: card payments are simulated"


def demo_banner(request: HttpRequest) -> dict[str, Any]:
    shown = settings.PAYMENT_PROVIDER == "sandbox" and getattr(
        settings, "DEMO_SANDBOX_PAYMENTS", False
    )
    return {"demo_banner": DEMO_BANNER if shown else ""}
