"""Hooks banking offers to the apps above it (core.hooks.Listeners; no Django signals).

- ``register_match_guard(fn)``: ``fn(*, lines, action)`` runs inside every match, unmatch and
  resolution transaction after the lines are locked (``action``: "match", "unmatch",
  "resolve"); it raises an ApplicationError to refuse, e.g. the reconciliation app refusing to
  unmatch a line of a signed-off reconciliation.
- ``register_line_resolver(kind, fn)``: resolutions whose posting belongs to an app above
  banking (a returned trust deposit, a card payout clearing trust deposits). ``fn(*, line,
  target_id, actor, now, note)`` runs inside the resolution transaction with the line locked;
  it calls its own app's service and returns the ids of the postings on the bank account's
  ledger account that the line is to be matched to (their sum must equal the line); a
  returned deposit's resolver returns none while the reversal waits for a partner's approval
  (the approval matches the line).
  ``target_id`` is what the person picked from ``choices`` (None when the resolver needs none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from caseledger.core.hooks import Listeners

MatchGuard = Callable[..., None]
LineResolver = Callable[..., Sequence[int]]

_guards: Listeners[MatchGuard] = Listeners()
register_match_guard = _guards.register
unregister_match_guard = _guards.unregister

ResolverChoices = Callable[..., list[tuple[int, str]]]

_resolvers: dict[str, LineResolver] = {}
_choices: dict[str, ResolverChoices] = {}


def match_guards_run(*, lines: Sequence[Any], action: str) -> None:
    for guard in _guards:
        guard(lines=lines, action=action)


def register_line_resolver(
    kind: str, fn: LineResolver, *, choices: ResolverChoices | None = None
) -> LineResolver:
    """``choices(*, line)`` lists (target id, label) a person may pick for ``line`` (the trust
    deposits a returned item may be); None: the resolver finds its targets itself."""
    _resolvers[kind] = fn
    if choices is not None:
        _choices[kind] = choices
    return fn


def unregister_line_resolver(kind: str) -> None:
    _resolvers.pop(kind, None)
    _choices.pop(kind, None)


def line_resolver_choices(kind: str, *, line: Any) -> list[tuple[int, str]] | None:
    fn = _choices.get(kind)
    return None if fn is None else fn(line=line)


def line_resolver_kinds() -> tuple[str, ...]:
    return tuple(_resolvers)


def line_resolver(kind: str) -> LineResolver | None:
    return _resolvers.get(kind)
