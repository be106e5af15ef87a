"""Authorization matrix entries for the report pages and API (format:
core/tests/test_authz_matrix.py)."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

VIEW = frozenset({Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value, Role.OPERATIONS.value})
BILLING = frozenset({Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value})
ATTORNEY = frozenset({Role.PARTNER.value, Role.ATTORNEY.value})
SETTINGS = frozenset({Role.ADMIN.value, Role.PARTNER.value})

MATRIX: dict[str, dict[str, Any]] = {
    "reports:dashboard": {"allow": VIEW},
    "reports:billing": {"allow": BILLING},
    "reports:operations": {"allow": VIEW},
    "reports:attorney": {"allow": ATTORNEY},
    "reports:drill": {"allow": VIEW, "kwargs": {"kind": "billed"}},
    "reports:cohorts": {"allow": VIEW},
    "reports:settings": {"allow": SETTINGS},
    "reports:subscriptions": {"allow": VIEW},
    "GET /api/v1/reports/kpis": {"allow": VIEW},
}
