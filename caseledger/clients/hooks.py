"""Hooks clients offers to the apps above it.

The client pages show the client's matters, and matters sit above clients, so the matters app
registers one provider (``register_client_matters_provider``) from its ``AppConfig.ready()``: an
object with ``visible(user, client) -> list`` (the client's matters ``user`` may open, loaded with
what the client page shows, newest first) and ``annotate_open(clients) -> QuerySet`` (adds
``open_matters``, the count of the client's matters not closed, for the client list). Without a
provider the pages show no matters.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, Value

from caseledger.core.hooks import Listeners

_matters: Listeners[Any] = Listeners()

register_client_matters_provider = _matters.register


def _provider() -> Any | None:
    return next(iter(_matters), None)


def client_matters(*, user: Any, client: Any) -> list[Any]:
    provider = _provider()
    return [] if provider is None else list(provider.visible(user, client))


def clients_annotate_open_matters(clients: QuerySet[Any]) -> QuerySet[Any]:
    provider = _provider()
    if provider is None:
        return clients.annotate(open_matters=Value(0))
    return provider.annotate_open(clients)
