"""Client capabilities, object scopes and menu entries."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

CAPABILITIES = {
    "clients.view": {
        Role.ADMIN,
        Role.PARTNER,
        Role.ATTORNEY,
        Role.PARALEGAL,
        Role.BILLING,
        Role.OPERATIONS,
    },
    "clients.manage": {
        Role.ADMIN,
        Role.PARTNER,
        Role.ATTORNEY,
        Role.PARALEGAL,
        Role.BILLING,
        Role.OPERATIONS,
    },
    # See A-numbers, passports, dates of birth, SSN/ITIN in clear (each reveal is audited).
    "clients.reveal_pii": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY},
}


def _client_scope(user: Any, client: Any) -> bool:
    from caseledger.clients.selectors import client_scope

    return client_scope(user, client)


def _beneficiary_scope(user: Any, beneficiary: Any) -> bool:
    from caseledger.clients.selectors import beneficiary_scope

    return beneficiary_scope(user, beneficiary)


OBJECT_SCOPES = {
    "clients.client": _client_scope,
    "clients.beneficiary": _beneficiary_scope,
}

NAVIGATION = [("Clients", "clients:list", "clients.view")]
