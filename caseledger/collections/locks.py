"""Every row lock of the collections app. Disputes and holds are taken on their own (no money
lock is held with them)."""

from __future__ import annotations

from caseledger.collections.models import CollectionHold, InvoiceDispute


def dispute_lock(*, dispute_id: int) -> InvoiceDispute:
    return InvoiceDispute.objects.select_for_update().get(pk=dispute_id)


def hold_lock(*, hold_id: int) -> CollectionHold:
    return CollectionHold.objects.select_for_update().get(pk=hold_id)
