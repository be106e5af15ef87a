"""Filtering grouped reads by many ids.

A page asks for the figures of its few matters; a total asks for those of every matter in a
scope, thousands of them. ``WHERE matter_id IN (...)`` with thousands of literals costs more to
send, parse and plan than reading the grouped sums of the whole table, when that table holds
one row per movement of the matters in question (trust deposits, holds, thresholds, the trust
liability's postings). ``only_ids`` keeps the IN list short and drops it when it is not."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from django.db.models import Model, QuerySet

IN_LIST_MAX = 500

M = TypeVar("M", bound=Model)


def only_ids(qs: QuerySet[M], field: str, ids: Collection[int]) -> QuerySet[M]:
    """``qs`` filtered to ``field`` in ``ids`` when they are at most ``IN_LIST_MAX``; otherwise
    ``qs`` itself (the caller picks its ids from the grouped result)."""
    if len(ids) > IN_LIST_MAX:
        return qs
    return qs.filter(**{f"{field}__in": ids})
