"""Security baseline pieces that are not a page (docs/security.md maps them to OWASP ASVS):

- ``IdleTimeoutMiddleware``: a signed-in session unused for longer than the role's idle limit
  (``SESSION_IDLE_MINUTES_STAFF``, ``SESSION_IDLE_MINUTES_CLIENT``) is ended; the next page goes
  to the login page with a message, the API answers 401.
- ``ApiTokenRateLimitMiddleware``: each API token (``Authorization: Bearer``) may make
  ``API_TOKEN_RATE_LIMIT`` requests a minute (fixed window, counted in the cache: Redis when
  ``REDIS_URL`` is set, so every worker shares it); over it, 429 with ``Retry-After``.
- ``ContextualPasswordValidator``: refuses a password whose core, once common decorations are
  taken off (case, leetspeak, trailing digits and symbols, a repeated word), is a common
  password (Django's list of 20,000) or a word of the trade or the firm (the list shipped in
  ``core/data/breached-passwords-legal.txt`` and the firm's own name).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from caseledger.core import clock

LAST_ACTIVITY = "caseledger_last_activity"
# The session is written at most this often just to move the activity mark (a page view is
# otherwise read-only for the session table).
ACTIVITY_WRITE_SECONDS = 60
IDLE_MESSAGE = "You were signed out after {minutes} minutes without activity. Sign in again."


def idle_limit_seconds(user: Any) -> int:
    from caseledger.core.choices import Role

    if getattr(user, "role", None) == Role.CLIENT:
        return int(settings.SESSION_IDLE_MINUTES_CLIENT) * 60
    return int(settings.SESSION_IDLE_MINUTES_STAFF) * 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith("/static/"):
            return self.get_response(request)
        now = clock.now().timestamp()
        last = request.session.get(LAST_ACTIVITY)
        limit = idle_limit_seconds(user)
        if isinstance(last, int | float) and now - last > limit:
            logout(request)
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "error": {
                            "code": "session_expired",
                            "message": "session: ended after inactivity; sign in again",
                            "field": None,
                        }
                    },
                    status=401,
                )
            messages.info(request, IDLE_MESSAGE.format(minutes=limit // 60))
            target = reverse(settings.LOGIN_URL)
            if request.method == "GET":
                from urllib.parse import urlencode

                target += "?" + urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(target)
        if not isinstance(last, int | float) or now - last >= ACTIVITY_WRITE_SECONDS:
            request.session[LAST_ACTIVITY] = int(now)
        return self.get_response(request)


def mark_activity_at_login(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """``user_logged_in`` receiver: the session starts with its activity mark, so the first
    page after signing in does not write the session again (connected in CoreConfig.ready)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_ACTIVITY] = int(clock.now().timestamp())


def _token_key(header: str) -> str | None:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return hashlib.sha256(secret.strip().encode()).hexdigest()[:24]


class ApiTokenRateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(getattr(settings, "API_TOKEN_RATE_LIMIT", 0))
        if limit and request.path.startswith("/api/"):
            token = _token_key(request.headers.get("Authorization", ""))
            if token is not None:
                now = clock.now().timestamp()
                window = int(now // 60)
                key = f"ratelimit:api:{token}:{window}"
                cache.add(key, 0, timeout=120)
                try:
                    used = cache.incr(key)
                except ValueError:  # expired between add and incr: a new window
                    cache.set(key, 1, timeout=120)
                    used = 1
                if used > limit:
                    retry = max(1, int((window + 1) * 60 - now))
                    response = JsonResponse(
                        {
                            "error": {
                                "code": "rate_limited",
                                "message": (
                                    f"Authorization: this token made more than {limit} requests "
                                    f"this minute; retry in {retry} s"
                                ),
                                "field": None,
                            }
                        },
                        status=429,
                    )
                    response["Retry-After"] = str(retry)
                    return response
        return self.get_response(request)


DATA = Path(__file__).resolve().parent / "data"
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)


@lru_cache(maxsize=1)
def _django_common() -> frozenset[str]:
    return frozenset(CommonPasswordValidator().passwords)


@lru_cache(maxsize=1)
def _shipped() -> frozenset[str]:
    lines = (DATA / "breached-passwords-legal.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip().lower() for ln in lines if ln.strip() and not ln.startswith("#"))


def password_cores(password: str) -> set[str]:
    """The password and what is left of it without common decorations."""
    lowered = password.lower()
    forms = {lowered, lowered.translate(_LEET)}
    for form in list(forms):
        stripped = re.sub(r"[\W\d_]+$", "", form)  # Password2024! -> password
        stripped = re.sub(r"^[\W\d_]+", "", stripped)
        forms.add(stripped)
        forms.add(re.sub(r"[\W_]+", "", form))  # p.a.s.s -> pass
        forms.add(re.sub(r"[\W\d_]+", "", form))  # Attorney#1Attorney#1 -> attorneyattorney
    for form in list(forms):
        half = len(form) // 2
        if form and len(form) % 2 == 0 and form[:half] == form[half:]:
            forms.add(form[:half])  # summersummer -> summer
    return {f for f in forms if f}


class ContextualPasswordValidator:
    def __init__(self, extra_words: list[str] | None = None) -> None:
        self.extra_words = [w.lower() for w in extra_words or []]

    def _words(self) -> set[str]:
        words = set(_shipped()) | set(self.extra_words)
        try:
            from caseledger.core.models import Firm

            name = Firm.objects.filter(id=1).values_list("name", flat=True).first()
        except Exception:  # no database yet (createsuperuser on an empty install)
            name = None
        if name:
            compact = re.sub(r"[\W_]+", "", name.lower())
            words |= {compact, *(w for w in re.findall(r"[a-z]{4,}", name.lower()))}
        return words

    def validate(self, password: str, user: Any = None) -> None:
        cores = password_cores(password)
        common = _django_common()
        words = self._words()
        if any(core in common or core in words for core in cores):
            raise ValidationError(
                "password: it is a commonly used password or a word of the firm or the trade "
                "with digits or symbols added; choose a longer phrase of unrelated words",
                code="password_too_common",
            )

    def get_help_text(self) -> str:
        return (
            "Your password cannot be a common password, or a word of the firm or the legal "
            "trade with digits or symbols added."
        )
