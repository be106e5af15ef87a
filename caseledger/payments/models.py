"""Payments received by the firm's operating account, their allocations to invoices, what each
issued invoice has received (InvoiceSettlement), online checkout sessions and processed webhook
event ids. Amounts are integer cents (``*_cents``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.matters.models import Matter
from caseledger.payments.choices import (
    CheckoutPurpose,
    CheckoutStatus,
    DisputeStatus,
    PaymentMethod,
    PaymentStatus,
    Provider,
    RefundMethod,
    RefundStatus,
    ReversalStatus,
)


class InvoiceSettlement(models.Model):
    """What an issued invoice has received. The invoice itself never changes after issue.

    Invariant (database): 0 <= paid + credited + written_off <= total. Only the payments and
    credits services change a row, in the same transaction as the ledger entry that moves the
    money, after ``payments.locks.lock_invoice_settlement``.
    """

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="settlement")
    total_cents = models.BigIntegerField()  # cents; copy of the issued invoice's total
    paid_cents = models.BigIntegerField(default=0)  # cents; payments and trust transfers
    credited_cents = models.BigIntegerField(default=0)  # cents; credit notes
    written_off_cents = models.BigIntegerField(default=0)  # cents; write-offs
    balance_due_cents = models.GeneratedField(
        expression=F("total_cents")
        - F("paid_cents")
        - F("credited_cents")
        - F("written_off_cents"),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(paid_cents__gte=0)
                & Q(credited_cents__gte=0)
                & Q(written_off_cents__gte=0),
                name="payments_settlement_parts_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(
                    total_cents__gte=F("paid_cents") + F("credited_cents") + F("written_off_cents")
                ),
                name="payments_settlement_not_over_total",
            ),
        ]

    def __str__(self) -> str:
        return f"settlement of {self.invoice}"


class CheckoutSession(models.Model):
    """One attempt to pay online through a provider, for an invoice or a trust request.

    ``token`` is the public id used in provider return URLs; ``provider_session_id`` the provider's.
    """

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    provider_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    purpose = models.CharField(max_length=16, choices=CheckoutPurpose.choices)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="checkouts"
    )
    # trust.TrustRequest id when purpose is TRUST_REQUEST (trust sits above payments).
    trust_request_id = models.BigIntegerField(null=True, blank=True)
    amount_cents = models.BigIntegerField()  # cents asked from the payer
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(
        max_length=12, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN
    )
    checkout_url = models.URLField(max_length=1000, blank=True)
    # The provider's payment id once paid (Stripe PaymentIntent): how refunds and disputes the
    # provider reports later find this checkout and its payment.
    payment_ref = models.CharField(max_length=255, blank=True, default="", db_index=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="payments_checkout_amount_positive"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        purpose=CheckoutPurpose.INVOICE,
                        invoice__isnull=False,
                        trust_request_id__isnull=True,
                    )
                    | Q(
                        purpose=CheckoutPurpose.TRUST_REQUEST,
                        invoice__isnull=True,
                        trust_request_id__isnull=False,
                    )
                ),
                name="payments_checkout_target_matches_purpose",
            ),
        ]

    def __str__(self) -> str:
        return f"checkout {self.token} ({self.get_status_display()})"


class CheckoutInvoice(models.Model):
    """One of several invoices a single checkout pays (the client portal's "pay these"): the
    session's ``invoice`` is the first of them; these rows list every one with the amount asked
    for it (its balance due when the checkout opened). A one-invoice checkout has none."""

    session = models.ForeignKey(
        CheckoutSession, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()  # cents asked for this invoice, > 0

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "invoice"], name="payments_checkout_invoice_once"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="payments_checkout_invoice_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} in {self.session}"


class Payment(models.Model):
    """Money received into the operating account from a client (or held for review).

    ``unapplied_cents`` is the part of this payment that is still an unapplied client credit
    (UNAPPLIED_CLIENT_CREDITS); allocations and refunds draw it down, never below zero.
    """

    number = models.CharField(max_length=20, unique=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payments")
    matter = models.ForeignKey(
        Matter, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.RECEIVED
    )
    payer = models.CharField(max_length=200)
    # Check number for checks, wire/ACH reference, provider charge id for card payments.
    reference = models.CharField(max_length=120, blank=True)
    received_date = models.DateField()
    amount_cents = models.BigIntegerField()  # cents the payer paid
    fee_cents = models.BigIntegerField(
        default=0
    )  # cents the processor kept (to CARD_PROCESSING_FEES)
    unapplied_cents = models.BigIntegerField(default=0)  # cents still unapplied credit
    # cents of the unapplied credit held for card refunds sent to the processor and not yet
    # settled (CreditRefund REQUESTED): nothing else may spend them.
    refund_pending_cents = models.BigIntegerField(default=0)
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.MANUAL)
    checkout = models.ForeignKey(
        CheckoutSession, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    held_reason = models.CharField(max_length=300, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    # The receipt entry (PAYMENT_RECEIVED): one payment per entry, so the reports join a
    # receipt's A/R postings to its payment's method without a row per duplicate.
    entry = models.OneToOneField(
        "ledger.JournalEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="payments_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(fee_cents__gte=0) & Q(fee_cents__lte=F("amount_cents")),
                name="payments_payment_fee_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(unapplied_cents__gte=0) & Q(unapplied_cents__lte=F("amount_cents")),
                name="payments_payment_unapplied_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refund_pending_cents__gte=0)
                & Q(refund_pending_cents__lte=F("unapplied_cents")),
                name="payments_payment_refund_pending_within_unapplied",
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.RECEIVED) | Q(entry__isnull=False),
                name="payments_payment_received_has_entry",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "received_date"]),
            # The held payments (the home panel, "waiting on you") and this month's receipts
            # without scanning every payment.
            models.Index(fields=["status", "received_date"], name="payments_status_recv_idx"),
            # The payments list's order (``-received_date, -id``), read backwards: a page is the
            # first rows of this index, not a sort of every payment (700,000 payments: 800 ms).
            models.Index(fields=["received_date", "id"], name="payments_recv_id_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentAllocation(models.Model):
    """Part of a payment applied to one invoice (at receipt, or later from unapplied credit)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount_cents = models.BigIntegerField()  # cents
    applied_date = models.DateField()
    from_credit = models.BooleanField(default=False)  # applied later from unapplied credit
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="payments_allocation_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment} -> {self.invoice}"


class CreditRefund(models.Model):
    """Unapplied credit paid back to the client from the operating account.

    A card refund is two-phase (``payments.refunds``): the row is committed REQUESTED before
    the processor is called with ``idempotency_key``, then SUCCEEDED (``entry`` posted,
    ``reference`` = the processor's refund id) or FAILED in a second transaction."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.BigIntegerField()  # cents
    method = models.CharField(max_length=10, choices=RefundMethod.choices)
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.SUCCEEDED
    )
    # Each user retry of a failed card refund is a new attempt, so a new key at the processor
    # (a processor replays a refused key's refusal); the retry job keeps the attempt's key.
    attempt = models.PositiveIntegerField(default=1)
    reference = models.CharField(max_length=120, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    refund_date = models.DateField()
    entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    requested_at = models.DateTimeField(null=True, blank=True)  # the current attempt's phase 1
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="payments_refund_amount_positive"
            ),
            models.CheckConstraint(
                condition=(Q(status=RefundStatus.SUCCEEDED) & Q(entry__isnull=False))
                | (~Q(status=RefundStatus.SUCCEEDED) & Q(entry__isnull=True)),
                name="payments_refund_entry_iff_succeeded",
            ),
            models.CheckConstraint(
                condition=Q(method=RefundMethod.CARD) | Q(status=RefundStatus.SUCCEEDED),
                name="payments_refund_only_card_is_two_phase",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return f"refund of {self.payment}"

    @property
    def idempotency_key(self) -> str:
        """The key the processor sees for this attempt: the same on every retry of it."""
        return f"caseledger-refund-{self.pk}-{self.attempt}"


class ProcessedWebhookEvent(models.Model):
    """A provider event id handled once: inserted in the same transaction that records the money,
    so a redelivered or concurrent duplicate fails on the unique constraint and moves nothing."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=200)
    # The verified body as received: every value whole, where columns hold them cut.
    payload = models.TextField(blank=True, default="")
    processed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="payments_webhook_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class ProviderRefund(models.Model):
    """A refund the provider reports for a card payment (made in its dashboard): money back to
    the payer from operating, recorded once per provider refund id. It takes the payment's
    unapplied credit first, then reopens the invoices the payment paid (newest allocation
    first); anything left (already reopened by a credit note) is expensed to REFUNDS."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="provider_refunds")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    provider_refund_id = models.CharField(max_length=255)
    amount_cents = models.BigIntegerField()  # cents returned to the payer
    from_unapplied_cents = models.BigIntegerField(default=0)  # cents of unapplied credit
    reopened_cents = models.BigIntegerField(default=0)  # cents due again on invoices
    refund_date = models.DateField()
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_refund_id"], name="payments_provider_refund_once"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0)
                & Q(from_unapplied_cents__gte=0)
                & Q(reopened_cents__gte=0)
                & Q(amount_cents__gte=F("from_unapplied_cents") + F("reopened_cents")),
                name="payments_provider_refund_parts",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.provider_refund_id} of {self.payment}"


class PaymentDispute(models.Model):
    """A card payment the payer disputed at the provider, once per provider dispute id.

    Opened: the disputed amount moves from operating to PROCESSOR_CLEARING (the provider holds
    it) and billing gets a task. Won: it comes back to operating. Lost: it leaves for good,
    taking the payment's unapplied credit first, then reopening the invoices it paid."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    provider_dispute_id = models.CharField(max_length=255)
    amount_cents = models.BigIntegerField()  # cents the provider holds
    status = models.CharField(
        max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    provider_status = models.CharField(max_length=40, blank=True)  # the provider's own word
    reason = models.CharField(max_length=120, blank=True)  # the payer's reason, as reported
    hold_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, related_name="+"
    )
    outcome_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        "matters.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_dispute_id"], name="payments_dispute_once"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="payments_dispute_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status=DisputeStatus.OPEN, outcome_entry__isnull=True)
                | (~Q(status=DisputeStatus.OPEN) & Q(outcome_entry__isnull=False)),
                name="payments_dispute_outcome_posted",
            ),
        ]

    def __str__(self) -> str:
        return f"dispute {self.provider_dispute_id} of {self.payment}"


