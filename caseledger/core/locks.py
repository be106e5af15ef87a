"""Every row lock of the core app. The audit chain head is taken last, inside whatever the audited
write holds (every audited write takes it); the others are held with no money lock."""

from __future__ import annotations

from typing import Any

from django.db import connection, models

from caseledger.core.models import ApiToken, AuditChainHead, Firm, User


def firm_lock(*, firm_id: int) -> Firm:
    return Firm.objects.select_for_update().get(id=firm_id)


def user_lock(*, user_id: int) -> User:
    return User.objects.select_for_update().get(pk=user_id)


def api_token_lock(*, token_id: int) -> ApiToken:
    return ApiToken.objects.select_for_update().get(pk=token_id)


def audit_chain_head_lock(*, genesis: str) -> str:
    """Lock the audit chain head row (creating it on first use with ``genesis``) and return the
    last event's hash.

    Raw SQL, like the two writes in ``audit._append``: every audited write in the system runs
    these, and the ORM's query building cost more than the queries themselves.
    """
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cur:
        cur.execute(f"SELECT last_hash FROM {AuditChainHead._meta.db_table} WHERE id = 1{lock}")
        row = cur.fetchone()
        if row is not None:
            return str(row[0])
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        id=1, defaults={"last_hash": genesis}
    )
    return head.last_hash


def rows_after_lock(*, model: type[models.Model], after_pk: Any, size: int) -> list[Any]:
    """The next ``size`` rows of ``model`` after primary key ``after_pk``, in key order, locked
    (``rotate_field_keys`` re-encrypts a table batch by batch)."""
    return list(
        model._default_manager.select_for_update().filter(pk__gt=after_pk).order_by("pk")[:size]
    )
