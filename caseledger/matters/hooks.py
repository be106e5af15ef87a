"""The one explicit hook for "a matter reached a stage" (no Django signals).

Other apps register a listener once, from their ``AppConfig.ready()``::

    from caseledger.matters.hooks import register_stage_listener
    register_stage_listener(billing.services.on_stage_event)

``matters.services.matter_stage_advance`` calls every listener INSIDE its transaction, after the
StageEvent row is written, in registration order. A listener that raises rolls the whole advance
back (the stage does not change and no event remains), so billing never misses a stage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from caseledger.core.hooks import Listeners

if TYPE_CHECKING:
    from caseledger.matters.models import Matter, StageEvent

StageListener = Callable[["StageEvent"], None]

_listeners: Listeners[StageListener] = Listeners()

register_stage_listener = _listeners.register
unregister_stage_listener = _listeners.unregister  # tests


def stage_listeners() -> tuple[StageListener, ...]:
    return tuple(_listeners)


def notify_stage_reached(event: StageEvent) -> None:
    """Called by matters.services only."""
    for listener in _listeners:
        listener(event)


# What has been billed on a matter, for its budget: billing registers one function from its
# ``AppConfig.ready()`` (matters cannot read invoices). ``fn(matter) -> cents`` billed so far.
BilledAmount = Callable[["Matter"], int]

_billed: Listeners[BilledAmount] = Listeners()

register_billed_amount = _billed.register
unregister_billed_amount = _billed.unregister  # tests


def billed_cents(matter: Matter) -> int:
    """Cents billed on ``matter`` as the registered function reports (0 with none)."""
    return sum(int(fn(matter)) for fn in _billed)


# ``register_regroup_listener(fn)``: ``fn(*, matter_id, moved)`` is called inside the transaction
# of ``services.matter_update`` when the matter's responsible partner or office changes (its
# case type never does): once with ``moved=False`` before the change is written and once with
# ``moved=True`` after. The reports' cohort summary, keyed by those values, moves the matter's
# postings from their old group to the new one (ADR 024).
RegroupListener = Callable[..., None]

_regroup: Listeners[RegroupListener] = Listeners()

register_regroup_listener = _regroup.register
unregister_regroup_listener = _regroup.unregister  # tests

# The matter's fields (as ``services`` snapshots them for the audit) a regroup listener keys by.
REGROUP_FIELDS = frozenset({"responsible_partner", "office"})


def matter_regrouped(*, matter_id: int, moved: bool) -> None:
    """Called by matters.services only."""
    for fn in _regroup:
        fn(matter_id=matter_id, moved=moved)
