"""Matter capabilities and the object scope that limits attorneys and paralegals to their team."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

CAPABILITIES = {
    "matters.view": {
        Role.ADMIN,
        Role.PARTNER,
        Role.ATTORNEY,
        Role.PARALEGAL,
        Role.BILLING,
        Role.OPERATIONS,
    },
}


def matter_scope(user: Any, matter: Any) -> bool:
    from caseledger.core.models import Firm

    if user.role == Role.CLIENT:
        return matter.client.portal_users.filter(pk=user.pk).exists()
    if user.role in {Role.ATTORNEY, Role.PARALEGAL}:
        if user.pk in {matter.attorney_id, matter.paralegal_id, matter.responsible_partner_id}:
            return True
        return Firm.objects.filter(id=1, matters_open_to_all=True).exists()
    return False


OBJECT_SCOPES = {"matters.matter": matter_scope}
