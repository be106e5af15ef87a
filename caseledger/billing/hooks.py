"""Hooks billing offers to the apps above it.

``register_invoice_issued_listener(fn)``: ``fn(invoice)`` is called by ``invoice_issued`` INSIDE
the issuing transaction, after the issue's ledger entry (an exception rolls the issue back).
Payments creates the invoice's settlement row there; trust auto-applies client trust money.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

InvoiceListener = Callable[[Any], None]

_invoice_issued_listeners: list[InvoiceListener] = []


def register_invoice_issued_listener(fn: InvoiceListener) -> None:
    """Register ``fn`` once (a second registration of the same function is ignored)."""
    if fn not in _invoice_issued_listeners:
        _invoice_issued_listeners.append(fn)


def invoice_issued(invoice: Any) -> None:
    """Call every listener in registration order (INSTALLED_APPS order of their apps)."""
    for fn in list(_invoice_issued_listeners):
        fn(invoice)
