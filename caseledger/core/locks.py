"""Every row lock of the core app through the ORM (the audit chain head is locked in raw SQL by
``audit``, on the hot path of every audited write). None of them is held with a money lock."""

from __future__ import annotations

from caseledger.core.models import ApiToken, Firm, User


def firm_lock(*, firm_id: int) -> Firm:
    return Firm.objects.select_for_update().get(id=firm_id)


def user_lock(*, user_id: int) -> User:
    return User.objects.select_for_update().get(pk=user_id)


def api_token_lock(*, token_id: int) -> ApiToken:
    return ApiToken.objects.select_for_update().get(pk=token_id)
