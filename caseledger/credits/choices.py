from django.db import models


class ReasonCode(models.TextChoices):
    OVERPAYMENT = "OVERPAYMENT", "Overpayment"
    DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT", "Duplicate payment"
    SCOPE_CHANGE = "SCOPE_CHANGE", "Scope change"
    # Less work than agreed: the credit also lowers the matter's budget by its amount.
    SCOPE_REDUCTION = "SCOPE_REDUCTION", "Scope reduction (lowers the matter budget)"
    BILLING_ERROR = "BILLING_ERROR", "Billing error"
    COURTESY_DISCOUNT = "COURTESY_DISCOUNT", "Courtesy discount"
    FEE_WAIVER = "FEE_WAIVER", "Fee waiver"
    OTHER = "OTHER", "Other"


# Reason codes that wait for a partner whatever the amount, unless the firm changes the list.
DEFAULT_APPROVAL_REASONS = [ReasonCode.FEE_WAIVER.value, ReasonCode.COURTESY_DISCOUNT.value]


class CreditNoteStatus(models.TextChoices):
    PENDING_APPROVAL = "PENDING_APPROVAL", "Waiting for partner approval"
    ISSUED = "ISSUED", "Issued"
    REJECTED = "REJECTED", "Rejected"


class RefundMethod(models.TextChoices):
    CHECK = "CHECK", "Check"
    TRANSFER = "TRANSFER", "Bank transfer"
    CARD = "CARD", "Back to the card"
    TRUST = "TRUST", "Back through trust (disbursement)"


class RefundSource(models.TextChoices):
    """Where the refunded money leaves from: separate entries and separate report lines."""

    OPERATING = "OPERATING", "Operating"
    TRUST = "TRUST", "Trust"


class RefundStatus(models.TextChoices):
    POSTED = "POSTED", "Refunded"
    # A card refund follows the payments app's two-phase refund (payments.refunds): sent to
    # the card processor, then refunded (POSTED) or failed (nothing left operating).
    CARD_REQUESTED = "CARD_REQUESTED", "Sent to the card processor"
    CARD_FAILED = "CARD_FAILED", "Card processor refused the refund"
    # A trust refund follows its disbursement request (trust.hooks): requested -> approved ->
    # paid (POSTED), or rejected / expired (nothing left trust; the money stays in the client's
    # trust ledger).
    AWAITING_DISBURSEMENT = "AWAITING_DISBURSEMENT", "Waiting for trust disbursement approval"
    DISBURSEMENT_APPROVED = "DISBURSEMENT_APPROVED", "Trust disbursement approved, not yet paid"
    DISBURSEMENT_REJECTED = "DISBURSEMENT_REJECTED", "Trust disbursement rejected"
    DISBURSEMENT_EXPIRED = "DISBURSEMENT_EXPIRED", "Trust disbursement expired"


# Trust refunds that moved no money (their disbursement was rejected or expired): they may be
# requested again.
RETRYABLE_REFUND_STATUSES = (RefundStatus.DISBURSEMENT_REJECTED, RefundStatus.DISBURSEMENT_EXPIRED)


class WriteOffStatus(models.TextChoices):
    PENDING_APPROVAL = "PENDING_APPROVAL", "Waiting for partner approval"
    POSTED = "POSTED", "Written off"
    REJECTED = "REJECTED", "Rejected"
    REVERSED = "REVERSED", "Reversed"
