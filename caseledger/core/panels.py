"""Money panels of the matter and client pages, contributed by the apps above matters.

The matter and client pages live in apps below billing, trust, payments, credits and
collections, so they cannot read those apps. Instead each upper app lists its panels in
``caseledger/<app>/panels.py``::

    PANELS = [
        PagePanel(
            key="trust.balances",
            title="Trust",
            template="trust/panels/balances.html",
            capability="trust.view",           # shown to the roles that hold it
            context=trust_context,             # fn(request, scope) -> dict for the template
            pages=("matter", "client"),
            order=20,
        ),
    ]
    STAGE_NOTICES = [drafted_invoice_notice]   # fn(stage_event) -> list[Notice]

``scope`` is a ``PanelScope``: the client, the matter (None on the client page), the ids of
the matters the user may see, and today's date in the firm's zone. A context function reads
through its app's selectors in a fixed number of queries (the query-count tests hold it), so a
client with a hundred matters costs what a client with two does.

``STAGE_NOTICES`` tell the person who advanced a stage what it caused (billing: "drafted
invoice ... for review", with a link).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from django.apps import apps as django_apps
from django.http import HttpRequest

from caseledger.core.permissions import authorize

PAGES = ("matter", "client")


@dataclass(frozen=True)
class PanelScope:
    page: str  # "matter" or "client"
    client: Any  # None: the portal's scope over the matters of several clients
    matter: Any | None  # None on the client page
    matter_ids: Sequence[int]  # the matters shown (all the user may see, on the client page)
    today: date
    matters: Sequence[Any] = field(default=())  # the same matters, loaded


PanelContext = Callable[[HttpRequest, PanelScope], dict[str, Any]]


@dataclass(frozen=True)
class PagePanel:
    key: str
    title: str
    template: str
    capability: str
    context: PanelContext
    pages: tuple[str, ...] = PAGES
    order: int = 100
    wide: bool = False


@dataclass(frozen=True)
class Notice:
    """One line for the message after a stage advance: ``text`` and, when given, a link."""

    text: str
    url: str = ""
    link_text: str = ""


StageNotice = Callable[[Any], list[Notice]]


def _modules() -> list[Any]:
    found = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("caseledger."):
            continue
        try:
            found.append(importlib.import_module(f"{config.name}.panels"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.panels":
                raise
    return found


@cache
def page_panels(page: str) -> tuple[PagePanel, ...]:
    """Every installed app's panels for ``page``, ordered by (order, key)."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}; one of {PAGES}")
    panels: list[PagePanel] = []
    for module in _modules():
        panels.extend(getattr(module, "PANELS", []))
    keys = [p.key for p in panels]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise RuntimeError(f"page panel key(s) declared twice: {duplicates}")
    return tuple(sorted((p for p in panels if page in p.pages), key=lambda p: (p.order, p.key)))


@dataclass(frozen=True)
class RenderedPagePanel:
    panel: PagePanel
    context: dict[str, Any]


def panels_for_page(request: HttpRequest, scope: PanelScope) -> list[RenderedPagePanel]:
    """The panels of ``scope.page`` the user's role may see, each with its context."""
    return [
        RenderedPagePanel(panel, panel.context(request, scope))
        for panel in page_panels(scope.page)
        if authorize(request.user, panel.capability)
    ]


@cache
def _stage_notices() -> tuple[StageNotice, ...]:
    notices: list[StageNotice] = []
    for module in _modules():
        notices.extend(getattr(module, "STAGE_NOTICES", []))
    return tuple(notices)


def stage_notices(event: Any) -> list[Notice]:
    """What the apps report about a stage event (e.g. the invoice it drafted)."""
    return [notice for fn in _stage_notices() for notice in fn(event)]
