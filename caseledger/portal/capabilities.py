"""Portal capabilities. Clients hold ``portal.view`` and see only their own client's records
(every portal query is filtered by ``Client.portal_users``, so another client's object is a
404); staff invite client users and answer the matter's messages."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

STAFF_REPLY = {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.PARALEGAL, Role.BILLING}

CAPABILITIES = {
    "portal.view": {Role.CLIENT},
    "portal.invite": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.BILLING},
    "portal.reply": STAFF_REPLY,
}


def _message_scope(user: Any, message: Any) -> bool:
    from caseledger.core.permissions import OBJECT_SCOPES

    scope = OBJECT_SCOPES.get("matters.matter")
    return bool(scope and scope(user, message.matter))


OBJECT_SCOPES = {"portal.portalmessage": _message_scope}

NAVIGATION = [("Client portal", "portal:home", "portal.view")]
