from __future__ import annotations

from caseledger.billing.db import install_sqlite_flush_guard

install_sqlite_flush_guard()

from typing import Any  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def world(users: dict[str, Any], settings: Any) -> Any:
    from caseledger.billing.tests.factories import build_world

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return build_world(users)
