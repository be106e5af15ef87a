"""Hooks clients offers to the apps above it.

The client pages show the client's matters, and matters sit above clients, so the matters app
registers one provider (``register_client_matters_provider``) from its ``AppConfig.ready()``: an
object with ``visible(user, client) -> list`` (the client's matters ``user`` may open, loaded with
what the client page shows, newest first) and ``open_counts(client_ids) -> dict`` (the count of
each client's matters not closed, for the rows of one client-list page: one grouped query over
those clients only). Without a provider the pages show no matters.
"""

from __future__ import annotations

from collections.abc import Callable
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


# ``register_regroup_listener(fn)``: ``fn(*, client_id, moved)`` is called inside the transaction
# of ``clients.services.client_update`` when the client's type or intake source changes: once
# with ``moved=False`` before the change is written (the client row still holds the old values)
# and once with ``moved=True`` after. The reports' cohort summary, keyed by those values, moves
# the client's postings from their old group to the new one (ADR 024).
RegroupListener = Callable[..., None]

_regroup: Listeners[RegroupListener] = Listeners()

register_regroup_listener = _regroup.register
unregister_regroup_listener = _regroup.unregister  # tests

# The client's fields a regroup listener keys by.
REGROUP_FIELDS = frozenset({"client_type", "intake_source"})


def client_regrouped(*, client_id: int, moved: bool) -> None:
    """Called by clients.services only."""
    for fn in _regroup:
        fn(client_id=client_id, moved=moved)
