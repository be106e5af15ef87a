"""Client trust (IOLTA): settings, per-matter trust rows (the balance lock), trust requests,
deposits with clearing dates, earned-fee transfers, disputed holds and disbursements with
approvals. Amounts are integer cents. Balances themselves live in the ledger."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.matters.models import Matter
from caseledger.payments.choices import ReversalStatus
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementMethod,
    DisbursementPurpose,
    DisbursementStatus,
    DisputeStatus,
    TrustRequestKind,
    TrustRequestStatus,
)


class TrustSettings(models.Model):
    """The firm's trust policy (row id 1). Clearing periods are business days (Mon-Fri)."""

    check_clear_days = models.PositiveSmallIntegerField(default=7)
    ach_clear_days = models.PositiveSmallIntegerField(default=3)
    wire_clear_days = models.PositiveSmallIntegerField(default=1)
    cash_clear_days = models.PositiveSmallIntegerField(default=0)
    # Card funds clear when the processor settles them (sandbox: at once; Stripe: marked settled).
    low_balance_threshold_cents = models.BigIntegerField(default=100_000)  # cents, firm default
    auto_replenish = models.BooleanField(
        default=False,
        help_text="When a matter's balance falls below its threshold, send the client a "
        "replenishment trust request up to the threshold.",
    )
    # True when the processor pays trust deposits out net of its fee; operating then tops up.
    processor_nets_fee = models.BooleanField(default=True)
    disbursement_expiry_days = models.PositiveSmallIntegerField(default=30)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "trust settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="trust_settings_singleton"),
            models.CheckConstraint(
                condition=Q(low_balance_threshold_cents__gte=0),
                name="trust_settings_threshold_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return "trust settings"


class MatterTrust(models.Model):
    """Per-matter trust row: the threshold override and the row locked before any balance check
    on this matter's trust money (lock order: matter -> trust balance -> invoice -> payment)."""

    matter = models.OneToOneField(Matter, on_delete=models.PROTECT, related_name="trust")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    # None: the firm default from TrustSettings.
    low_balance_threshold_cents = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(low_balance_threshold_cents__isnull=True)
                | Q(low_balance_threshold_cents__gte=0),
                name="trust_matter_threshold_nonneg",
            ),
        ]

    def __str__(self) -> str:
        return f"trust for {self.matter}"


class TrustRequest(models.Model):
    """A request to the client to put money in trust (a retainer or a replenishment). Not an
    invoice: it is not revenue and its payments land only in trust."""

    number = models.CharField(max_length=20, unique=True)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="trust_requests")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="trust_requests")
    kind = models.CharField(max_length=14, choices=TrustRequestKind.choices)
    status = models.CharField(
        max_length=10, choices=TrustRequestStatus.choices, default=TrustRequestStatus.OPEN
    )
    amount_cents = models.BigIntegerField()  # cents requested
    received_cents = models.BigIntegerField(default=0)  # cents deposited against it so far
    issue_date = models.DateField()
    due_date = models.DateField()
    memo = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="trust_request_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(received_cents__gte=0), name="trust_request_received_nonneg"
            ),
            # Never two open automatic replenishment requests for one matter.
            models.UniqueConstraint(
                fields=["matter"],
                condition=Q(
                    kind=TrustRequestKind.REPLENISHMENT,
                    status__in=[TrustRequestStatus.OPEN, TrustRequestStatus.PARTIALLY_PAID],
                ),
                name="trust_request_one_open_replenishment",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding_cents(self) -> int:
        return max(self.amount_cents - self.received_cents, 0)


class TrustDeposit(models.Model):
    """Money received into the trust bank for one client and matter.

    ``amount_cents`` is what the client paid and what the client's trust ledger is credited, always
    in full; a card processor's fee is borne by operating in the same entry. ``clears_on`` is the
    date the funds are cleared (None: a card payment not yet settled by the processor).
    """

    receipt_number = models.CharField(max_length=20, unique=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="trust_deposits")
    # The trust bank account (ledger account 1010-1099) the money is in; None on rows from
    # before the firm could hold more than one: the primary account (1010).
    trust_account = models.ForeignKey(
        "ledger.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="trust_deposits")
    trust_request = models.ForeignKey(
        TrustRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="deposits"
    )
    method = models.CharField(max_length=8, choices=DepositMethod.choices)
    payer = models.CharField(max_length=200)
    reference = models.CharField(max_length=120, blank=True)
    received_date = models.DateField()
    clears_on = models.DateField(null=True, blank=True)
    amount_cents = models.BigIntegerField()  # cents credited to the client in full
    fee_cents = models.BigIntegerField(default=0)  # cents of processor fee, paid by operating
    fee_netted = models.BooleanField(default=False)  # processor paid trust out net of the fee
    provider = models.CharField(max_length=16, default="manual")
    provider_ref = models.CharField(max_length=255, null=True, blank=True, unique=True)
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    # The operating entry bearing the card fee (posted in the same transaction), if any.
    fee_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="trust_deposit_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(fee_cents__gte=0) & Q(fee_cents__lte=F("amount_cents")),
                name="trust_deposit_fee_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(clears_on__isnull=True) | Q(clears_on__gte=F("received_date")),
                name="trust_deposit_clears_after_receipt",
            ),
        ]
        indexes = [models.Index(fields=["matter", "clears_on"])]

    def __str__(self) -> str:
        return self.receipt_number


