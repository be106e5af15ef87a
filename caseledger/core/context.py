"""Request context set by middleware: the client IP and the request id (read by core.audit and
the JSON log lines), the firm's currency (read by the money template filters, so a page reads
the firm once), and the reading request's memo of reads a page makes more than once."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)
current_currency: ContextVar[str | None] = ContextVar("current_currency", default=None)
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")
# Set by RequestMemoMiddleware for a reading request (GET, HEAD) only, so a request that
# writes never gets a figure read before its write; None outside a request (jobs, commands).
request_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("request_memo", default=None)


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per reading request for ``key`` (e.g. the trust totals that the home
    page's trust panel and its "waiting on you" list both show), and every time outside one.
    ``key`` names the read and everything it depends on (the user, the date). Nothing is kept
    past the request: the next one reads the current state."""
    memo = request_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]
