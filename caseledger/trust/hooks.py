"""Hooks the trust app offers to the apps above it (no Django signals).

``register_disbursement_listener(fn)``: ``fn(change)`` is called with a ``DisbursementChange``
whenever a disbursement changes status (approved, posted, rejected, expired), INSIDE the
transaction that changes it, after the disbursement row is written and before trust's audit
event (a listener takes its row locks before the audit chain head, the last lock of the global
order). A listener that raises rolls the whole change back. Credits uses it to keep the status
of a credit note's trust refund in step with its disbursement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from caseledger.core.hooks import Listeners

if TYPE_CHECKING:
    from caseledger.core.models import User
    from caseledger.trust.models import Disbursement


@dataclass(frozen=True)
class DisbursementChange:
    disbursement: Disbursement  # locked, with its new status
    previous: str  # the status before (DisbursementStatus value)
    actor: User | None  # None: the system (expiry)
    now: datetime


DisbursementListener = Callable[[DisbursementChange], None]

_listeners: Listeners[DisbursementListener] = Listeners()

register_disbursement_listener = _listeners.register
unregister_disbursement_listener = _listeners.unregister  # tests


def disbursement_changed(change: DisbursementChange) -> None:
    """Called by trust.services only, in registration order."""
    for fn in _listeners:
        fn(change)
