"""Every row lock of the collections app. Disputes and holds are taken on their own (no money
lock is held with them)."""

from __future__ import annotations

from caseledger.collections.models import ARAgingOpen, CollectionHold, InvoiceDispute


def dispute_lock(*, dispute_id: int) -> InvoiceDispute:
    return InvoiceDispute.objects.select_for_update().get(pk=dispute_id)


def hold_lock(*, hold_id: int) -> CollectionHold:
    return CollectionHold.objects.select_for_update().get(pk=hold_id)


def aging_open_table_lock() -> None:
    """PostgreSQL: lock the open-A/R table (``ARAgingOpen``) against the posting listener's
    upserts until the transaction ends (its set-based rebuild); SQLite: nothing (one writer)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"LOCK TABLE {ARAgingOpen._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
