"""Imports from the firm's old system: saved column mappings, import jobs, one key per imported
source record (so a rerun changes nothing), the history the old system had (invoices with their
own numbers, activities) and the cutover with its opening balances."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.imports.choices import AdjustmentKind, CutoverStatus, JobStatus, RecordKind

# Imported invoices are shown and referred to as LEGACY_PREFIX + their old number. They live in
# their own table (never in billing_invoice), so their numbers cannot collide with the numbers
# billing issues; the firm's own number format may not start with this prefix either
# (core.forms refuses a format starting with it).
LEGACY_PREFIX = "L-"


class ImportMapping(models.Model):
    """Which column of a source file feeds which field, and the defaults for what it lacks.
    One shipped per source (``shipped``), editable; the firm saves its own under a name."""

    name = models.CharField(max_length=80, unique=True)
    source = models.CharField(max_length=32)
    columns = models.JSONField(default=dict)  # {target field: source header}
    defaults = models.JSONField(default=dict)  # {target field: value when the file has none}
    shipped = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One uploaded file on its way in: mapped, dry-run, then committed batch by batch.
    ``processed_units`` is the resume point; every committed batch moves it in the same
    transaction as its rows, so a crash loses at most the batch in flight."""

    source = models.CharField(max_length=32)
    filename = models.CharField(max_length=200)
    content = models.TextField()  # the uploaded CSV, decoded
    mapping = models.ForeignKey(
        ImportMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    columns = models.JSONField(default=dict)
    defaults = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.UPLOADED)
    consent_updates = models.BooleanField(default=False)  # apply changed rows on commit
    rows = models.PositiveIntegerField(default=0)
    total_units = models.PositiveIntegerField(default=0)
    processed_units = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)  # the last dry run's summary
    failure = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(processed_units__lte=models.F("total_units")),
                name="imports_job_processed_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.source} {self.filename}"

    @property
    def percent(self) -> int:
        if not self.total_units:
            return 0
        return int(100 * self.processed_units / self.total_units)


class ImportRecord(models.Model):
    """The import key of one source record: what it became and the hash of what was read."""

    kind = models.CharField(max_length=12, choices=RecordKind.choices)
    source = models.CharField(max_length=32)
    key = models.CharField(max_length=200)
    object_id = models.BigIntegerField()
    data = models.JSONField(default=dict)  # the mapped values as last imported
    data_hash = models.CharField(max_length=64)
    job = models.ForeignKey(ImportJob, on_delete=models.PROTECT, related_name="records")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source", "key"], name="imports_record_one_per_key"
            ),
        ]
        # A record is found by kind and key from any source (a bill's matter, a template's
        # client): the unique index above leads with the source's column after the kind.
        indexes = [models.Index(fields=["kind", "key"], name="imports_record_kind_key")]

    def __str__(self) -> str:
        return f"{self.source}:{self.key}"


class LegacyInvoice(models.Model):
    """An invoice the old system issued, kept as history with its own number and dates. Never
    a billing invoice: it drafts, reminds and emails nothing. Its open balance is posted to A/R
    when the cutover is finalized."""

    number = models.CharField(max_length=60, unique=True)  # as the old system printed it
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey("matters.Matter", on_delete=models.PROTECT, related_name="+")
    issue_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    total_cents = models.BigIntegerField()  # cents; the sum of the lines
    balance_cents = models.BigIntegerField()  # cents; still open at the export
    # cents received in CaseLedger after the cutover (services.legacy_invoice_pay)
    paid_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_cents__gte=0)
                & models.Q(balance_cents__lte=models.F("total_cents")),
                name="imports_legacyinvoice_balance_within_total",
            ),
            models.CheckConstraint(
                condition=models.Q(paid_cents__gte=0)
                & models.Q(paid_cents__lte=models.F("balance_cents")),
                name="imports_legacyinvoice_paid_within_balance",
            ),
        ]

    def __str__(self) -> str:
        return f"{LEGACY_PREFIX}{self.number}"

    @property
    def open_cents(self) -> int:
        return self.balance_cents - self.paid_cents


