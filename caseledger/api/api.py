"""The REST API under /api/v1 (django-ninja). Each app contributes a router in
``caseledger/api/<app>.py`` registered below; every route calls ``core.permissions.require``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from caseledger.core.exceptions import ApplicationError, NotPermitted

api = NinjaAPI(
    title="CaseLedger API",
    version="1",
    urls_namespace="api",
    description="Billing, trust accounting and collections for immigration law firms.",
)


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
    return _error(request, 422, exc.code, exc.message, exc.field)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", []) if p not in {"body", "query", "path", "payload"}]
    field = ".".join(loc) or None
    message = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg"))
    return _error(request, 422, "invalid", message, field)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "Authentication required: send a token.", None)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc), None)


def _register_routers() -> None:
    from caseledger.api.collections import router as collections_router
    from caseledger.api.ledger import router as ledger_router

    api.add_router("/ledger", ledger_router)
    api.add_router("/collections", collections_router)


_register_routers()
