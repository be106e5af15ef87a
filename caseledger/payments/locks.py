"""Every select_for_update of the payments app. Global order: matter -> trust balance ->
invoice (settlement) -> payment -> refund. Callers holding earlier locks may call these; never
the reverse."""

from __future__ import annotations

from collections.abc import Iterable

from caseledger.billing.models import Invoice
from caseledger.payments.models import (
    CheckoutSession,
    CreditRefund,
    InvoiceSettlement,
    Payment,
    PaymentDispute,
    PaymentReversal,
)
from caseledger.payments.settlements import settlement_for


def lock_invoice_settlement(invoice: Invoice) -> InvoiceSettlement:
    """Lock (creating first if missing) the settlement row of ``invoice``."""
    settlement_for(invoice)
    return InvoiceSettlement.objects.select_for_update().get(invoice_id=invoice.pk)


def lock_invoice_settlements(invoices: Iterable[Invoice]) -> dict[int, InvoiceSettlement]:
    """Lock several settlements in invoice-id order (so two payments never deadlock)."""
    locked: dict[int, InvoiceSettlement] = {}
    for invoice in sorted({i.pk: i for i in invoices}.values(), key=lambda i: i.pk):
        locked[invoice.pk] = lock_invoice_settlement(invoice)
    return locked


def lock_payment(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


def lock_payments(payment_ids: Iterable[int]) -> list[Payment]:
    return list(Payment.objects.select_for_update().filter(pk__in=list(payment_ids)).order_by("id"))


def lock_reversal(reversal_id: int) -> PaymentReversal:
    """A payment's reversal request; after its payment and settlements."""
    return PaymentReversal.objects.select_for_update().get(pk=reversal_id)


def lock_refund(refund_id: int) -> CreditRefund:
    """A refund row; after its payment (a refund follows the payment it refunds)."""
    return CreditRefund.objects.select_for_update().get(pk=refund_id)


def lock_dispute(provider: str, provider_dispute_id: str) -> PaymentDispute | None:
    """A card dispute the provider reported (after the payment it disputes), or None."""
    return (
        PaymentDispute.objects.select_for_update()
        .filter(provider=provider, provider_dispute_id=provider_dispute_id)
        .first()
    )


def lock_checkout(provider_session_id: str) -> CheckoutSession | None:
    return (
        CheckoutSession.objects.select_for_update()
        .filter(provider_session_id=provider_session_id)
        .first()
    )
