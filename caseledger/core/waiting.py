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
from functools import cache
from typing import Any

from django.apps import apps as django_apps
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


@dataclass(frozen=True)
class WaitingBatch:
    items: list[WaitingItem]
    count: int  # all of them, when ``items`` was cut at LIMIT


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
    """The first ``LIMIT`` rows of ``qs`` as items, and how many there are in all."""
    rows = list(qs[:LIMIT])
    count = len(rows) if len(rows) < LIMIT else qs.count()
    return WaitingBatch(items=[make_item(r) for r in rows], count=count)
