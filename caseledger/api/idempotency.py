"""``Idempotency-Key`` for every POST route, implemented once.

``api.api`` wraps the view of every bound POST operation with ``idempotent_view`` (routes do
nothing themselves; ``caseledger/api/tests/test_idempotency.py`` fails for a POST route left
out). The wrapper runs after authentication and input validation, so it knows the user:

Same user + key + body: the first response is replayed (status and body, with the header
``Idempotent-Replayed: true``). Same key, another body (or another route): 409. No header: the
view just runs. The key row is inserted BEFORE the write, inside the same transaction, so a
concurrent retry waits on the unique index and then replays (PostgreSQL) or is serialized by the
IMMEDIATE transaction (SQLite); a write that fails rolls back its row, and refusals (4xx) are not
remembered: the caller may fix the input and retry with the same key.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, RawPostDataException
from django.http.response import HttpResponseBase

from caseledger.api.models import IdempotentRequest
from caseledger.core import clock

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
KEY_TOO_LONG = f"Idempotency-Key: at most {MAX_KEY_LENGTH} characters"
KEY_NOT_PRINTABLE = "Idempotency-Key: visible ASCII characters only (no spaces)"
KEY_PATTERN = "^[!-~]+$"
KEY_REUSED = "Idempotency-Key: already used with a different request (method, path or body)"
KEY_IN_FLIGHT = "Idempotency-Key: the first request with this key is still running"
REPLAYED_HEADER = "Idempotent-Replayed"

# Marks a wrapped view (the coverage test looks for it on every POST operation).
MARK = "_caseledger_idempotent"


def _json_response(status: int, body: bytes | str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


def _error(status: int, code: str, message: str) -> HttpResponse:
    body = json.dumps({"error": {"code": code, "message": message, "field": HEADER}})
    return _json_response(status, body)


def _canonical_query(request: HttpRequest) -> bytes:
    return json.dumps(sorted(request.GET.lists()), separators=(",", ":")).encode()


def _canonical_body(request: HttpRequest) -> bytes:
    """The JSON body with sorted keys; for a multipart upload (read already by the parser), the
    form fields and each file's name and SHA-256 (the boundary differs on every send)."""
    try:
        raw = request.body or b""
    except RawPostDataException:
        raw = None
    if raw is None:
        files = []
        for name, uploads in sorted(request.FILES.lists()):
            for upload in uploads:
                digest = hashlib.sha256()
                upload.seek(0)
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
                files.append([name, upload.name, digest.hexdigest()])
        form = sorted(request.POST.lists())
        return json.dumps([form, files], separators=(",", ":")).encode()
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return raw


def body_hash(request: HttpRequest) -> str:
    """SHA-256 of method, path, query and canonical body."""
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b"\0" + request.path.encode() + b"\0")
    digest.update(_canonical_query(request) + b"\0")
    digest.update(_canonical_body(request))
    return digest.hexdigest()


def _replay(row: IdempotentRequest, digest: str) -> HttpResponse:
    if row.body_hash != digest:
        return _error(409, "idempotency_conflict", KEY_REUSED)
    if row.status_code == 0:
        return _error(409, "idempotency_in_flight", KEY_IN_FLIGHT)
    response = _json_response(row.status_code, row.response_body)
    response[REPLAYED_HEADER] = "true"
    return response


def _user(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "role", None) else request.user


def idempotent(
    request: HttpRequest, *, user: Any, perform: Callable[[], HttpResponseBase]
) -> HttpResponseBase:
    """Run ``perform`` (returning the final response) at most once per user and key."""
    if HEADER not in request.headers:
        return perform()
    key = request.headers[HEADER]
    if len(key) > MAX_KEY_LENGTH:
        return _error(422, "invalid", KEY_TOO_LONG)
    if not key or not re.fullmatch(KEY_PATTERN, key):
        return _error(422, "invalid", KEY_NOT_PRINTABLE)
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
            response = perform()
            if response.status_code >= 400:
                # Refusals are not remembered: the caller may fix the input and retry the key.
                transaction.set_rollback(True)
                return response
            content = getattr(response, "content", b"")
            IdempotentRequest.objects.filter(pk=row.pk).update(
                status_code=response.status_code, response_body=content.decode()
            )
    except IntegrityError:
        # A concurrent request with the same key committed first: replay its response.
        first = IdempotentRequest.objects.filter(user=user, key=key).first()
        if first is None:
            raise
        return _replay(first, digest)
    return response


def idempotent_view(
    view: Callable[..., Any], to_response: Callable[[HttpRequest, Any], HttpResponseBase]
) -> Callable[..., Any]:
    """``view`` (a ninja operation's view function) under ``idempotent``; ``to_response`` turns
    its result into the response ninja would send (so that response is what gets stored)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if HEADER not in request.headers:
            return view(request, *args, **kwargs)
        return idempotent(
            request,
            user=_user(request),
            perform=lambda: to_response(request, view(request, *args, **kwargs)),
        )

    setattr(wrapped, MARK, True)
    return wrapped
