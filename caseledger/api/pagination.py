"""The one envelope of list responses: ``{"count": N, "next": URL or null, "results": [...]}``.

``count`` is the number of rows matching the filters (all pages); ``next`` the absolute URL of
the following page (the same query with ``offset`` moved on by ``limit``), null on the last
page. A route declares ``response=Page[ItemOut]``, takes ``limit: Limit = DEFAULT_LIMIT`` and
``offset: Offset = 0`` (so a limit outside 1..500 or a negative offset is a 422 naming it) and
returns ``paginate(...)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from caseledger.api.types import DEFAULT_LIMIT, MAX_LIMIT, Limit, Offset

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Limit", "Offset", "Page", "paginate"]

T = TypeVar("T")


class Page(Schema, Generic[T]):
    count: int = Field(description="rows matching the filters, over all pages")
    next: str | None = Field(description="absolute URL of the next page; null on the last page")
    results: list[T]


def paginate(
    request: HttpRequest,
    rows: QuerySet[Any] | Sequence[Any],
    *,
    limit: int,
    offset: int,
    serialize: Callable[[list[Any]], list[Any]],
    count: int | None = None,
) -> dict[str, Any]:
    """One page of ``rows`` as the envelope. ``limit`` is clamped to 1..MAX_LIMIT and
    ``offset`` to >= 0; ``serialize`` turns the page's rows into result items (all at once, so
    it can batch its reads). ``count``: the number of ``rows`` when the caller knows it
    already (a maintained tally), else they are counted."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    if count is None:
        count = rows.count() if isinstance(rows, QuerySet) else len(rows)
    window = list(rows[offset : offset + limit])
    next_url = None
    if offset + limit < count:
        query = request.GET.copy()
        query["offset"] = str(offset + limit)
        query["limit"] = str(limit)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"count": count, "next": next_url, "results": serialize(window)}
