from django.db import models


class PaymentMethod(models.TextChoices):
    CARD = "CARD", "Card"
    ACH = "ACH", "ACH bank transfer"
    CHECK = "CHECK", "Check"
    WIRE = "WIRE", "Wire"
    CASH = "CASH", "Cash"


class PaymentStatus(models.TextChoices):
    # Recorded and posted to the ledger.
    RECEIVED = "RECEIVED", "Received"
    # Money reported by the provider whose amount did not match what was asked: no entry yet.
    HELD = "HELD", "Held for review"
    # A held payment that staff rejected (returned to the payer at the provider).
    REJECTED = "REJECTED", "Rejected"
    # A held trust-request payment released into trust (the TrustDeposit carries the money).
    TO_TRUST = "TO_TRUST", "Deposited to trust"
    # Posted, then corrected by a reversing entry (nothing deleted): it pays nothing any more.
    REVERSED = "REVERSED", "Reversed"


class CheckoutPurpose(models.TextChoices):
    INVOICE = "INVOICE", "Invoice"
    TRUST_REQUEST = "TRUST_REQUEST", "Trust request"


class CheckoutStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    PROCESSING = "PROCESSING", "Awaiting settlement"
    PAID = "PAID", "Paid"
    DECLINED = "DECLINED", "Declined"
    HELD = "HELD", "Held for review"
    EXPIRED = "EXPIRED", "Expired"


class Provider(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    STRIPE = "stripe", "Stripe"
    MANUAL = "manual", "Recorded by staff"


class RefundMethod(models.TextChoices):
    CHECK = "CHECK", "Check"
    TRANSFER = "TRANSFER", "Bank transfer"
    CARD = "CARD", "Card (through the provider)"


class RefundStatus(models.TextChoices):
    """A refund of unapplied credit. Check and transfer refunds are SUCCEEDED at once; a card
    refund is REQUESTED (committed before the processor is called), then SUCCEEDED (its ledger
    entry posted) or FAILED (the processor refused; nothing posted). See ``payments.refunds``."""

    REQUESTED = "REQUESTED", "Sent to the card processor"
    SUCCEEDED = "SUCCEEDED", "Refunded"
    FAILED = "FAILED", "Failed at the card processor"


class DisputeStatus(models.TextChoices):
    # The provider took the disputed amount: held (PROCESSOR_CLEARING) until the outcome.
    OPEN = "OPEN", "Open"
    # Decided for the firm (or an inquiry closed): the held amount is back in operating.
    WON = "WON", "Won"
    # Decided for the cardholder: the money is gone and what it paid is due again.
    LOST = "LOST", "Lost"


class InvoicePaymentState(models.TextChoices):
    """Where an invoice stands with the money, derived (never stored) by
    ``payments.selectors.invoice_money``. Lower-case values: the API exposes them as they are."""

    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PARTLY_PAID = "partly_paid", "Partly paid"
    OVERDUE = "overdue", "Overdue"
    PAID = "paid", "Paid"
    CREDITED = "credited", "Credited"
    WRITTEN_OFF = "written_off", "Written off"
    VOID = "void", "Void"


class ReversalStatus(models.TextChoices):
    """A correction of something posted (a payment, a trust deposit): a reversing entry."""

    REQUESTED = "REQUESTED", "Awaiting a partner's approval"
    POSTED = "POSTED", "Reversed"
    REJECTED = "REJECTED", "Rejected"
