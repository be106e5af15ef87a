"""Log lines as JSON (one object per line) carrying the request id.

``LOG_FORMAT=json`` (the default with ``CASELEDGER_ENV=production``) formats every record as
``{"ts", "level", "logger", "message", "request_id", ...}`` plus the fields a caller passed in
``extra`` (the access line's method, route, status, duration_ms) and the traceback when there is
one. The request id is the one ``core.observability`` set for the request (or the job run), so
a log line, the response's ``X-Request-ID`` and the audit events of that request match.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

from caseledger.core.context import current_request_id

# Attributes every LogRecord has: anything else on a record came from ``extra``.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    """Give every record the current request id (an ``extra`` one wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or current_request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(data, default=str, ensure_ascii=False)
