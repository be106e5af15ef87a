"""``core.context.memoized``: a read a page makes more than once is computed once per reading
request (GET, HEAD), every time on a writing request and outside a request, and never kept
past its request."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from caseledger.core.context import memoized
from caseledger.core.middleware import RequestMemoMiddleware

pytestmark = pytest.mark.django_db


def _count(calls: list[int]) -> int:
    calls.append(1)
    return len(calls)


def _counting_view(calls: list[int]) -> Any:
    def view(request: HttpRequest) -> HttpResponse:
        seen = [memoized(("read", 1), lambda: _count(calls)) for _ in range(3)]
        return HttpResponse(",".join(map(str, seen)))

    return view


@pytest.mark.parametrize("method", ["get", "head"])
def test_a_reading_request_computes_each_key_once_and_the_next_request_again(method):
    calls: list[int] = []
    middleware = RequestMemoMiddleware(_counting_view(calls))
    first = middleware(getattr(RequestFactory(), method)("/"))
    assert len(calls) == 1
    second = middleware(getattr(RequestFactory(), method)("/"))
    assert len(calls) == 2
    if method == "get":
        assert first.content == b"1,1,1"
        assert second.content == b"2,2,2"


def test_a_writing_request_and_no_request_compute_every_time():
    calls: list[int] = []
    response = RequestMemoMiddleware(_counting_view(calls))(RequestFactory().post("/"))
    assert response.content == b"1,2,3"
    assert [memoized("outside", lambda: _count(calls)) for _ in range(2)] == [4, 5]
