"""Paging helpers for the list pages."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator


class CountedPaginator(Paginator):
    """A ``Paginator`` told the number of rows (a list whose totals query already counted them
    in SQL), so it does not COUNT the filtered rows a second time."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # the cached_property's slot
