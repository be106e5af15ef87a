"""Credits hooks (core.hooks.Listeners). An app above credits registers an approval gate,
``fn(credit_note) -> str``: a non-empty answer is why the waiting credit note may not be
approved yet (the portal: the client has not authorized the refund); ``credit_note_approve``
refuses with it, naming the field ``client_authorization``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caseledger.core.hooks import Listeners

ApprovalGate = Callable[[Any], str]

_approval_gates: Listeners[ApprovalGate] = Listeners()

register_approval_gate = _approval_gates.register
unregister_approval_gate = _approval_gates.unregister


def approval_refusal(credit_note: Any) -> str:
    """The first gate's reason to hold ``credit_note`` back, or ""."""
    for gate in _approval_gates:
        reason = gate(credit_note)
        if reason:
            return reason
    return ""
