"""Request context set by middleware: the client IP and the request id (read by core.audit and
the JSON log lines), and the firm's currency (read by the money template filters, so a page
reads the firm once)."""

from __future__ import annotations

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)
current_currency: ContextVar[str | None] = ContextVar("current_currency", default=None)
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")
