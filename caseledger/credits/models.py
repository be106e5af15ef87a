"""Credit notes, their refunds, and write-offs.

An issued invoice never changes: every correction is one of these documents, linked to the
invoice, with the ledger entry that moves the money and the settlement row change made in the
same transaction (see ``credits.services``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.credits.choices import (
    DEFAULT_APPROVAL_REASONS,
    CreditNoteStatus,
    ReasonCode,
    RefundMethod,
    RefundSource,
    RefundStatus,
    WriteOffStatus,
)
from caseledger.matters.models import Matter


def default_approval_reasons() -> list[str]:
    return list(DEFAULT_APPROVAL_REASONS)


class CreditSettings(models.Model):
    """The firm's credit-note rules (row id 1). Amount thresholds live on core.Firm."""

    # Reason codes that always need a partner's approval, whatever the amount.
    approval_reason_codes = models.JSONField(default=default_approval_reasons)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="credits_settings_singleton")
        ]

    def __str__(self) -> str:
        return "Credit note settings"


class CreditNoteCounter(models.Model):
    """Gapless credit-note sequence per calendar year; locked and bumped with F()+1 on issue."""

    year = models.PositiveIntegerField(unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"


class CreditNote(models.Model):
    """A correction of an issued invoice: reduces what the client owes, or becomes client credit.

    ``amount_cents`` splits on issue into ``balance_cents`` (reduces the invoice's balance due:
    Dr fee revenue, Cr A/R) and ``client_credit_cents`` (the part already paid: Dr fee revenue,
    Cr unapplied client credits), of which ``refund_cents`` is then refunded to where the money
    came from. The number is assigned only on issue, so rejected requests leave no gap.
    """

    number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="credit_notes")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="credit_notes")
    status = models.CharField(max_length=20, choices=CreditNoteStatus.choices)
    reason_code = models.CharField(max_length=20, choices=ReasonCode.choices)
    reason_text = models.CharField(max_length=500, blank=True)
    currency = models.CharField(max_length=3)
    amount_cents = models.BigIntegerField()  # cents, > 0; the sum of the lines
    balance_cents = models.BigIntegerField(default=0)  # cents of amount taken off A/R (on issue)
    client_credit_cents = models.BigIntegerField(default=0)  # cents to unapplied credit (on issue)
    # What the requester asked to refund of the client-credit part, and how.
    refund_cents = models.BigIntegerField(default=0)
    refund_method = models.CharField(max_length=12, choices=RefundMethod.choices, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    # The ledger entry posted on issue.
    entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="credits_cn_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(balance_cents__gte=0)
                & models.Q(client_credit_cents__gte=0)
                & models.Q(refund_cents__gte=0),
                name="credits_cn_parts_nonnegative",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CreditNoteStatus.ISSUED)
                | models.Q(
                    amount_cents=models.F("balance_cents") + models.F("client_credit_cents")
                ),
                name="credits_cn_split_sums",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CreditNoteStatus.ISSUED)
                | models.Q(refund_cents__lte=models.F("client_credit_cents")),
                name="credits_cn_refund_within_client_credit",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CreditNoteStatus.ISSUED)
                | models.Q(number__isnull=False),
                name="credits_cn_issued_has_number",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return self.number or f"Credit note request #{self.pk}"


class CreditNoteLine(models.Model):
    """One credited amount: against a line of the invoice (by its description) or the whole."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=300)
    # The invoice line credited (billing.InvoiceLine id), or null for an amount on the invoice.
    invoice_line_id = models.BigIntegerField(null=True, blank=True)
    amount_cents = models.BigIntegerField()  # cents, > 0

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="credits_cnline_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["credit_note", "position"], name="credits_cnline_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return self.description


class CreditNoteSource(models.Model):
    """Where the paid part of an issued credit note went back to: a payment's unapplied credit
    (``payment_id``) or the client's trust ledger. Refunds follow these rows."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="sources")
    kind = models.CharField(max_length=12, choices=RefundSource.choices)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_cents = models.BigIntegerField()  # cents, > 0

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="credits_source_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=RefundSource.TRUST, payment_id__isnull=True)
                | models.Q(kind=RefundSource.OPERATING, payment_id__isnull=False),
                name="credits_source_kind_matches_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents} back to {self.kind}"


class CreditRefund(models.Model):
    """Money from a credit note going back to the client, from operating or through trust."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="refunds")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=12, choices=RefundSource.choices)
    method = models.CharField(max_length=12, choices=RefundMethod.choices)
    status = models.CharField(max_length=24, choices=RefundStatus.choices)
    amount_cents = models.BigIntegerField()  # cents, > 0
    refund_date = models.DateField()
    reference = models.CharField(max_length=120, blank=True)
    # The payments app's refund (operating) or the trust app's disbursement request (trust).
    external_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="credits_refund_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(source=RefundSource.TRUST, method=RefundMethod.TRUST)
                | (models.Q(source=RefundSource.OPERATING) & ~models.Q(method=RefundMethod.TRUST)),
                name="credits_refund_method_matches_source",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount_cents} for {self.credit_note}"


class WriteOff(models.Model):
    """An unpaid balance written off as bad debt (Dr write-offs, Cr A/R); reversible."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="write_offs")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=WriteOffStatus.choices)
    amount_cents = models.BigIntegerField()  # cents, > 0
    reason = models.CharField(max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    posted_date = models.DateField(null=True, blank=True)
    entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.CharField(max_length=500, blank=True)
    reversal_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="credits_writeoff_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Write-off #{self.pk} of {self.invoice}"
