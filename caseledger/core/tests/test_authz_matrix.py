"""The authorization matrix: every URL pattern and API route, for every role and anonymous.

Each installed app may have ``caseledger/<app>/tests/authz.py`` with a dict ``MATRIX``. Keys:

* a Django URL name with its namespace, e.g. ``"core:user_detail"``;
* an API operation as ``"<METHOD> <path as in the OpenAPI schema>"``, e.g.
  ``"GET /api/v1/me"`` or ``"POST /api/v1/invoices/{invoice_id}/issue"``.

Each value is a dict:

``allow`` (required)
    The roles that get in: role values (``"ADMIN"``, ``"PARTNER"`` ...) and/or ``"ANONYMOUS"``.
    Use the constants in ``caseledger.core.tests.authz`` (``ALL_ROLES``, ``STAFF``, ``PUBLIC``,
    ``ADMIN``, ``ADMIN_PARTNER``). Every role not listed must be refused.
``method``
    ``"GET"`` (default) or ``"POST"``/``"PUT"``/``"PATCH"``/``"DELETE"`` for pages; for API keys
    the method comes from the key.
``kwargs``
    URL kwargs (API: path parameters): a dict, or a callable ``fn(ctx) -> dict`` that builds the
    objects the route needs. ``ctx`` (:class:`AuthzContext`) has ``users`` (one user per role,
    keyed by role value), ``user`` (the user making this request, None for anonymous),
    ``make_user``, ``now`` and ``firm``. Build objects the allowed roles may reach (e.g. a
    matter assigned to ``ctx.users["ATTORNEY"]`` when attorneys are allowed).
``data`` / ``json`` / ``multipart``
    Form data (pages) or a JSON body (API) for non-GET methods: a dict or ``fn(ctx) -> dict``;
    ``multipart`` sends an API route a multipart form (files).
``status``
    ``{role: exact HTTP status}`` for roles whose answer must be one exact code (e.g. a route
    that answers 404 by design); it replaces the allow/deny rule for those roles.

What counts as allowed: a status below 400 that is not a redirect to the login page (pages),
and not 401/403. Denied: 403 for a signed-in role; a redirect to the login page (pages) or
401 (API) for anonymous. With ``"ANONYMOUS"`` in ``allow`` the route is public and only "no
401/403 and no server error" is checked (logout and login redirect by design).

A route without an entry fails ``test_every_route_has_an_entry`` naming it; an entry without a
route fails ``test_no_entry_without_a_route``. Each (route, role) pair is its own test, run in
its own transaction, signed in with the ``login`` fixture (two-factor step completed).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from caseledger.core.tests.authz import ALL_ROLES, ANONYMOUS

ROLES = sorted(ALL_ROLES) + [ANONYMOUS]
API_PREFIX = "/api/v1"


def _collect_matrix() -> tuple[dict[str, dict[str, Any]], list[str]]:
    merged: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("caseledger."):
            continue
        module_name = f"{config.name}.tests.authz"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name in {module_name, f"{config.name}.tests"}:
                continue
            raise
        for key, entry in getattr(module, "MATRIX", {}).items():
            if key in merged:
                problems.append(f"{key!r} has entries in two apps ({module_name})")
            merged[key] = entry
    return merged, problems


def _walk(patterns: list[Any], namespace: str, prefix: str, out: dict[str, str]) -> None:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            _walk(p.url_patterns, ns, prefix + str(p.pattern), out)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            if p.callback.__module__.startswith("ninja.") and namespace == "api":
                # API operations are listed per method from the OpenAPI schema instead; the
                # schema, docs and root views are ninja's own and keep their URL names.
                if p.name not in {"openapi-json", "openapi-view", "api-root"}:
                    continue
            if not p.name:
                out[f"<unnamed pattern {route!r}>"] = route
                continue
            out[f"{namespace}:{p.name}" if namespace else p.name] = route


def _api_operations() -> dict[str, str]:
    from caseledger.api.api import api

    schema = api.get_openapi_schema(path_prefix=API_PREFIX)
    ops: dict[str, str] = {}
    for path, methods in schema["paths"].items():
        for method in methods:
            ops[f"{method.upper()} {path}"] = path
    return ops


def all_routes() -> dict[str, str]:
    routes: dict[str, str] = {}
    _walk(get_resolver().url_patterns, "", "/", routes)
    routes.update(_api_operations())
    return routes


MATRIX, MATRIX_PROBLEMS = _collect_matrix()
ROUTES = all_routes()


def test_every_route_has_an_entry() -> None:
    missing = sorted(set(ROUTES) - set(MATRIX))
    assert not missing, (
        "routes without an authorization-matrix entry (add them to caseledger/<app>/tests/"
        "authz.py): " + ", ".join(f"{k} ({ROUTES[k]})" for k in missing)
    )


def test_no_entry_without_a_route() -> None:
    stale = sorted(set(MATRIX) - set(ROUTES))
    assert not stale, "authorization-matrix entries for routes that do not exist: " + ", ".join(
        stale
    )
    assert not MATRIX_PROBLEMS, "; ".join(MATRIX_PROBLEMS)


def test_entries_are_well_formed() -> None:
    allowed_keys = {"allow", "method", "kwargs", "data", "json", "multipart", "status"}
    for key, entry in MATRIX.items():
        assert "allow" in entry, f"{key}: 'allow' is required"
        unknown = set(entry) - allowed_keys
        assert not unknown, f"{key}: unknown keys {sorted(unknown)}"
        bad_roles = set(entry["allow"]) - set(ROLES)
        assert not bad_roles, f"{key}: unknown roles {sorted(bad_roles)}"


@dataclass
class AuthzContext:
    users: dict[str, Any]
    user: Any
    make_user: Callable[..., Any]
    now: datetime
    firm: Any


def _resolve(value: Any, ctx: AuthzContext) -> Any:
    return value(ctx) if callable(value) else (value or {})


def _request(client: Client, key: str, entry: dict[str, Any], ctx: AuthzContext) -> Any:
    kwargs = _resolve(entry.get("kwargs"), ctx)
    if " " in key and key.split(" ", 1)[0].isupper():
        method, path = key.split(" ", 1)
        url = re.sub(r"\{(\w+)\}", lambda m: str(kwargs[m.group(1)]), path)
        if "multipart" in entry:
            return client.generic(
                method,
                url,
                data=encode_multipart(BOUNDARY, _resolve(entry["multipart"], ctx)),
                content_type=MULTIPART_CONTENT,
            )
        body = _resolve(entry.get("json"), ctx)
        return client.generic(method, url, data=json.dumps(body), content_type="application/json")
    url = reverse(key, kwargs=kwargs or None)
    method = entry.get("method", "GET").upper()
    if method == "GET":
        return client.get(url)
    if method == "POST":
        return client.post(url, data=_resolve(entry.get("data"), ctx))
    return client.generic(method, url)


def _is_login_redirect(response: Any) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return response["Location"].startswith(resolve_url(settings.LOGIN_URL))


CASES = [(key, role) for key in sorted(MATRIX) if key in ROUTES for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "role"), CASES, ids=[f"{k}|{r}" for k, r in CASES])
def test_route_authorization(key, role, users, make_user, login, client, now):
    from caseledger.core.selectors import firm_get

    entry = MATRIX[key]
    user = None if role == ANONYMOUS else users[role]
    if user is not None:
        client = login(user)
    ctx = AuthzContext(users=users, user=user, make_user=make_user, now=now, firm=firm_get())
    response = _request(client, key, entry, ctx)
    status = response.status_code
    where = f"{key} as {role}: got {status}"
    if status in (301, 302, 303, 307, 308):
        where += f" -> {response['Location']}"

    exact = entry.get("status", {})
    if role in exact:
        assert status == exact[role], f"{where}, expected exactly {exact[role]}"
        return
    assert status < 500, where
    allowed = set(entry["allow"])
    public = ANONYMOUS in allowed
    if public:
        assert status not in (401, 403), f"{where}, expected allowed (public route)"
    elif role in allowed:
        assert status < 400, f"{where}, expected allowed"
        assert not _is_login_redirect(response), f"{where}, expected allowed"
    elif role == ANONYMOUS:
        assert status == 401 or _is_login_redirect(response), f"{where}, expected login/401"
    else:
        assert status == 403, f"{where}, expected 403"
