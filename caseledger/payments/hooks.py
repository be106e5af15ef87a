"""Hooks payments offers to the apps above it.

``register_invoice_refunds_provider(fn)``: ``fn(invoice_ids: list[int]) -> dict[int, int]``
returns, per invoice id, the cents paid back to the client that came from that invoice (credit
notes' refunds, owned by the credits app). ``payments.selectors.invoice_money`` adds the
figures of every provider into ``refunded_cents``; a provider must answer with one query
whatever the number of ids, so the batch selector's query count stays constant.

``register_card_refund_listener(fn)``: ``fn(*, refund, actor, now)`` is called inside the
transaction of every card refund status change (requested, succeeded, failed, requested again:
``payments.refunds``), e.g. so a credit note's card refund follows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from caseledger.core.hooks import Listeners

RefundsProvider = Callable[[Sequence[int]], dict[int, int]]

_refunds: Listeners[RefundsProvider] = Listeners()

register_invoice_refunds_provider = _refunds.register
unregister_invoice_refunds_provider = _refunds.unregister


def invoice_refunds(invoice_ids: Sequence[int]) -> dict[int, int]:
    """Cents refunded per invoice id, summed over the registered providers (ids with nothing
    refunded are absent)."""
    out: dict[int, int] = {}
    if not invoice_ids:
        return out
    for fn in _refunds:
        for invoice_id, cents in fn(invoice_ids).items():
            out[invoice_id] = out.get(invoice_id, 0) + int(cents)
    return out


CardRefundListener = Callable[..., None]

_card_refund: Listeners[CardRefundListener] = Listeners()

register_card_refund_listener = _card_refund.register
unregister_card_refund_listener = _card_refund.unregister


def card_refund_changed(*, refund: Any, actor: Any, now: Any) -> None:
    for fn in _card_refund:
        fn(refund=refund, actor=actor, now=now)


# ``register_receipt_listener(fn)``: ``fn(*, payment)`` is called inside the transaction in which
# ``payment`` gets its receipt entry (``Payment.entry``: a payment recorded, a held one released),
# right after the link is written: the entry's postings were written before the link, so a posting
# listener that needs the payment (the reports' cash summary, by method) finishes here.
ReceiptListener = Callable[..., None]

_receipt: Listeners[ReceiptListener] = Listeners()

register_receipt_listener = _receipt.register
unregister_receipt_listener = _receipt.unregister


def receipt_linked(*, payment: Any) -> None:
    for fn in _receipt:
        fn(payment=payment)
