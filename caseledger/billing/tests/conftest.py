from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def world(users: dict[str, Any], settings: Any) -> Any:
    from caseledger.billing.tests.factories import build_world

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return build_world(users)
