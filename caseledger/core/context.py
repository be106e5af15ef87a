"""Request context (client IP) for the audit log, set by middleware, read by core.audit."""

from __future__ import annotations

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)
