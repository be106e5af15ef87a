"""Every row lock the credits app takes, in the global order matter -> trust balance -> invoice
-> payment. The invoice's balance lives on the payments app's settlement row, so locking the
invoice means locking that row (``payments.locks.lock_invoice_settlement``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from caseledger.core.numbering import counter_next
from caseledger.credits.choices import RefundMethod, RefundSource
from caseledger.credits.models import (
    CreditNote,
    CreditNoteCounter,
    CreditRefund,
    CreditSettings,
    WriteOff,
)


def credit_settings_lock() -> CreditSettings:
    """The settings singleton, locked (created with its defaults first if nobody saved it yet)."""
    CreditSettings.objects.get_or_create(id=1)
    return CreditSettings.objects.select_for_update().get(id=1)


def lock_settlement(invoice: Any) -> Any:
    from caseledger.payments.locks import lock_invoice_settlement

    return lock_invoice_settlement(invoice)


def invoice_paid_from_trust(invoice: Any) -> bool:
    from caseledger.trust.models import TrustTransfer

    return TrustTransfer.objects.filter(invoice=invoice).exists()


def lock_for_credit(invoice: Any, *, now: Any, lock_matter: bool = False) -> Any:
    """Locks for a credit on ``invoice``, in the global order: the matter when the credit
    changes it (a scope reduction lowers its budget); when trust paid any of it (its credit may
    go back to the client's trust ledger and be refunded by a disbursement), the matter's trust
    row and the ledger's trust balance row; then the settlement row."""
    if lock_matter:
        from caseledger.matters.locks import matter_lock

        matter_lock(matter_id=invoice.matter_id)
    if invoice_paid_from_trust(invoice):
        from caseledger.trust.locks import lock_matter_trust

        lock_matter_trust(invoice.matter, now)
    return lock_settlement(invoice)


def lock_payments(payment_ids: Iterable[int]) -> list[Any]:
    """The payments a credit returns money to (after the settlement row; payments' own lock takes
    them in id order)."""
    from caseledger.payments.locks import lock_payments as lock

    return lock(payment_ids)


def lock_credit_note(credit_note: CreditNote) -> CreditNote:
    return CreditNote.objects.select_for_update().get(pk=credit_note.pk)


def lock_write_off(write_off: WriteOff) -> WriteOff:
    return WriteOff.objects.select_for_update().get(pk=write_off.pk)


def lock_card_refunds(card_refund_id: int) -> list[CreditRefund]:
    """The credit-note refunds sent as the payments app's card refund ``card_refund_id``, in id
    order (taken inside that refund's transaction, after its own row)."""
    return list(
        CreditRefund.objects.select_for_update()
        .filter(source=RefundSource.OPERATING, method=RefundMethod.CARD, external_id=card_refund_id)
        .order_by("id")
    )


def lock_trust_refunds(disbursement_id: int) -> list[CreditRefund]:
    """The credit-note refunds paid by trust disbursement ``disbursement_id``, in id order."""
    return list(
        CreditRefund.objects.select_for_update()
        .filter(source=RefundSource.TRUST, external_id=disbursement_id)
        .order_by("id")
    )


def credit_note_next_sequence(year: int) -> int:
    """Bump the year's counter under its row lock and return the new value (gapless: the caller's
    transaction either commits the number with the document or rolls both back)."""
    return counter_next(CreditNoteCounter, year=year)
