"""Home page panels contributed by the apps.

An app adds panels to the home page by listing them in ``caseledger/<app>/home.py``::

    PANELS = [
        HomePanel(
            key="billing.review_queue",
            title="Invoices waiting for review",
            template="billing/home/review_queue.html",
            capability="billing.review",       # shown to the roles that hold it
            context=review_queue_context,       # fn(request, now) -> dict for the template
            order=20,                           # smaller first
        ),
    ]

A panel shows only when ``authorize(user, capability)`` allows it, so "per role" is the
capability table. ``context`` runs only for shown panels; it should use selectors and stay cheap.
A context may give a ``heading`` that titles the panel for this person instead of ``title``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.apps import apps as django_apps
from django.http import HttpRequest

from caseledger.core.permissions import authorize

PanelContext = Callable[[HttpRequest, datetime], dict[str, Any]]

# Role -> URL name of the page that role lands on instead of the home page (an app above core
# registers it in its AppConfig.ready: the portal for clients).
_LANDINGS: dict[str, str] = {}


def register_landing(role: str, url_name: str) -> None:
    _LANDINGS[str(role)] = url_name


def landing_for(user: Any) -> str | None:
    """The URL name ``user`` lands on instead of the home page, or None."""
    return _LANDINGS.get(str(getattr(user, "role", "")))


@dataclass(frozen=True)
class HomePanel:
    key: str
    title: str
    template: str
    capability: str
    context: PanelContext
    order: int = 100
    wide: bool = False  # spans the full width of the home grid


@cache
def home_panels() -> tuple[HomePanel, ...]:
    """Every installed app's panels, ordered by (order, key)."""
    panels: list[HomePanel] = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("caseledger."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.home")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.home":
                raise
            continue
        panels.extend(getattr(module, "PANELS", []))
    keys = [p.key for p in panels]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise RuntimeError(f"home panel key(s) declared twice: {duplicates}")
    return tuple(sorted(panels, key=lambda p: (p.order, p.key)))


@dataclass(frozen=True)
class RenderedPanel:
    panel: HomePanel
    context: dict[str, Any]


def panels_for(request: HttpRequest, now: datetime) -> list[RenderedPanel]:
    """The user's panels in the order the home page lays them out (``laid_out``)."""
    return laid_out(
        [
            RenderedPanel(panel, panel.context(request, now))
            for panel in home_panels()
            if authorize(request.user, panel.capability)
        ]
    )


def laid_out(panels: list[RenderedPanel]) -> list[RenderedPanel]:
    """The wide panels that come before every narrow one (at-risk matters), then the narrow
    ones together, then the other wide ones, each group in panel order: the narrow panels fill
    rows side by side (up to three) with no wide panel cutting a row short, and a last row of
    fewer shares its full width (``.home-panels``), so the grid has no holes."""
    first_narrow = next((i for i, p in enumerate(panels) if not p.panel.wide), len(panels))
    head, rest = panels[:first_narrow], panels[first_narrow:]
    return head + [p for p in rest if not p.panel.wide] + [p for p in rest if p.panel.wide]


# Core's own panels -------------------------------------------------------------------------


def _account_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    from caseledger.core.selectors import firm_get, totp_device_confirmed, two_factor_required

    user = request.user
    firm = firm_get()
    return {
        "firm": firm,
        "two_factor_on": totp_device_confirmed(user) is not None,
        "two_factor_required": two_factor_required(user, firm),
    }


def _users_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    from caseledger.core.selectors import user_counts_by_role

    counts = user_counts_by_role()
    return {"counts": counts, "total": sum(n for _, _, n in counts)}


def _audit_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    from caseledger.core.selectors import audit_recent

    return {"events": audit_recent(limit=8)}


def _waiting_context(request: HttpRequest, now: datetime) -> dict[str, Any]:
    from caseledger.core.waiting import counts_read, waiting_for

    groups = waiting_for(request.user, now)
    counts_read([g.batch for g in groups])
    groups = [g for g in groups if g.batch.count]
    return {"groups": groups, "total": sum(g.batch.count for g in groups)}


PANELS = [
    HomePanel(
        key="core.waiting",
        title="Waiting on you",
        template="core/home/waiting.html",
        capability="waiting.view",
        context=_waiting_context,
        order=5,
    ),
    HomePanel(
        key="core.account",
        title="Your account",
        template="core/home/account.html",
        capability="profile.edit",
        context=_account_context,
        order=10,
    ),
    HomePanel(
        key="core.users_by_role",
        title="People by role",
        template="core/home/users_by_role.html",
        capability="users.manage",
        context=_users_context,
        order=80,
    ),
    HomePanel(
        key="core.recent_audit",
        title="Recent activity",
        template="core/home/recent_audit.html",
        capability="audit.view",
        context=_audit_context,
        order=90,
        wide=True,
    ),
]
