"""Trust capabilities. Attorneys and paralegals see the trust of their own matters (the matter
scope of the matters app); only lawyers approve disbursements."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

CAPABILITIES = {
    "trust.view": {
        Role.ADMIN,
        Role.PARTNER,
        Role.ATTORNEY,
        Role.PARALEGAL,
        Role.BILLING,
        Role.OPERATIONS,
    },
    "trust.deposit": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "trust.request": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.BILLING},
    "trust.apply": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "trust.dispute": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.BILLING},
    "trust.disburse.request": {
        Role.ADMIN,
        Role.PARTNER,
        Role.ATTORNEY,
        Role.PARALEGAL,
        Role.BILLING,
    },
    "trust.disburse.approve": {Role.PARTNER, Role.ATTORNEY},
    "trust.disburse.post": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.BILLING},
    "trust.settings": {Role.ADMIN, Role.PARTNER},
    # Approve the reversal of a posted deposit above the firm's threshold (never one's own).
    "trust.reverse.approve": {Role.PARTNER},
    "trust.receipt": {
        Role.ADMIN,
        Role.PARTNER,
        Role.ATTORNEY,
        Role.PARALEGAL,
        Role.BILLING,
        Role.OPERATIONS,
        Role.CLIENT,
    },
}


def _matter_scope(user: Any, matter: Any) -> bool:
    from caseledger.core.permissions import OBJECT_SCOPES

    scope = OBJECT_SCOPES.get("matters.matter")
    return bool(scope and scope(user, matter))


def _via_matter(user: Any, obj: Any) -> bool:
    return _matter_scope(user, obj.matter)


OBJECT_SCOPES = {
    "trust.trustdeposit": _via_matter,
    "trust.trustrequest": _via_matter,
    "trust.disbursement": _via_matter,
    "trust.disputehold": _via_matter,
    "trust.depositreversal": _via_matter,
}

NAVIGATION = [
    ("Trust", "trust:dashboard", "trust.view"),
    ("Trust requests", "trust:requests", "trust.view"),
    ("Disbursements", "trust:disbursements", "trust.view"),
]
