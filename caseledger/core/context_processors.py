"""Navigation by role: each app lists ``NAVIGATION = [(label, url_name, capability), ...]`` in its
``capabilities`` module; a link shows only when ``authorize`` allows its capability."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from django.apps import apps as django_apps
from django.http import HttpRequest
from django.urls import reverse

from caseledger.core.permissions import authorize


@cache
def _navigation_items() -> tuple[tuple[str, str, str], ...]:
    items: list[tuple[str, str, str]] = []
    core_items: list[tuple[str, str, str]] = []
    for config in django_apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.capabilities")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.capabilities":
                raise
            continue
        # Core's administration links (audit, people, settings, profile) go last in the menu.
        target = core_items if config.name == "caseledger.core" else items
        target.extend(getattr(module, "NAVIGATION", []))
    return tuple(items + core_items)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    from caseledger.core.middleware import two_factor_owed

    if two_factor_owed(request):
        # Mid-login (code not given yet): no menu, only the code page and log out.
        return {"nav_items": [], "two_factor_owed": True}
    path = request.path
    items = []
    for label, url_name, capability in _navigation_items():
        if authorize(user, capability):
            url = reverse(url_name)
            items.append({"label": label, "url": url, "active": path.startswith(url)})
    return {"nav_items": items}
