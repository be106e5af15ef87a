"""Authorization matrix for the ledger's pages and API routes (collected by core's authz test).

The format is documented in ``caseledger/core/tests/test_authz_matrix.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from caseledger.core.choices import Role

VIEW = {Role.ADMIN.value, Role.PARTNER.value, Role.BILLING.value}
MANAGE = {Role.ADMIN.value, Role.PARTNER.value}


def _entry_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.ledger.tests.factories import make_matter
    from caseledger.ledger.tests.helpers import deposit

    entry = deposit(
        matter=make_matter(),
        cents=100,
        now=datetime(2026, 1, 2, tzinfo=UTC),
        day=date(2026, 1, 2),
    )
    return {"entry_id": entry.pk}


def _client_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.ledger.tests.factories import make_client

    return {"client_id": make_client().pk}


MATRIX: dict[str, dict[str, Any]] = {
    "ledger:accounts": {"allow": VIEW, "kwargs": {}},
    "ledger:trust_bank_create": {
        "allow": MANAGE,
        "method": "POST",
        "data": lambda ctx: {
            "name": f"IOLTA reserve ({getattr(ctx.user, 'username', 'anonymous')})",
            "bank_name": "First Republic",
            "account_number_last4": "4321",
            "code": "",
        },
    },
    "ledger:account_ledger": {"allow": VIEW, "kwargs": {"code": "1010"}},
    "ledger:account_toggle": {"allow": MANAGE, "kwargs": {"code": "5300"}, "method": "POST"},
    "ledger:trial_balance": {"allow": VIEW, "kwargs": {}},
    "ledger:entry_detail": {"allow": VIEW, "kwargs": _entry_kwargs},
    "ledger:trust_ledgers": {"allow": VIEW, "kwargs": {}},
    "ledger:client_trust_ledger": {"allow": VIEW, "kwargs": _client_kwargs},
    "GET /api/v1/ledger/accounts": {"allow": VIEW},
    "GET /api/v1/ledger/trial-balance": {"allow": VIEW},
    "GET /api/v1/ledger/entries/{entry_id}": {"allow": VIEW, "kwargs": _entry_kwargs},
}
