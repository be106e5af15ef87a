"""``Idempotency-Key`` for POST routes, implemented once.

    return idempotent(request, perform=lambda: (201, data))

Same user + key + body: the first response is replayed (status and body). Same key, another
body: 409. No header: ``perform`` just runs. The key row is inserted BEFORE the write, inside the
same transaction, so a concurrent retry waits on the unique index and then replays (PostgreSQL)
or is serialized by the IMMEDIATE transaction (SQLite); a write that fails rolls back its row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from caseledger.api.models import IdempotentRequest
from caseledger.core import clock

HEADER = "Idempotency-Key"
KEY_TOO_LONG = "Idempotency-Key: at most 200 characters"
KEY_REUSED = "Idempotency-Key: already used with a different request body"
KEY_IN_FLIGHT = "Idempotency-Key: the first request with this key is still running"


def _json_response(status: int, body: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


def _error(status: int, code: str, message: str) -> HttpResponse:
    body = json.dumps({"error": {"code": code, "message": message, "field": HEADER}})
    return _json_response(status, body)


def body_hash(request: HttpRequest) -> str:
    raw = request.body or b""
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = raw
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\0" + request.path.encode() + b"\0")
    digest.update(canonical)
    return digest.hexdigest()


def _replay(row: IdempotentRequest, digest: str) -> HttpResponse:
    if row.body_hash != digest:
        return _error(409, "idempotency_conflict", KEY_REUSED)
    if row.status_code == 0:
        return _error(409, "idempotency_in_flight", KEY_IN_FLIGHT)
    response = _json_response(row.status_code, row.response_body)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(
    request: HttpRequest, *, user: Any, perform: Callable[[], tuple[int, Any]]
) -> HttpResponse:
    """Run ``perform`` (returning (status, JSON-able body)) at most once per user and key."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        status, data = perform()
        return _json_response(status, json.dumps(data, cls=DjangoJSONEncoder))
    if len(key) > 200:
        return _error(422, "invalid", KEY_TOO_LONG)
    digest = body_hash(request)
    existing = IdempotentRequest.objects.filter(user=user, key=key).first()
    if existing is not None:
        return _replay(existing, digest)
    try:
        with transaction.atomic():
            row = IdempotentRequest.objects.create(
                user=user,
                key=key,
                method=request.method or "",
                path=request.path[:300],
                body_hash=digest,
                created_at=clock.now(),
            )
            status, data = perform()
            body = json.dumps(data, cls=DjangoJSONEncoder)
            if status >= 400:
                # Refusals are not remembered: the caller may fix the input and retry the key.
                transaction.set_rollback(True)
                return _json_response(status, body)
            IdempotentRequest.objects.filter(pk=row.pk).update(
                status_code=status, response_body=body
            )
    except IntegrityError:
        # A concurrent request with the same key committed first: replay its response.
        first = IdempotentRequest.objects.filter(user=user, key=key).first()
        if first is None:
            raise
        return _replay(first, digest)
    return _json_response(status, body)
