""" "What is waiting on me": items contributed by the apps, one page per person.

Each app lists its sources in ``caseledger/<app>/waiting.py``::

    SOURCES = [
        WaitingSource(
            key="credits.credit_notes",
            title="Credit notes to approve",
            capability="credits.approve",     # only roles holding it see the source
            items=credit_notes_waiting,       # fn(user, now) -> list[WaitingItem]
            order=30,
        ),
    ]

An item says what waits, since when (its age orders the page, oldest first) and links to the
page where it is resolved. ``items`` reads through selectors, respects the user's matter scope
and returns at most ``LIMIT`` items (``count`` is the full number).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache, cached_property
from typing import Any

from django.apps import apps as django_apps
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from caseledger.core.permissions import authorize

LIMIT = 50  # items per source on the page


@dataclass(frozen=True)
class WaitingItem:
    title: str
    url: str
    since: datetime | date
    detail: str = ""

    @property
    def since_at(self) -> datetime:
        if isinstance(self.since, datetime):
            return self.since
        return timezone.make_aware(datetime.combine(self.since, time.min))


class WaitingBatch:
    """A source's items (at most ``LIMIT``, oldest first) and how many there are in all, when
    ``items`` was cut at ``LIMIT``. Each is given, or a function that reads it when first asked
    for: the home page's panel shows the counts only, so it builds no item (``batch_of``: one
    COUNT per source)."""

    def __init__(
        self,
        items: list[WaitingItem] | Callable[[], list[WaitingItem]],
        count: int | Callable[[], int],
        counted: QuerySet[Any] | None = None,
    ) -> None:
        self._items = items
        self._count = count
        # The rows ``count`` counts, when they are a queryset (``batch_of``): ``counts_read``
        # then reads several batches' counts in one statement.
        self.counted = counted

    @cached_property
    def items(self) -> list[WaitingItem]:
        return self._items() if callable(self._items) else self._items

    @cached_property
    def count(self) -> int:
        return self._count() if callable(self._count) else self._count

    def items_read(self) -> bool:
        return "items" in self.__dict__


WaitingItems = Callable[[Any, datetime], WaitingBatch]


@dataclass(frozen=True)
class WaitingSource:
    key: str
    title: str
    capability: str
    items: WaitingItems
    order: int = 100


@cache
def waiting_sources() -> tuple[WaitingSource, ...]:
    sources: list[WaitingSource] = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("caseledger."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.waiting")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.waiting":
                raise
            continue
        sources.extend(getattr(module, "SOURCES", []))
    keys = [s.key for s in sources]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise RuntimeError(f"waiting source key(s) declared twice: {duplicates}")
    return tuple(sorted(sources, key=lambda s: (s.order, s.key)))


@dataclass(frozen=True)
class WaitingGroup:
    source: WaitingSource
    batch: WaitingBatch


@dataclass(frozen=True)
class WaitingRow:
    source: WaitingSource
    item: WaitingItem


def waiting_for(user: Any, now: datetime) -> list[WaitingGroup]:
    """Every source the user's role may see, with its items (empty sources included)."""
    return [
        WaitingGroup(source, source.items(user, now))
        for source in waiting_sources()
        if authorize(user, source.capability)
    ]


def waiting_rows(groups: list[WaitingGroup]) -> list[WaitingRow]:
    """All items of ``groups``, oldest first (then by source order and title)."""
    rows = [WaitingRow(g.source, item) for g in groups for item in g.batch.items]
    return sorted(rows, key=lambda r: (r.item.since_at, r.source.order, r.item.title))


def batch_of(qs: Any, make_item: Callable[[Any], WaitingItem]) -> WaitingBatch:
    """The first ``LIMIT`` rows of ``qs`` as items, and how many there are in all, each read
    when first asked for (the count from the rows when they were read and fewer than
    ``LIMIT``, else one COUNT)."""
    rows: list[Any] = []

    def items() -> list[WaitingItem]:
        rows.extend(qs[:LIMIT])
        return [make_item(r) for r in rows]

    def count() -> int:
        return len(rows) if batch.items_read() and len(rows) < LIMIT else int(qs.count())

    batch = WaitingBatch(items, count, counted=qs)
    return batch


def counts_read(batches: list[WaitingBatch]) -> None:
    """Read the counts not read yet of the batches that count a queryset, in one statement
    (per database) instead of one COUNT each: the home panel shows every source's count. Each
    is the number of rows its queryset gives, as ``count()`` reads it."""
    pending: dict[str, list[tuple[WaitingBatch, QuerySet[Any]]]] = {}
    for batch in batches:
        if batch.counted is not None and "count" not in batch.__dict__ and not batch.items_read():
            pending.setdefault(batch.counted.db, []).append((batch, batch.counted))
    for alias, group in pending.items():
        parts: list[str] = []
        params: list[Any] = []
        for i, (batch, qs) in enumerate(group):
            rows = qs.order_by().select_related(None)
            if rows.query.group_by is None and not rows.query.distinct:
                rows = rows.values("pk")  # the count needs no column; a grouped one its groups
            try:
                sql, sql_params = rows.query.get_compiler(using=alias).as_sql()
            except EmptyResultSet:  # e.g. a filter on an empty list: no statement needed
                batch.__dict__["count"] = 0
                continue
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) waiting_{i})")
            params.extend(sql_params)
        if not parts:
            continue
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = cursor.fetchone()
        unread = [batch for batch, _ in group if "count" not in batch.__dict__]
        for batch, n in zip(unread, row, strict=True):
            batch.__dict__["count"] = int(n)
