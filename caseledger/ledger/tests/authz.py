"""Authorization matrix for the ledger's pages and API routes (collected by core's authz test).

Format: ``MATRIX = {url_name: {"allow": {roles}, "kwargs": dict | callable}}``; every role not
in ``allow`` must be refused. ``kwargs`` callables take no arguments and create what the URL
needs (they run inside the test's database transaction).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from caseledger.core.choices import Role

VIEW = {Role.ADMIN, Role.PARTNER, Role.BILLING}
MANAGE = {Role.ADMIN, Role.PARTNER}


def _entry_kwargs() -> dict[str, Any]:
    from caseledger.ledger.tests.factories import make_matter
    from caseledger.ledger.tests.helpers import deposit

    entry = deposit(
        matter=make_matter(),
        cents=100,
        now=datetime(2026, 1, 2, tzinfo=UTC),
        day=date(2026, 1, 2),
    )
    return {"entry_id": entry.pk}


def _client_kwargs() -> dict[str, Any]:
    from caseledger.ledger.tests.factories import make_client

    return {"client_id": make_client().pk}


MATRIX: dict[str, dict[str, Any]] = {
    "ledger:accounts": {"allow": VIEW, "kwargs": {}},
    "ledger:trust_bank_create": {"allow": MANAGE, "kwargs": {}, "method": "post"},
    "ledger:account_ledger": {"allow": VIEW, "kwargs": {"code": "1010"}},
    "ledger:account_toggle": {"allow": MANAGE, "kwargs": {"code": "5300"}, "method": "post"},
    "ledger:trial_balance": {"allow": VIEW, "kwargs": {}},
    "ledger:entry_detail": {"allow": VIEW, "kwargs": _entry_kwargs},
    "ledger:trust_ledgers": {"allow": VIEW, "kwargs": {}},
    "ledger:client_trust_ledger": {"allow": VIEW, "kwargs": _client_kwargs},
    "api:ledger_accounts": {"allow": VIEW, "kwargs": {}},
    "api:ledger_trial_balance": {"allow": VIEW, "kwargs": {}},
    "api:ledger_entry_detail": {"allow": VIEW, "kwargs": _entry_kwargs},
}
