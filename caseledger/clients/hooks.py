"""Hooks clients offers to the apps above it.

The client pages show the client's matters, and matters sit above clients, so the matters app
registers one provider (``register_client_matters_provider``) from its ``AppConfig.ready()``: an
object with ``visible(user, client) -> list`` (the client's matters ``user`` may open, loaded with
what the client page shows, newest first) and ``open_counts(client_ids) -> dict`` (the count of
each client's matters not closed, for the rows of one client-list page: one grouped query over
those clients only). Without a provider the pages show no matters.
"""

from __future__ import annotations

from typing import Any

from caseledger.core.hooks import Listeners

_matters: Listeners[Any] = Listeners()

register_client_matters_provider = _matters.register


def _provider() -> Any | None:
    return next(iter(_matters), None)


def client_matters(*, user: Any, client: Any) -> list[Any]:
    provider = _provider()
    return [] if provider is None else list(provider.visible(user, client))


def clients_set_open_matters(clients: list[Any]) -> list[Any]:
    """Sets ``open_matters`` on each of ``clients`` (a page's rows, not the whole list: the
    count is never computed for clients not shown) and returns them."""
    provider = _provider()
    counts: dict[int, int] = (
        {} if provider is None else provider.open_counts([c.pk for c in clients])
    )
    for c in clients:
        c.open_matters = counts.get(c.pk, 0)
    return clients
