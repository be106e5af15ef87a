"""Reads from a PostgreSQL replica for reports, dashboards and exports, and for nothing else.

With ``DATABASE_REPLICA_URL`` set, settings add the ``replica`` database alias and
``REPLICA_READS`` is on. ``PrimaryReplicaRouter`` then answers ``replica`` for a read only when
ALL of these hold, and ``default`` (the primary) otherwise:

- the code runs inside ``replica_reads()`` (or a view marked ``@reads_from_replica``): only
  read-only report, dashboard and export code is marked, so everything else reads the primary
  by default, money decisions included;
- the primary connection is not inside a transaction: a balance read before a disbursement, a
  row lock, anything a write depends on, runs inside ``transaction.atomic``
  and so reads the primary even if such code ever ran inside a marked scope;
- the request is not pinned to the primary (``ReplicaPinMiddleware``): a request that is not
  GET/HEAD/OPTIONS, and every request of the same session for ``REPLICA_PIN_SECONDS`` after one,
  reads its own writes from the primary.

Every write goes to the primary; migrations run on the primary only. Tests configure the alias
as a ``TEST: {"MIRROR": "default"}`` second connection to the test database (settings), so the
routing is tested without a second PostgreSQL cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Session key: the time (epoch seconds) until which this session reads from the primary.
PIN_SESSION_KEY = "_replica_pinned_until"

_marked: ContextVar[bool] = ContextVar("caseledger_replica_reads", default=False)
_pinned: ContextVar[bool] = ContextVar("caseledger_primary_pinned", default=False)


def replica_enabled() -> bool:
    return bool(getattr(settings, "REPLICA_READS", False)) and REPLICA in settings.DATABASES


def read_alias() -> str:
    """The alias a read made here goes to (see the module docstring for the rules)."""
    if (
        _marked.get()
        and not _pinned.get()
        and replica_enabled()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA
    return DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[None]:
    """Mark the reads inside as report reads that may come from the replica."""
    token = _marked.set(True)
    try:
        yield
    finally:
        _marked.reset(token)


View = Callable[..., HttpResponse]


def reads_from_replica(view: View) -> View:
    """Mark a read-only report view: its GET/HEAD reads may come from the replica. Any other
    method runs unmarked (and the middleware pins it to the primary anyway)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            return view(request, *args, **kwargs)
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapped


class PrimaryReplicaRouter:
    """``DATABASE_ROUTERS``: the primary unless ``read_alias`` says the replica. Answers
    ``default`` explicitly (never None), so an object read from the replica is not written
    or followed there by Django's instance hints."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaPinMiddleware:
    """Read-your-writes: a request that may write (not GET/HEAD/OPTIONS) reads the primary
    throughout, and pins its session to the primary for ``REPLICA_PIN_SECONDS`` afterwards,
    so the page it redirects to (and the next clicks) never show a replica that lags behind.
    Without a replica it does nothing (no session writes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_enabled():
            return self.get_response(request)
        session = getattr(request, "session", None)
        writes = request.method not in SAFE_METHODS
        pinned = writes or (
            session is not None and float(session.get(PIN_SESSION_KEY, 0)) > time.time()
        )
        token = _pinned.set(pinned)
        try:
            response = self.get_response(request)
        finally:
            _pinned.reset(token)
        if writes and session is not None and session.session_key is not None:
            session[PIN_SESSION_KEY] = time.time() + settings.REPLICA_PIN_SECONDS
        return response
