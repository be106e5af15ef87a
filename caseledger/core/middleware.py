from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from caseledger.core.clock import current_zone, zone_named
from caseledger.core.context import current_currency, current_ip, request_memo

# Session key set at the password step when this login still owes a TOTP code.
TWO_FACTOR_PENDING = "caseledger_two_factor_pending"

# Pages a signed-in user who still owes a second factor may open.
TWO_FACTOR_OPEN_URLS = frozenset(
    {
        "core:two_factor_verify",
        "core:two_factor_enrol",
        "core:logout",
        "core:login",
    }
)


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: a proxy's X-Forwarded-For is trusted by the proxy's own config, not here.
    return request.META.get("REMOTE_ADDR") or None


class RequestMemoMiddleware:
    """An empty memo for ``core.context.memoized`` on a reading request (GET, HEAD), none on a
    request that writes. Near the top of the stack, so the middleware below it (the two-factor
    check) and the page share what they read (the firm row)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_memo.set({} if request.method in ("GET", "HEAD") else None)
        try:
            return self.get_response(request)
        finally:
            request_memo.reset(token)


class RequestContextMiddleware:
    """Per request: the client IP for audit events, the firm's time zone for every date and
    time the pages and exports show (settings.TIME_ZONE is only the default for a new firm), and
    the firm's currency for every amount the templates format (one query for both)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        currency_token = None
        if not request.path.startswith("/static/"):
            zone, currency = _firm_zone_and_currency()
            timezone.activate(zone)
            zone_token = current_zone.set(zone)
            currency_token = current_currency.set(currency)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
            if currency_token is not None:
                current_currency.reset(currency_token)
                current_zone.reset(zone_token)
            current_ip.reset(token)


def _firm_zone_and_currency() -> tuple[ZoneInfo, str | None]:
    """From the firm row a reading request shares (``core.selectors.firm_get``: the two-factor
    check above may have read it, the page may read it again); one narrow query otherwise."""
    from caseledger.core.models import Firm
    from caseledger.core.selectors import firm_get

    if request_memo.get() is not None:
        firm = firm_get()
        return zone_named(firm.time_zone), firm.currency
    row = Firm.objects.filter(id=1).values_list("time_zone", "currency").first()
    name, currency = row if row else (None, None)
    return zone_named(name), currency


def two_factor_owed(request: HttpRequest) -> bool:
    """True when the signed-in user has not yet given the TOTP code this session needs: the
    login asked for one (they have a device), or the firm requires one for their role."""
    user = request.user
    if not user.is_authenticated or user.is_verified():  # type: ignore[union-attr,attr-defined]
        return False
    if request.session.get(TWO_FACTOR_PENDING):
        return True
    from caseledger.core.selectors import two_factor_required

    return two_factor_required(user)


class TwoFactorMiddleware:
    """Keep a session that owes a TOTP code on the code (or enrolment) page until it is given.

    Runs after django-otp's OTPMiddleware (which sets ``user.is_verified``). Applies to every
    page, so switching enforcement on reaches sessions that are already open. The API checks
    the same rule in its session authentication and answers 401 instead of redirecting."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(("/static/", "/api/")) or not two_factor_owed(request):
            return self.get_response(request)
        try:
            match = resolve(path)
        except Resolver404:
            return self.get_response(request)
        if match.view_name in TWO_FACTOR_OPEN_URLS:
            return self.get_response(request)
        from caseledger.core.selectors import totp_device_confirmed

        target = (
            "core:two_factor_verify"
            if totp_device_confirmed(request.user) is not None
            else "core:two_factor_enrol"
        )
        query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
        return HttpResponseRedirect(reverse(target) + (f"?{query}" if query else ""))
