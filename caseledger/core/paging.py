"""Paging helpers for the list pages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from django.core.paginator import Paginator

T = TypeVar("T")


class SqlRows(Sequence[T]):
    """An ordered list read from SQL a slice at a time, which Django's ``Paginator`` and
    ``api.pagination.paginate`` take as they take a QuerySet: a subclass gives ``__len__`` and
    ``_fetch(limit, offset)`` (the rows ``[offset:offset + limit]``, every row from ``offset``
    when ``limit`` is None); an index is a one-row slice, iterating reads every row. No
    negative index and no step: the pages never ask for them."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _fetch(self, limit: int | None, offset: int) -> list[T]:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        name = type(self).__name__
        if isinstance(index, int):
            if index < 0:
                raise IndexError(f"{name} takes no negative index")
            rows = self._fetch(1, index)
            if not rows:
                raise IndexError(index)
            return rows[0]
        if index.step not in (None, 1):
            raise TypeError(f"{name} takes a slice [start:stop]")
        start = max(index.start or 0, 0)
        if index.stop is None:
            return self._fetch(None, start)
        return self._fetch(max(index.stop - start, 0), start)

    def __iter__(self) -> Iterator[T]:
        return iter(self._fetch(None, 0))


class CountedPaginator(Paginator):
    """A ``Paginator`` told the number of rows (a list whose totals query already counted them
    in SQL), so it does not COUNT the filtered rows a second time."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # the cached_property's slot


@dataclass(frozen=True)
class PeekPage:
    """One page of an ordered list read without counting the list: ``object_list`` holds the
    page's rows, ``has_next`` whether a row follows them. ``start`` / ``end`` are the 1-based
    positions of the first and last row shown (0 / 0 on an empty page)."""

    object_list: list[Any]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)


def peek_page(rows: Any, per_page: int, number: str | None) -> PeekPage:
    """Page ``number`` (1-based; anything else is page 1) of ``rows`` (an ordered queryset):
    one query of ``per_page + 1`` rows from the page's offset, the extra row only telling that
    a next page exists, so the cost does not grow with the rows after the page (no COUNT over
    them all). A page past the end falls back to page 1 (one more query, in that case only)."""
    n = int(number) if number and number.isdigit() and int(number) >= 1 else 1
    offset = (n - 1) * per_page
    got = list(rows[offset : offset + per_page + 1])
    if not got and n > 1:
        n, got = 1, list(rows[: per_page + 1])
    return PeekPage(
        object_list=got[:per_page], number=n, per_page=per_page, has_next=len(got) > per_page
    )
