"""Bank accounts (each mapped to one bank account of the ledger's chart), statement imports,
the statements they brought and their lines.

Statements and lines are written only by ``services.statement_import`` after every check
passed; a line is unique per bank account by its ``dedupe_key`` (the bank's reference, else a
fingerprint), which is what makes importing idempotent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.banking.choices import (
    ImportPhase,
    ImportStatus,
    ReconciliationStatus,
    StatementFormat,
)
from caseledger.core.crypto import EncryptedTextField


class BankAccount(models.Model):
    """A trust (IOLTA) or operating account at a bank, mapped to its ledger bank account."""

    name = models.CharField(max_length=120)
    bank_name = models.CharField(max_length=120)
    # The full number as the bank writes it in its files (account number or IBAN), encrypted at
    # rest (core.crypto, ADR 005); pages show ``number_masked``.
    number = EncryptedTextField()
    # HMAC of the normalised number (core.crypto.lookup_hash): one record per bank account.
    number_hash = models.CharField(max_length=64, unique=True)
    number_last4 = models.CharField(max_length=4)
    currency = models.CharField(max_length=3)  # ISO 4217, the ledger account's
    ledger_account = models.OneToOneField(
        "ledger.Account", on_delete=models.PROTECT, related_name="bank_account"
    )
    is_trust = models.BooleanField()  # copied from the ledger account when created
    # Statement formats this bank sends (StatementFormat values); informational, shown on the
    # import page.
    formats = models.JSONField(default=list, blank=True)
    # The CSV column mapping confirmed on the import page (parsers.csvfile.CsvMapping).
    csv_mapping = models.JSONField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Matching (banking.matching): a line and a posting of the same amount are suggested when
    # at most this many days apart; a check or disbursement posting still unmatched this many
    # days after its date is listed as stale on the matching workbench.
    match_window_days = models.PositiveSmallIntegerField(default=5)
    stale_days = models.PositiveSmallIntegerField(default=60)
    # The day the account's books start in CaseLedger (the cutover; set once, by
    # ``services.bank_account_books_open``, with a statement of that day closing at the opening
    # balance). Nothing dated on or before it is matched or is an item of a reconciliation: the
    # bank's lines before it are the old system's history, and the opening entry is the books'
    # balance that day. None: the books start with the account's first statement.
    books_start = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.bank_name} {self.number_masked})"

    @property
    def number_masked(self) -> str:
        return "••••" + self.number_last4


class StatementImport(models.Model):
    """One uploaded file and what became of it. The file is kept once imported (the bank's own
    record); a refused import keeps only its message."""

    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    content = models.BinaryField(blank=True)
    format = models.CharField(max_length=8, choices=StatementFormat.choices)
    status = models.CharField(max_length=16, choices=ImportStatus.choices)
    phase = models.CharField(
        max_length=10, choices=ImportPhase.choices, default=ImportPhase.WAITING
    )
    progress_done = models.PositiveIntegerField(default=0)  # statements checked so far
    progress_total = models.PositiveIntegerField(default=0)  # statements in the file
    error = models.TextField(blank=True)
    statements_count = models.PositiveIntegerField(default=0)
    lines_in_file = models.PositiveIntegerField(default=0)
    lines_added = models.PositiveIntegerField(default=0)
    lines_already_imported = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The same file is imported into an account once.
            models.UniqueConstraint(
                fields=["bank_account", "file_sha256"],
                condition=models.Q(status="DONE"),
                name="banking_import_file_once",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ImportStatus.values),
                name="banking_import_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(progress_done__lte=models.F("progress_total")),
                name="banking_import_progress_le_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} {self.file_name}"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.progress_total:
            return 0
        # Checking is the first 90 %; storing (one transaction) the rest.
        return min(95, round(90 * self.progress_done / self.progress_total))


class BankStatement(models.Model):
    """A statement as the file stated it: its figures are kept even when some of its lines
    were already on file from an overlapping statement."""

    statement_import = models.ForeignKey(
        StatementImport, on_delete=models.PROTECT, related_name="statements"
    )
    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, related_name="statements"
    )
    format = models.CharField(max_length=8, choices=StatementFormat.choices)
    statement_id = models.CharField(max_length=140, blank=True)  # the file's own id
    currency = models.CharField(max_length=3)  # ISO 4217
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    opening_cents = models.BigIntegerField(null=True, blank=True)  # minor units; None: not stated
    closing_cents = models.BigIntegerField(null=True, blank=True)  # minor units; None: not stated
    opening_stated = models.BooleanField()  # False: computed as closing - entries (OFX)
    credits_cents = models.BigIntegerField()  # minor units, >= 0
    debits_cents = models.BigIntegerField()  # minor units, >= 0
    entries = models.PositiveIntegerField()  # lines in the statement, new or not
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(opening_cents__isnull=True, closing_cents__isnull=True)
                    | models.Q(
                        opening_cents__isnull=False,
                        closing_cents__isnull=False,
                        closing_cents=models.F("opening_cents")
                        + models.F("credits_cents")
                        - models.F("debits_cents"),
                    )
                    | models.Q(opening_cents__isnull=True, closing_cents__isnull=False)
                ),
                name="banking_statement_balances",
            ),
            models.CheckConstraint(
                condition=models.Q(credits_cents__gte=0, debits_cents__gte=0),
                name="banking_statement_totals_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Statement {self.statement_id or self.pk} to {self.period_end}"


class StatementLine(models.Model):
    """One movement on the bank account, once, whichever statements brought it."""

    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="lines")
    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    booking_date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    amount_cents = models.BigIntegerField()  # minor units: + into the account, - out
    description = models.CharField(max_length=500, blank=True)
    bank_reference = models.CharField(max_length=140, blank=True)
    customer_reference = models.CharField(max_length=140, blank=True)
    counterparty = models.CharField(max_length=200, blank=True)
    code = models.CharField(max_length=40, blank=True)
    balance_after_cents = models.BigIntegerField(null=True, blank=True)  # minor units
    # Transactions of a batch entry: [{amount_cents, bank_reference, customer_reference,
    # counterparty, description}], for matching one line to several postings.
    details = models.JSONField(default=list, blank=True)
    # "ref:<bank reference>" or "fp:<sha256 of date, amount, text, occurrence>"
    dedupe_key = models.CharField(max_length=160)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "dedupe_key"], name="banking_line_once_per_account"
            ),
        ]
        indexes = [models.Index(fields=["bank_account", "booking_date", "id"])]

    def __str__(self) -> str:
        return f"{self.booking_date} {self.amount_cents}"


class LineMatch(models.Model):
    """One ledger posting on a bank account's ledger account, matched to the statement line
    that shows it at the bank. A line may carry several postings (a deposit slip of several
    receipts, a card payout of several charges); a posting is matched whole to one line, or
    split over several lines whose amounts sum to it exactly (``part`` 0..k-1, made in one
    go). A line is fully matched when its matches' amounts sum to its own. ``amount_cents`` is
    the part of the posting the line shows.

    A posting without a match on or before a statement date is in transit (a deposit) or
    outstanding (a disbursement or check) in that date's reconciliation. Unmatching deletes
    the row; the audit event records who matched and who unmatched."""

    line = models.ForeignKey(StatementLine, on_delete=models.PROTECT, related_name="matches")
    posting = models.ForeignKey(
        "ledger.Posting", on_delete=models.PROTECT, related_name="bank_matches"
    )
    # 0 for a posting matched whole to one line; 0..k-1 for a posting the bank showed as k
    # lines (a deposit it split), made in one go. Unique with the posting, so a posting is
    # claimed once: a concurrent claim loses on (posting, 0).
    part = models.PositiveSmallIntegerField(default=0)
    # The posting's amount as it moves the bank account (+ in, - out), in minor units, copied
    # so a line's matched total is one SUM.
    amount_cents = models.BigIntegerField()
    # MatchMethod: "auto" (accepted suggestion) or "manual".
    method = models.CharField(max_length=8)
    # Why it matched, as shown on the suggestion ("reference TR-000123, amount, 2 days apart").
    reason = models.CharField(max_length=200, blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    matched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_cents=0), name="banking_match_amount_nonzero"
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=["auto", "manual", "resolved"]),
                name="banking_match_method_valid",
            ),
            models.UniqueConstraint(
                fields=["posting", "part"], name="banking_match_posting_part_once"
            ),
        ]
        indexes = [
            # The few postings split over several lines (reconciliation reads them apart).
            models.Index(
                fields=["posting"], name="banking_match_split", condition=models.Q(part__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"Line {self.line_id} ~ posting {self.posting_id}"


class Reconciliation(models.Model):
    """One month's reconciliation of a bank account: three-way for trust (adjusted bank =
    journal = sum of client ledgers), two-way for operating. A preparer prepares it, a
    different lawyer signs it; signing stores the canonical report, its SHA-256 chained to the
    account's previous signed record, an archived PDF, and closes the ledger account through
    ``period_end`` (ledger.ClosedPeriod). Reopening marks the record REOPENED and keeps it; the
    next signature of the month is a new record in the chain. Rows are never deleted."""

    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, related_name="reconciliations"
    )
    period_start = models.DateField()
    period_end = models.DateField()  # the statement date reconciled
    status = models.CharField(max_length=10, choices=ReconciliationStatus.choices)
    # The canonical report (reconciliation.report_canonical): figures and every adjusting
    # item, ids and cents only, so re-running the month reproduces it byte for byte.
    report = models.JSONField()
    report_sha256 = models.CharField(max_length=64)
    # Chain: the previous signed record of this account (any status since), its chain hash,
    # and this one's = sha256(prev_chain_hash + report_sha256). Set when signed.
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next"
    )
    prev_chain_hash = models.CharField(max_length=64, blank=True)
    chain_hash = models.CharField(max_length=64, blank=True)
    # Headline figures (minor units) copied from the report for lists.
    statement_balance_cents = models.BigIntegerField()
    adjusted_bank_cents = models.BigIntegerField()
    journal_cents = models.BigIntegerField()
    client_total_cents = models.BigIntegerField(null=True, blank=True)  # None: operating
    is_balanced = models.BooleanField()
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    pdf = models.BinaryField(blank=True)  # the archived report, rendered when signed
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReconciliationStatus.values),
                name="banking_recon_status_valid",
            ),
            # One live (prepared or signed) record per account and month.
            models.UniqueConstraint(
                fields=["bank_account", "period_end"],
                condition=models.Q(status__in=["PREPARED", "SIGNED"]),
                name="banking_recon_one_live_per_month",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["SIGNED", "REOPENED"])
                | models.Q(signed_at__isnull=False, signed_by__isnull=False)
                & ~models.Q(chain_hash=""),
                name="banking_recon_signed_complete",
            ),
            models.CheckConstraint(
                condition=~models.Q(signed_by=models.F("prepared_by")),
                name="banking_recon_signer_not_preparer",
            ),
        ]
        indexes = [models.Index(fields=["bank_account", "period_end", "id"])]

    def __str__(self) -> str:
        return f"Reconciliation {self.bank_account_id} {self.period_end} ({self.status})"


class ReconciliationSettings(models.Model):
    """The firm's reconciliation settings (one row, id 1)."""

    # A month not signed this many days after it ended opens a task for the partners.
    signoff_due_days = models.PositiveSmallIntegerField(default=10)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1), name="banking_recon_settings_singleton"
            ),
            models.CheckConstraint(
                condition=models.Q(signoff_due_days__lte=365),
                name="banking_recon_settings_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-off due {self.signoff_due_days} days after month end"
