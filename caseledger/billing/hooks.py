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

``register_invoice_money_provider(provider)``: the money of issued invoices lives above billing
(payments keeps the settlements; the ledger the postings). The payments app registers the one
provider, an object with ``states`` (the payment-state choices), ``money(invoices, *, as_of)``
(a dict id -> object with ``state``, ``balance_due_cents``... — ``payments.selectors.
InvoiceMoney``) and ``annotate(queryset, *, as_of)`` (adds the SQL annotations
``payment_state`` and ``balance_due_cents`` that billing's invoice list filters, sorts and
totals on). Billing's pages read them through ``invoice_money``, ``invoice_money_annotate`` and
``invoice_payment_states``; without a provider the pages show no money. The provider's
``tally(*, status, partner_id)`` answers the count, total and balance due of every invoice of a
status and responsible partner (either may be empty) from a table the database keeps
(``payments.InvoiceTally``), in constant time: billing reads it through ``invoice_tally``.

``register_invoice_activity_listener(fn)``: ``fn(invoice, user) -> list[InvoiceActivity]``,
what the app did to an issued invoice's balance (payments, trust applications, credit notes,
write-offs, refunds), for the invoice page's "Payments and adjustments" table. A row's ``url``
is None when ``user`` may not open that page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
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


@dataclass(frozen=True)
class InvoiceActivity:
    """One row of an invoice's "Payments and adjustments": ``amount_cents`` is what the row moved
    (a payment's part applied to this invoice, a credit, a write-off, a refund paid out)."""

    on: date
    kind: str  # "Payment", "Trust application", "Credit note", "Write-off", "Refund"
    document: str  # the document's number
    detail: str  # method and reference, status, reason
    amount_cents: int
    url: str | None = None
    at: datetime | None = None  # when it was recorded: orders the rows of one date


_money: Listeners[Any] = Listeners()
_activity: Listeners[Callable[[Any, Any], list[InvoiceActivity]]] = Listeners()

register_invoice_money_provider = _money.register
register_invoice_activity_listener = _activity.register


def _money_provider() -> Any | None:
    return next(iter(_money), None)


def invoice_money(invoices: Iterable[Any], *, as_of: date) -> dict[int, Any]:
    """The registered provider's money per invoice id ({} without a provider)."""
    provider = _money_provider()
    return {} if provider is None else provider.money(invoices, as_of=as_of)


def invoice_money_annotate(invoices: Any, *, as_of: date) -> Any:
    """``invoices`` with ``payment_state`` and ``balance_due_cents`` (None without a provider)."""
    provider = _money_provider()
    return None if provider is None else provider.annotate(invoices, as_of=as_of)


def invoice_tally(*, status: str = "", partner_id: int | None = None) -> Any | None:
    """The provider's totals (``count``, ``total_cents``, ``balance_due_cents``) of every
    invoice of ``status`` and ``partner_id`` (None without a provider)."""
    provider = _money_provider()
    return None if provider is None else provider.tally(status=status, partner_id=partner_id)


def invoice_payment_states() -> list[tuple[str, str]]:
    provider = _money_provider()
    return [] if provider is None else list(provider.states)


def invoice_activity(invoice: Any, user: Any) -> list[InvoiceActivity]:
    """Every listener's rows for ``invoice``, oldest first."""
    rows = [row for fn in _activity for row in fn(invoice, user)]
    return sorted(rows, key=lambda r: (r.on, r.at.timestamp() if r.at else 0.0))


# -- government fees paid from trust (ADR 011) ---------------------------------------------------
# The trust app registers ``fn(matter_id, fee_code) -> str | None``: the disbursement (number and
# date, for people) that paid that government fee of the matter out of trust, or None. Billing
# then never bills or advances that fee again.
_fee_paid_from_trust: Listeners[Callable[[int, str], str | None]] = Listeners()
register_fee_paid_from_trust_provider = _fee_paid_from_trust.register


def fee_paid_from_trust(*, matter_id: int, fee_code: str) -> str | None:
    for fn in _fee_paid_from_trust:
        found = fn(matter_id, fee_code)
        if found:
            return found
    return None