class LegacyPayment(models.Model):
    """Money received in CaseLedger after the cutover for an imported open invoice: the payment
    (recorded by payments, its credit applied here) and the A/R entry that settled it."""

    invoice = models.ForeignKey(LegacyInvoice, on_delete=models.PROTECT, related_name="payments")
    payment = models.ForeignKey("payments.Payment", on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()  # cents
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="imports_legacypayment_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} -> {self.invoice}"


class LegacyHistoryPayment(models.Model):
    """A payment the old system recorded on an imported invoice before the cutover: history
    only. Never posted to the ledger and never a payments.Payment, so it sends no receipt,
    email or reminder; the invoice's ``balance_cents`` already reflects it (the import checks,
    per invoice, that these payments and the balance add up to the total)."""

    invoice = models.ForeignKey(
        LegacyInvoice, on_delete=models.PROTECT, related_name="history_payments"
    )
    received_date = models.DateField()
    amount_cents = models.BigIntegerField()  # cents
    method = models.CharField(max_length=40, blank=True, default="")
    reference = models.CharField(max_length=120, blank=True, default="")
    description = models.CharField(max_length=300, blank=True, default="")
    source = models.CharField(max_length=32)  # the import source it came from
    key = models.CharField(max_length=200)  # its import key in that source
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0),
                name="imports_legacyhistorypayment_positive",
            ),
            models.UniqueConstraint(
                fields=["source", "key"], name="imports_legacyhistorypayment_one_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received_date} {self.amount_cents} -> {self.invoice}"


class LegacyHistoryAdjustment(models.Model):
    """A credit note, write-off or discount the old system applied to an imported invoice
    before the cutover: history only, like ``LegacyHistoryPayment``. Never posted to the
    ledger and never a billing CreditNote or WriteOff, so nothing is sent; the invoice's
    ``balance_cents`` already reflects it (the import checks, per invoice, that payments,
    adjustments and the balance add up to the total)."""

    invoice = models.ForeignKey(
        LegacyInvoice, on_delete=models.PROTECT, related_name="history_adjustments"
    )
    adjustment_date = models.DateField()
    kind = models.CharField(max_length=12, choices=AdjustmentKind.choices)
    amount_cents = models.BigIntegerField()  # cents; what it took off the amount owed
    reason = models.CharField(max_length=300, blank=True, default="")
    source = models.CharField(max_length=32)  # the import source it came from
    key = models.CharField(max_length=200)  # its import key in that source
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0),
                name="imports_legacyhistoryadjustment_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=AdjustmentKind.values),
                name="imports_legacyhistoryadjustment_kind",
            ),
            models.UniqueConstraint(
                fields=["source", "key"], name="imports_legacyhistoryadjustment_one_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.adjustment_date} {self.kind} {self.amount_cents} -> {self.invoice}"


class LegacyInvoiceLine(models.Model):
    invoice = models.ForeignKey(LegacyInvoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    category = models.CharField(max_length=20)  # fees, government_fees, expenses, tax
    description = models.CharField(max_length=300, blank=True, default="")
    amount_cents = models.BigIntegerField()  # cents

    def __str__(self) -> str:
        return f"{self.invoice} line {self.position}"


class LegacyActivity(models.Model):
    """A time or expense entry of the old system, kept as history (not billed again)."""

    matter = models.ForeignKey("matters.Matter", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12)  # TIME or EXPENSE
    activity_date = models.DateField()
    user_name = models.CharField(max_length=120, blank=True, default="")
    description = models.CharField(max_length=300, blank=True, default="")
    quantity = models.DecimalField(max_digits=10, decimal_places=2)
    rate_cents = models.BigIntegerField()  # cents per unit
    amount_cents = models.BigIntegerField()  # cents; quantity x rate, rounded once
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} {self.activity_date} {self.matter_id}"


class Cutover(models.Model):
    """The day the firm moves over, with the old system's figures the opening balances must tie
    to. Finalized once, through the ledger (imports.services.cutover_finalize)."""

    as_of = models.DateField()
    trust_bank_cents = models.BigIntegerField()  # cents; trust bank balance on as_of (entered)
    aging_total_cents = models.BigIntegerField()  # cents; the old system's A/R aging total
    status = models.CharField(
        max_length=12, choices=CutoverStatus.choices, default=CutoverStatus.DRAFT
    )
    entries = models.JSONField(default=list, blank=True)  # journal entry ids posted
    # The trust bank's side on as_of, recorded by finalize (banking.bank_account_books_open):
    # the statement imported for that day, or the entered balance as an opening statement. The
    # cutover's three-way reconciliation is of that account as of as_of. None: not finalized,
    # or a firm with no trust bank account and no trust money.
    bank_statement = models.ForeignKey(
        "banking.BankStatement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    finalized_at = models.DateTimeField(null=True, blank=True)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Cutover {self.as_of}"


class OpeningBalance(models.Model):
    """An imported trust balance (per client and matter) or unapplied credit (per client) as of
    the cutover. A/R comes from the legacy invoices' open balances."""

    kind = models.CharField(max_length=12, choices=RecordKind.choices)  # TRUST or CREDIT
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(
        "matters.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_cents = models.BigIntegerField()  # cents
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[RecordKind.TRUST, RecordKind.CREDIT]),
                name="imports_openingbalance_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=RecordKind.TRUST) | models.Q(matter__isnull=False),
                name="imports_openingbalance_trust_has_matter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id} {self.amount_cents}"


class RetentionSettings(models.Model):
    """How long the firm keeps each kind of record after a matter closes (one row). Trust
    records may not be kept shorter than the minimum of the firm's state
    (``retention.STATE_TRUST_MINIMUMS``); services.retention_settings_save refuses it."""

    state = models.CharField(max_length=8, default="ABA")  # a key of STATE_TRUST_MINIMUMS
    trust_years = models.PositiveSmallIntegerField(default=5)
    billing_years = models.PositiveSmallIntegerField(default=7)
    matter_years = models.PositiveSmallIntegerField(default=7)  # files and personal data
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Retention ({self.state})"


class LegalHold(models.Model):
    """A hold on a client or a matter: nothing of it may be purged while it is active."""

    client = models.ForeignKey(
        "clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matter = models.ForeignKey(
        "matters.Matter", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(client__isnull=False) | models.Q(matter__isnull=False),
                name="imports_legalhold_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold on {self.matter or self.client}"


class PurgeRecord(models.Model):
    """A matter whose personal data was purged after its retention: when, by whom, what kinds
    of fields went (counts only, no personal data), and the pseudonym left in place."""

    matter = models.OneToOneField("matters.Matter", on_delete=models.PROTECT, related_name="+")
    pseudonym = models.CharField(max_length=40)
    retention_until = models.DateField()
    removed = models.JSONField(default=dict)  # {"clients.client.name": 1, ...}
    purged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purged_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Purge of {self.pseudonym}"


class ParallelRun(models.Model):
    """One billing cycle run in parallel: the old system's invoices for the cycle (imported
    lines) compared per matter and line category with CaseLedger's invoices of the cycle; the
    partner signs the comparison off."""

    cycle_start = models.DateField()
    cycle_end = models.DateField()
    filename = models.CharField(max_length=200)
    old_lines = models.JSONField(default=list)  # [{"matter", "number", "category", "cents"}]
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_result = models.JSONField(default=dict, blank=True)  # the comparison as signed
    note = models.CharField(max_length=300, blank=True, default="")

    def __str__(self) -> str:
        return f"Parallel run {self.cycle_start} to {self.cycle_end}"