class PaymentReopening(models.Model):
    """Money a payment had paid on an invoice that is due again, because the payer got it back
    (a provider refund or a lost dispute). What a payment still covers on an invoice is its
    allocations there less its reopenings there."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="reopenings")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()  # cents due again
    refund = models.ForeignKey(
        ProviderRefund, null=True, blank=True, on_delete=models.PROTECT, related_name="reopenings"
    )
    dispute = models.ForeignKey(
        PaymentDispute,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reopenings",
    )
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="payments_reopening_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(refund__isnull=False, dispute__isnull=True)
                | Q(refund__isnull=True, dispute__isnull=False),
                name="payments_reopening_one_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment} reopened {self.invoice}"


class DocumentCounter(models.Model):
    """Gapless counters for payment numbers (``name`` = "payment")."""

    name = models.CharField(max_length=40, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class CorrectionSettings(models.Model):
    """The firm's rule for corrections of posted money (row id 1): reversing a payment or a trust
    deposit above ``reversal_approval_cents`` waits for a partner other than the requester."""

    reversal_approval_cents = models.BigIntegerField(default=100_000)  # cents
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "correction settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="payments_corrections_singleton"),
            models.CheckConstraint(
                condition=Q(reversal_approval_cents__gte=0),
                name="payments_corrections_threshold_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return "correction settings"


class PaymentReversal(models.Model):
    """A request to reverse a posted payment (a bounced check, a payment recorded by mistake),
    with its reason, its partner approval when above the firm's threshold, and the reversing
    entry once posted. At most one live (waiting or posted) reversal per payment."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="reversals")
    amount_cents = models.BigIntegerField()  # cents; the payment's amount
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=10, choices=ReversalStatus.choices, default=ReversalStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    # The reversal of the payment's own entry (it names the original through ``reverses``).
    entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(status__in=[ReversalStatus.REQUESTED, ReversalStatus.POSTED]),
                name="payments_reversal_one_live",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReversalStatus.POSTED) | Q(entry__isnull=False),
                name="payments_reversal_posted_has_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"reversal of {self.payment}"


