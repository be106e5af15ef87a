"""Hooks billing offers to the apps above it.

``register_invoice_issued_listener(fn)``: ``fn(invoice)`` is called by ``invoice_issued`` INSIDE
the issuing transaction, after the issue's ledger entry (an exception rolls the issue back).
Payments creates the invoice's settlement row there; trust auto-applies client trust money.

``register_invoice_issue_lock_listener(fn)``: ``fn(invoice)`` is called at the START of the
issuing transaction, before billing locks the invoice, so an app that will write inside the
issue takes the row locks the global order puts before the invoice (matter -> trust balance ->
invoice, ``ledger/locks.py``). Trust locks the matter's trust balance there when the client
auto-applies trust; without it, an issue and a trust transfer on the same matter could wait on
each other and PostgreSQL would abort one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

InvoiceListener = Callable[[Any], None]

_invoice_issued_listeners: list[InvoiceListener] = []
_invoice_issue_lock_listeners: list[InvoiceListener] = []


def register_invoice_issue_lock_listener(fn: InvoiceListener) -> None:
    """Register ``fn`` once (a second registration of the same function is ignored)."""
    if fn not in _invoice_issue_lock_listeners:
        _invoice_issue_lock_listeners.append(fn)


def invoice_issue_locks(invoice: Any) -> None:
    """Call every lock listener in registration order, before the invoice is locked."""
    for fn in list(_invoice_issue_lock_listeners):
        fn(invoice)


def register_invoice_issued_listener(fn: InvoiceListener) -> None:
    """Register ``fn`` once (a second registration of the same function is ignored)."""
    if fn not in _invoice_issued_listeners:
        _invoice_issued_listeners.append(fn)


def invoice_issued(invoice: Any) -> None:
    """Call every listener in registration order (INSTALLED_APPS order of their apps)."""
    for fn in list(_invoice_issued_listeners):
        fn(invoice)
