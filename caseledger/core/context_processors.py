"""Navigation by role: each app lists ``NAVIGATION = [(label, url_name, capability), ...]`` in its
``capabilities`` module; a link shows only when ``authorize`` allows its capability. Exactly one
entry is marked current (``aria-current="page"``, styled in app.css): the longest menu URL that
the page's path starts with."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from django.apps import apps as django_apps
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse

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


@cache
def _menu_url(url_name: str, prefix: str) -> str:
    """A menu entry's URL: the same for every request under one script prefix, so reversed
    once per process, not on every page."""
    return reverse(url_name)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    from caseledger.core.middleware import two_factor_owed

    if two_factor_owed(request):
        # Mid-login (code not given yet): no menu, only the code page and log out.
        return {"nav_items": [], "two_factor_owed": True}
    prefix = get_script_prefix()
    links = [
        (label, _menu_url(url_name, prefix))
        for label, url_name, capability in _navigation_items()
        if authorize(user, capability)
    ]
    current = current_section(request.path, [url for _, url in links])
    return {
        "nav_items": [
            {"label": label, "url": url, "active": url == current} for label, url in links
        ]
    }


def current_section(path: str, urls: list[str]) -> str | None:
    """The one menu URL that holds ``path``: the longest that is a prefix of it ("/trust/requests/"
    wins over "/trust/" on a request's page). None on pages outside every menu entry."""
    matches = [url for url in urls if path.startswith(url)]
    return max(matches, key=len) if matches else None
