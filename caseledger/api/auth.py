"""API authentication: personal tokens (``Authorization: Bearer <token>``) for programs, and
the browser session for pages that call the API. Authorization is separate: every route then
calls ``core.permissions.require``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from caseledger.core import clock
from caseledger.core.middleware import two_factor_owed
from caseledger.core.services import api_token_authenticate


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = api_token_authenticate(secret=token, now=clock.now())
        if user is not None:
            # Routes and services read request.user, as they do for pages.
            request.user = user
        return user


class VerifiedSessionAuth(SessionAuth):
    """The Django session, but only once the login's two-factor step is complete (CSRF is
    checked on unsafe methods, as for forms)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        user = request.user
        if not user.is_authenticated or not user.is_active or two_factor_owed(request):
            return None
        return user
