"""Every row lock of the collections app. Disputes and holds are taken on their own (no money
lock is held with them)."""

from __future__ import annotations

from caseledger.collections.models import (
    ARAgingBuckets,
    ARAgingOpen,
    CollectionHold,
    InvoiceDispute,
)


def dispute_lock(*, dispute_id: int) -> InvoiceDispute:
    return InvoiceDispute.objects.select_for_update().get(pk=dispute_id)


def hold_lock(*, hold_id: int) -> CollectionHold:
    return CollectionHold.objects.select_for_update().get(pk=hold_id)


def aging_open_table_lock() -> None:
    """PostgreSQL: lock the open-A/R table (``ARAgingOpen``) and then the buckets table
    (``ARAgingBuckets``) against the posting listener's upserts until the transaction ends
    (their set-based rebuilds); SQLite: nothing (one writer). The listener writes them in the
    same order (open rows, then buckets), so a rebuild and a posting never wait on each other
    in a cycle: a posting that changed open rows is waited for, one that has not waits."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for model in (ARAgingOpen, ARAgingBuckets):
                cur.execute(f"LOCK TABLE {model._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
