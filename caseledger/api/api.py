"""The REST API under /api/v1 (django-ninja). Each app contributes a router in
``caseledger/api/<app>.py`` registered below; every route calls ``core.permissions.require``.

Authentication: ``Authorization: Bearer <personal token>`` or the browser session (after its
two-factor step). Errors are JSON ``{"error": {"code", "message", "field"}}``, never a stack
trace, whatever DEBUG says:

- 400 the body is not JSON (or not the multipart form the route takes);
- 401 no valid token or session; 403 the role or the object scope refuses;
- 404 no such object (or route);
- 409 a well-formed request the firm's records refuse: a service's ``ApplicationError`` (a state
  transition, a balance, a duplicate, a link between records), or an ``Idempotency-Key`` reused
  with another request;
- 422 the request breaks the operation's schema (type, length, pattern, range, allowed values):
  pydantic's check, before any service runs.

Every operation documents these answers with the ``Error`` schema (``_document_errors``), and
every POST honours ``Idempotency-Key`` (``caseledger/api/idempotency.py``), applied here to every
bound POST operation (``_make_posts_idempotent``)."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import Operation
from ninja.parser import Parser

from caseledger.api import idempotency
from caseledger.api.auth import TokenAuth, VerifiedSessionAuth
from caseledger.api.types import NO_NUL, NO_NUL_MESSAGE, NOT_UNICODE_MESSAGE
from caseledger.core.exceptions import ApplicationError, NotPermitted
from caseledger.core.permissions import require

logger = logging.getLogger("caseledger.api")

ERROR_STATUSES = {
    400: "The body is not JSON, or not the form the route takes.",
    401: "No valid token or session.",
    403: "The role or the object's scope refuses the action.",
    404: "No such object.",
    409: "A well-formed request that the firm's records refuse (the message names the field), "
    "or an Idempotency-Key reused with another request.",
    422: "The request breaks the schema: a field's type, length, pattern, range or allowed "
    "values (the message and `field` name it).",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
        }
    },
}
IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "description": (
        "Any string (visible ASCII, no spaces, at most 200 characters) unique to this write. "
        "A retry with "
        "the same key and body gets the first answer again (header Idempotent-Replayed: true); "
        "the same key with another body is refused (409)."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.MAX_KEY_LENGTH,
        "pattern": idempotency.KEY_PATTERN,
    },
}


BODY_NOT_OBJECT = "the body must be a JSON object"


class ObjectParser(Parser):
    """JSON bodies are objects: every route's body schema is one (a list or a bare value is a
    400, not fields left at their defaults)."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError(BODY_NOT_OBJECT)
        return data


class CaseLedgerAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        _document_errors(schema)
        return schema


def _document_errors(schema: Any) -> None:
    """Every operation lists 400, 401, 403, 404, 409 and 422 with the Error body; every POST
    takes the optional Idempotency-Key header."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                }
            if method == "post":
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == idempotency.HEADER for p in params):
                    params.append(IDEMPOTENCY_PARAMETER)


api = CaseLedgerAPI(
    title="CaseLedger API",
    version="1",
    urls_namespace="api",
    description=(
        "Billing, trust accounting and collections for immigration law firms. Authenticate "
        "with a personal API token from your profile page: `Authorization: Bearer <token>`."
    ),
    auth=[TokenAuth(), VerifiedSessionAuth()],
    parser=ObjectParser(),
)

UNAUTHENTICATED = "Authentication required: send Authorization: Bearer <token>."
SERVER_ERROR = "Internal error; it was logged. Try again or contact the firm."


def _error(
    request: HttpRequest, status: int, code: str, message: str, field: str | None
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message, "field": field}}, status=status
    )


@api.exception_handler(NotPermitted)
def _forbidden(request: HttpRequest, exc: NotPermitted) -> HttpResponse:
    return _error(request, 403, exc.code, exc.message, exc.field)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    # The input passed the schema (422 otherwise): the firm's records refuse it.
    return _error(request, 409, exc.code, exc.message, exc.field)


# The top-level names of ninja's parameter models, not field names.
_LOC_SOURCES = {"body", "query", "path", "payload", "header", "form", "file", "cookie"}


def _validation_message(error: dict[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    if error.get("type") == "string_pattern_mismatch" and ctx.get("pattern") == NO_NUL:
        return NO_NUL_MESSAGE
    if error.get("type") == "string_unicode":
        return NOT_UNICODE_MESSAGE
    if error.get("type") == "missing":
        return "required"
    return str(error.get("msg", "invalid"))


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", []) if p not in _LOC_SOURCES]
    field = ".".join(loc) or None
    text = _validation_message(first)
    message = f"{field}: {text}" if field else text
    return _error(request, 422, "invalid", message, field)


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return _error(request, 400, "bad_request", f"Cannot parse the multipart body: {exc}", None)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", UNAUTHENTICATED, None)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(exc) or "Not found.", None)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "bad_request" if exc.status_code == 400 else "http_error"
    return _error(request, exc.status_code, code, str(exc), None)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged with the traceback for the operator; the caller gets one sentence.
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return _error(request, 500, "server_error", SERVER_ERROR, None)


class MeOut(Schema):
    id: int
    username: str
    name: str
    email: str
    role: str
    role_label: str
    firm: str
    two_factor: bool


@api.get("/me", response=MeOut, tags=["identity"], summary="The caller's user and role")
def me(request: HttpRequest) -> MeOut:
    from caseledger.core.selectors import firm_get, totp_device_confirmed

    user = request.user
    require(user, "api.access")
    return MeOut(
        id=int(user.pk or 0),
        username=user.get_username(),
        name=user.get_full_name(),  # type: ignore[union-attr]
        email=user.email,  # type: ignore[union-attr]
        role=user.role,  # type: ignore[union-attr]
        role_label=user.get_role_display(),  # type: ignore[union-attr]
        firm=firm_get().name,
        two_factor=totp_device_confirmed(user) is not None,
    )


def _register_routers() -> None:
    from caseledger.api.banking import router as banking_router
    from caseledger.api.billing import router as billing_router
    from caseledger.api.clients import router as clients_router
    from caseledger.api.collections import router as collections_router
    from caseledger.api.ledger import router as ledger_router
    from caseledger.api.matters import router as matters_router
    from caseledger.api.payments import router as payments_router
    from caseledger.api.portal import router as portal_router
    from caseledger.api.reports import router as reports_router
    from caseledger.api.trust import router as trust_router

    api.add_router("", clients_router)
    api.add_router("", matters_router)
    api.add_router("/collections", collections_router)
    api.add_router("/ledger", ledger_router)
    api.add_router("/billing", billing_router)
    api.add_router("/payments", payments_router)
    api.add_router("/trust", trust_router)
    api.add_router("/banking", banking_router)
    api.add_router("/reports", reports_router)
    api.add_router("/portal", portal_router)


def bound_operations() -> list[tuple[str, Operation]]:
    """(path, operation) of every operation the API serves (the bound copies ninja runs)."""
    found = []
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                found.append((bound.prefix.rstrip("/") + path, operation))
    return found


def _to_response(operation: Operation) -> Any:
    def convert(request: HttpRequest, result: Any) -> HttpResponseBase:
        temporal = operation.api.create_temporal_response(request)
        return operation._result_to_response(request, result, temporal)

    return convert


def _make_posts_idempotent() -> None:
    for _, operation in bound_operations():
        if "POST" in operation.methods and not getattr(
            operation.view_func, idempotency.MARK, False
        ):
            operation.view_func = idempotency.idempotent_view(
                operation.view_func, _to_response(operation)
            )


_register_routers()
_make_posts_idempotent()
