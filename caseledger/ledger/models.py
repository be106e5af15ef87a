"""Chart of accounts, the append-only journal, and the derived balance rows.

Amounts are signed integer cents: positive = debit, negative = credit. ``JournalEntry`` and
``Posting`` are append-only (database triggers refuse UPDATE and DELETE); balance rows are
derived from postings and written only by ``services.entry_post`` in the posting transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.ledger.choices import AccountType, EntryKind, NormalBalance


class Account(models.Model):
    """One account of the chart. Deactivated, never deleted (a trigger refuses DELETE)."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    account_type = models.CharField(max_length=12, choices=AccountType.choices)
    normal_balance = models.CharField(max_length=6, choices=NormalBalance.choices)
    # Trust (IOLTA) accounts: the trust bank account(s) and client trust liability.
    is_trust = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    currency = models.CharField(max_length=3, default="USD")  # ISO 4217
    description = models.CharField(max_length=300, blank=True)
    # Bank details for trust bank accounts the firm adds (shown on reconciliation pages).
    bank_name = models.CharField(max_length=120, blank=True)
    account_number_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account_type__in=AccountType.values),
                name="ledger_account_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(normal_balance__in=NormalBalance.values),
                name="ledger_account_normal_balance_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_trust_bank(self) -> bool:
        return self.is_trust and self.account_type == AccountType.ASSET

    @property
    def sign(self) -> int:
        """Multiply a debit-positive amount by this to get it in the normal-balance sign."""
        return 1 if self.normal_balance == NormalBalance.DEBIT else -1


_KIND_LABELS: dict[str, str] = dict(EntryKind.choices)


class JournalEntry(models.Model):
    """One balanced movement of money. Never changed; corrected by a reversing entry."""

    entry_date = models.DateField()
    kind = models.CharField(max_length=24, choices=EntryKind.choices)
    memo = models.CharField(max_length=500, blank=True)
    currency = models.CharField(max_length=3)  # ISO 4217; every posting's account has it
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    # A retried call with the same key and payload returns this entry; unique when set.
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    payload_hash = models.CharField(max_length=64)  # SHA-256 of the canonical payload
    # The entry this one mirrors; unique, so an entry is reversed at most once.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # The trust app's approved disbursement that authorised money leaving trust (no FK: the
    # trust app sits above the ledger).
    disbursement_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "journal entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=EntryKind.values), name="ledger_entry_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(reverses__isnull=False) | models.Q(kind=EntryKind.REVERSAL),
                name="ledger_entry_reversal_kind",
            ),
        ]
        indexes = [models.Index(fields=["entry_date", "id"], name="ledger_entry_date_idx")]

    def __str__(self) -> str:
        # The label as get_kind_display() gives it, from a dict built once: the audit event of
        # every entry stores this text, and the display lookup rebuilt the choices each call.
        return f"JE-{self.pk} {self.entry_date} {_KIND_LABELS.get(self.kind, self.kind)}"


class Posting(models.Model):
    """One line of an entry: a signed amount on one account (positive debit, negative credit)."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount_cents = models.BigIntegerField()  # cents; + debit, - credit; never 0
    # Copy of entry.entry_date so "balance as of" is one index range scan per account.
    entry_date = models.DateField()
    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matter = models.ForeignKey(
        "matters.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_cents=0), name="ledger_posting_amount_nonzero"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "entry_date", "id"], name="ledger_post_acct_date_idx"),
            models.Index(
                fields=["account", "client", "matter", "entry_date", "id"],
                name="ledger_post_sub_date_idx",
            ),
            models.Index(fields=["invoice"], name="ledger_post_invoice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_cents:+d}"


class AccountBalance(models.Model):
    """Current balance of one account (derived; written only by entry_post)."""

    account = models.OneToOneField(
        Account, on_delete=models.PROTECT, primary_key=True, related_name="balance"
    )
    balance_cents = models.BigIntegerField(default=0)  # cents, debit-positive
    entry_count = models.BigIntegerField(default=0)  # postings applied

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance_cents}"


class SubledgerBalance(models.Model):
    """Current balance of one account for one (client, matter): the client trust ledger rows.

    The row a trust posting checks is locked first (locks.subledger_balances_lock) so no
    concurrent entry can take a client's trust balance below zero.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.PROTECT, related_name="+")
    balance_cents = models.BigIntegerField(default=0)  # cents, debit-positive
    # True on client trust liability rows: the database itself refuses a debit (negative
    # client trust) balance there, behind the locked check in entry_post.
    is_trust_liability = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client", "matter"], name="ledger_subledger_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(is_trust_liability=False) | models.Q(balance_cents__lte=0),
                name="ledger_subledger_trust_never_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.client_id}/{self.matter_id}: {self.balance_cents}"


class ClosedPeriod(models.Model):
    """A bank (or client trust) account closed through a date by a signed reconciliation: no
    posting dated on or before ``closed_through`` may be added to ``account`` while the row is
    active. A database trigger on ``ledger_posting`` enforces it (migration 0003), behind
    ``entry_post``'s translation of the refusal. Reopening keeps the row (inactive, with who,
    when and why); rows are never deleted (trigger)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    closed_through = models.DateField()
    # What closed it, e.g. "banking.reconciliation:12" (no FK: banking sits above the ledger).
    reference = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField()
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_active=True, reopened_at__isnull=True)
                | models.Q(is_active=False, reopened_at__isnull=False),
                name="ledger_closedperiod_reopen_recorded",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "closed_through"],
                condition=models.Q(is_active=True),
                name="ledger_closed_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} closed through {self.closed_through}"
