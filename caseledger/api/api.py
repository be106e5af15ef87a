"""The REST API under /api/v1 (django-ninja). Each app contributes a router in
``caseledger/api/<app>.py`` registered below; every route calls ``core.permissions.require``.

Authentication: ``Authorization: Bearer <personal token>`` or the browser session (after its
two-factor step). Errors are JSON ``{"error": {"code", "message", "field"}}``, never a stack
trace, whatever DEBUG says."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from caseledger.api.auth import TokenAuth, VerifiedSessionAuth
from caseledger.core.exceptions import ApplicationError, NotPermitted
from caseledger.core.permissions import require

logger = logging.getLogger("caseledger.api")

api = NinjaAPI(
    title="CaseLedger API",
    version="1",
    urls_namespace="api",
    description=(
        "Billing, trust accounting and collections for immigration law firms. Authenticate "
        "with a personal API token from your profile page: `Authorization: Bearer <token>`."
    ),
    auth=[TokenAuth(), VerifiedSessionAuth()],
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
    return _error(request, 401, "unauthenticated", UNAUTHENTICATED, None)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(exc) or "Not found.", None)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc), None)


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


_register_routers()
