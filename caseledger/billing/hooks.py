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

from caseledger.core.hooks import Listeners

InvoiceListener = Callable[[Any], None]

_issued: Listeners[InvoiceListener] = Listeners()
_issue_locks: Listeners[InvoiceListener] = Listeners()

register_invoice_issued_listener = _issued.register
register_invoice_issue_lock_listener = _issue_locks.register


def invoice_issue_locks(invoice: Any) -> None:
    """Call every lock listener in registration order, before the invoice is locked."""
    for fn in _issue_locks:
        fn(invoice)


def invoice_issued(invoice: Any) -> None:
    """Call every listener in registration order (INSTALLED_APPS order of their apps)."""
    for fn in _issued:
        fn(invoice)
