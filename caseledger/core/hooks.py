"""The one mechanism behind every app's ``hooks`` module (no Django signals).

An app that offers a hook keeps a module-level ``Listeners`` and exposes its ``register`` (and
``unregister``, for tests) under a name that says what happens, e.g.
``matters.hooks.register_stage_listener``; its service calls each listener, in registration
order, inside its own transaction. Registering the same function twice keeps one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

L = TypeVar("L", bound=Callable[..., Any])


class Listeners(Generic[L]):
    def __init__(self) -> None:
        self._fns: list[L] = []

    def register(self, fn: L) -> L:
        """Add ``fn`` once; returns it, so it also serves as a decorator."""
        if fn not in self._fns:
            self._fns.append(fn)
        return fn

    def unregister(self, fn: L) -> None:
        if fn in self._fns:
            self._fns.remove(fn)

    def __iter__(self) -> Iterator[L]:
        """The listeners in registration order (a copy: a listener may register another)."""
        return iter(tuple(self._fns))