class FormSubmission(models.Model):
    """A one-time form token consumed (core.forms.handle_form): inserted in the transaction of
    the write the form asked for, so a second submit of the same page fails on the unique key
    and records nothing. A refused write rolls its row back, so the form can be sent again."""

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField(max_length=300)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"form {self.path} at {self.created_at:%Y-%m-%d %H:%M}"


class InvoiceTally(models.Model):
    """The invoice list's totals kept up to date by the database (payments 0008): per (invoice
    status, responsible partner), rows of deltas whose sums are the number of invoices, their
    total and their balance due (an ISSUED invoice's settlement balance, its total while it has
    no settlement row; 0 in any other status). Insert-only, so concurrent writers never wait on
    one hot row: triggers on ``billing_invoice`` and ``payments_invoicesettlement`` add a row
    per change, ``tally.invoice_tally_compact`` (every few minutes) folds them into one row per
    key and drops keys that sum to zero; ``selectors.invoice_tally`` sums a key's rows and
    ``invoice_tally_verify`` (``manage.py verify`` check ``invoice_tally``) compares the sums
    with the invoices. Left out of the firm export: an import's triggers rebuild it."""

    status = models.CharField(max_length=12)  # billing InvoiceStatus
    # the invoice's responsible partner (a user id; no foreign key: derived rows, never joined)
    responsible_partner_id = models.BigIntegerField(null=True)
    invoice_count = models.BigIntegerField()  # delta of the number of invoices
    total_cents = models.BigIntegerField()  # cents; delta of their totals
    balance_due_cents = models.BigIntegerField()  # cents; delta of their balance due

    class Meta:
        indexes = [
            models.Index(fields=["status", "responsible_partner_id"], name="payments_tally_key_idx")
        ]

    def __str__(self) -> str:
        return f"tally {self.status}/{self.responsible_partner_id}"
