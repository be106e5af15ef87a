"""The one authorization function: ``authorize(user, capability, obj=None)``.

Deny by default. A capability is a dotted name ("ledger.view") that each app declares in its
``capabilities.py`` as ``CAPABILITIES = {name: frozenset(roles)}``; an unknown capability is
denied. With an object, the app that owns the object's model declares an object scope in
``OBJECT_SCOPES = {"app_label.modelname": scope_fn}``; ``scope_fn(user, obj) -> bool`` decides
whether this user may touch this object (e.g. attorneys only their assigned matters). Roles
listed in ``UNSCOPED_ROLES`` see every object; other roles need a scope function that allows them.

Views use ``capability_required`` / ``require``; the API and services call ``require`` too.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.apps import apps as django_apps
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.http import HttpRequest, HttpResponse

from caseledger.core.choices import Role
from caseledger.core.exceptions import NotPermitted

ScopeFn = Callable[[Any, Any], bool]

CAPABILITIES: dict[str, frozenset[str]] = {}
OBJECT_SCOPES: dict[str, ScopeFn] = {}
# Roles whose access is never narrowed to assigned objects.
UNSCOPED_ROLES = frozenset({Role.ADMIN, Role.PARTNER, Role.BILLING, Role.OPERATIONS})

FORBIDDEN = "{capability}: not permitted for your role ({role})."
FORBIDDEN_OBJECT = "You do not have access to this {object}."


def load_app_capabilities() -> None:
    """Collect every installed app's ``capabilities`` module (called once from CoreConfig)."""
    for config in django_apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.capabilities")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.capabilities":
                raise
            continue
        for name, roles in getattr(module, "CAPABILITIES", {}).items():
            if name in CAPABILITIES:
                raise RuntimeError(f"capability {name!r} declared twice")
            CAPABILITIES[name] = frozenset(roles)
        OBJECT_SCOPES.update(getattr(module, "OBJECT_SCOPES", {}))


def _active_role(user: Any) -> str | None:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    if not user.is_active:
        return None
    return str(user.role)


def authorize(user: Any, capability: str, obj: models.Model | None = None) -> bool:
    """True when ``user`` may exercise ``capability`` (on ``obj`` when given)."""
    role = _active_role(user)
    if role is None:
        return False
    allowed = CAPABILITIES.get(capability)
    if allowed is None or role not in allowed:
        return False
    if obj is None or role in UNSCOPED_ROLES:
        return True
    scope = OBJECT_SCOPES.get(obj._meta.label_lower)
    return bool(scope and scope(user, obj))


def require(user: Any, capability: str, obj: models.Model | None = None) -> None:
    """Raise NotPermitted unless ``authorize`` allows it."""
    if not authorize(user, capability, obj):
        if obj is not None and authorize(user, capability):
            raise NotPermitted(FORBIDDEN_OBJECT.format(object=obj._meta.verbose_name))
        role = _active_role(user)
        label = Role(role).label if role in Role.values else "not signed in"
        raise NotPermitted(FORBIDDEN.format(capability=capability, role=label))


V = TypeVar("V", bound=Callable[..., HttpResponse])


def capability_required(capability: str) -> Callable[[V], V]:
    """View decorator: login first, then the capability (403 when missing)."""

    def decorator(view: V) -> V:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require(request.user, capability)
            return view(request, *args, **kwargs)

        wrapper.capability = capability  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