class TrustTransfer(models.Model):
    """Earned fees moved from trust to operating against one issued invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="trust_transfers")
    # The trust bank account (ledger account 1010-1099) the money is in; None on rows from
    # before the firm could hold more than one: the primary account (1010).
    trust_account = models.ForeignKey(
        "ledger.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="trust_transfers")
    amount_cents = models.BigIntegerField()  # cents
    transfer_date = models.DateField()
    automatic = models.BooleanField(default=False)  # applied by auto-apply on issue
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="trust_transfer_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"trust -> {self.invoice}"


class DisputeHold(models.Model):
    """An amount of a matter's trust money in dispute: it cannot move until released."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="trust_disputes")
    amount_cents = models.BigIntegerField()  # cents
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="trust_dispute_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"dispute on {self.matter}"


class Disbursement(models.Model):
    """A request to pay money out of one matter's trust to a payee (USCIS, a vendor, the client).

    ``required_approvals`` is fixed when requested: 2 above the firm's dual-approval threshold,
    else 1. Approvers are lawyers, distinct, and never the requester (services enforce it; the
    unique constraint on approvals keeps one person from counting twice).
    """

    number = models.CharField(max_length=20, unique=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="disbursements")
    # The trust bank account (ledger account 1010-1099) the money is in; None on rows from
    # before the firm could hold more than one: the primary account (1010).
    trust_account = models.ForeignKey(
        "ledger.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payee = models.CharField(max_length=200)
    amount_cents = models.BigIntegerField()  # cents
    purpose = models.CharField(max_length=12, choices=DisbursementPurpose.choices)
    method = models.CharField(max_length=8, choices=DisbursementMethod.choices)
    reference = models.CharField(max_length=120, blank=True)
    memo = models.CharField(max_length=300, blank=True)
    # Reference to the credit note a refund settles (credits app), when there is one.
    credit_note_ref = models.CharField(max_length=40, blank=True)
    # The government fee (billing fee code, e.g. I129, ACWIA) a filing-fee disbursement pays for
    # the matter: that fee is then never billed or advanced again (billing ADR 011).
    fee_code = models.CharField(max_length=32, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=DisbursementStatus.choices, default=DisbursementStatus.REQUESTED
    )
    required_approvals = models.PositiveSmallIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    expires_on = models.DateField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    posted_date = models.DateField(null=True, blank=True)
    entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="trust_disbursement_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(required_approvals__in=[1, 2]),
                name="trust_disbursement_approvals_1_or_2",
            ),
            models.CheckConstraint(
                condition=~Q(status=DisbursementStatus.POSTED) | Q(entry__isnull=False),
                name="trust_disbursement_posted_has_entry",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_approved(self) -> bool:
        """True once enough distinct approvals are in and the request is neither rejected nor
        expired (the ledger checks this before it lets trust money out)."""
        if self.status not in {DisbursementStatus.APPROVED, DisbursementStatus.POSTED}:
            return False
        return self.approvals.count() >= self.required_approvals


class DisbursementApproval(models.Model):
    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["disbursement", "approver"], name="trust_disbursement_approver_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver} approved {self.disbursement}"


class TrustCounter(models.Model):
    """Gapless counters for trust document numbers (request, receipt, disbursement)."""

    name = models.CharField(max_length=40, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class DepositReversal(models.Model):
    """A request to reverse a posted trust deposit (a bounced check, money recorded on the wrong
    matter), with its reason, a partner's approval above the firm's threshold
    (``payments.CorrectionSettings``) and the reversing entry once posted. At most one live
    (waiting or posted) reversal per deposit; the deposit row itself never changes."""

    deposit = models.ForeignKey(TrustDeposit, on_delete=models.PROTECT, related_name="reversals")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()  # cents; the deposit's amount
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
    posted_date = models.DateField(null=True, blank=True)
    # The mirror of the deposit's entry (it names the original through ``reverses``).
    entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The bank statement line that showed the deposit returned (NSF, chargeback), when the
    # reversal was asked from the matching workbench: matched to the reversal once posted.
    bank_line = models.ForeignKey(
        "banking.StatementLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deposit"],
                condition=Q(status__in=[ReversalStatus.REQUESTED, ReversalStatus.POSTED]),
                name="trust_deposit_reversal_one_live",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReversalStatus.POSTED)
                | (Q(entry__isnull=False) & Q(posted_date__isnull=False)),
                name="trust_deposit_reversal_posted_has_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"reversal of {self.deposit}"
