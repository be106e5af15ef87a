"""Billing data: fee schedule, rates, time and expenses, templates and triggers, invoices.

Amounts are integer cents (``*_cents``, BigIntegerField) in the firm's currency. Money-bearing
foreign keys are PROTECT. Issued invoices and their lines are frozen by database triggers
(migration 0003, SQL in ``billing/migration_ops.py``), not only by the services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from caseledger.billing.choices import (
    Cadence,
    ExpenseKind,
    FeeAdvanceMethod,
    FeeCategory,
    FeePath,
    FeeType,
    FeeVariant,
    FilingMethod,
    InvoiceStatus,
    LineKind,
    Payer,
    TaxMode,
    TimeRounding,
    TriggerKind,
)
from caseledger.clients.models import Client
from caseledger.core.amounts import firm_money
from caseledger.matters.models import Matter


class BillingSettings(models.Model):
    """The firm's billing rules (one row, id 1; ``selectors.billing_settings_get``)."""

    time_increment_minutes = models.PositiveSmallIntegerField(default=6)  # 6 = tenths of an hour
    time_rounding = models.CharField(
        max_length=8, choices=TimeRounding.choices, default=TimeRounding.REFUSE
    )
    tax_mode = models.CharField(max_length=12, choices=TaxMode.choices, default=TaxMode.NONE)
    # Tax rate in basis points (825 = 8.25 %), applied to taxable lines (legal fees only).
    tax_rate_bp = models.PositiveIntegerField(default=0)
    forbid_self_approval = models.BooleanField(
        default=True, help_text="A partner may not approve a draft they created."
    )
    default_terms = models.TextField(
        default="Payment is due within the number of days shown. Thank you for your business."
    )
    payment_link_days = models.PositiveSmallIntegerField(default=60)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="billing_settings_singleton"),
            models.CheckConstraint(
                condition=Q(time_increment_minutes__gte=1, time_increment_minutes__lte=60),
                name="billing_settings_increment_range",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate_bp__lte=10_000), name="billing_settings_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return "Billing settings"


class Service(models.Model):
    """An item of the fee schedule (e.g. "H-1B petition", flat $3,500)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    fee_type = models.CharField(max_length=12, choices=FeeType.choices)
    default_price_cents = models.BigIntegerField(default=0)  # cents; flat price or plan total
    utbms_task_code = models.CharField(max_length=8, blank=True)  # e.g. L100, B110, C300
    utbms_activity_code = models.CharField(max_length=8, blank=True)  # e.g. A101, A103
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(default_price_cents__gte=0), name="billing_service_price_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GovernmentFee(models.Model):
    """A government fee of a case type, valid from ``effective_date`` until the next row of the
    same (case type, code). Drafting picks the row in force on the draft date; issued invoices keep
    the amount on their lines."""

    case_type = models.ForeignKey(
        "matters.CaseType", on_delete=models.PROTECT, related_name="government_fees"
    )
    code = models.CharField(max_length=32)  # USCIS_FILING, ACWIA, FRAUD, PREMIUM, BIOMETRICS
    name = models.CharField(max_length=120)
    amount_cents = models.BigIntegerField()  # cents
    effective_date = models.DateField()
    category = models.CharField(
        max_length=32,
        choices=FeeCategory.choices,
        default=FeeCategory.REQUIRED_GOVERNMENT_FEE,
    )
    # UTBMS E112 "Court fees": the code for fees paid to an agency to file (billing.utbms).
    expense_code = models.CharField(max_length=8, default="E112")
    # Which employers and filings the row is for (billing.fees picks the row that fits).
    variant = models.CharField(
        max_length=16, choices=FeeVariant.choices, default=FeeVariant.STANDARD
    )
    filing_method = models.CharField(
        max_length=8, choices=FilingMethod.choices, default=FilingMethod.ANY
    )
    citation = models.CharField(max_length=600, blank=True, default="")  # the rule that sets it
    # The date the instrument setting the fee says it lapses (a proclamation's "expire 12 months
    # after the effective date, absent extension"): from that date the row is no longer in force
    # and no later row (an extension a partner records, citing its instrument) means no fee.
    expires_on = models.DateField(null=True, blank=True)
    expiry_citation = models.CharField(max_length=600, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("effective_date")),
                name="billing_govfee_expiry_after_effective",
            ),
            models.UniqueConstraint(
                fields=["case_type", "code", "effective_date", "variant", "filing_method"],
                name="billing_govfee_unique_per_date_variant",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="billing_govfee_amount_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} from {self.effective_date}"


class HourlyRate(models.Model):
    """A timekeeper's hourly rate: the default (no client, no matter), a client override or a
    matter override. Resolution: matter > client > default."""

    timekeeper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hourly_rates"
    )
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.PROTECT)
    matter = models.ForeignKey(Matter, null=True, blank=True, on_delete=models.PROTECT)
    rate_cents = models.BigIntegerField()  # cents per hour

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(rate_cents__gte=0), name="billing_rate_nonneg"),
            models.CheckConstraint(
                condition=Q(client__isnull=True) | Q(matter__isnull=True),
                name="billing_rate_client_or_matter",
            ),
            models.UniqueConstraint(
                fields=["timekeeper"],
                condition=Q(client__isnull=True, matter__isnull=True),
                name="billing_rate_one_default",
            ),
            models.UniqueConstraint(
                fields=["timekeeper", "client"],
                condition=Q(client__isnull=False),
                name="billing_rate_one_per_client",
            ),
            models.UniqueConstraint(
                fields=["timekeeper", "matter"],
                condition=Q(matter__isnull=False),
                name="billing_rate_one_per_matter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.timekeeper} {firm_money(self.rate_cents)}/h"


class PayerRule(models.Model):
    """Whether a fee category of a case type may be billed to the beneficiary.

    No rule for a (case type, category) means the beneficiary may be billed. The petitioner may
    always be billed."""

    case_type = models.ForeignKey(
        "matters.CaseType", on_delete=models.PROTECT, related_name="payer_rules"
    )
    category = models.CharField(max_length=32, choices=FeeCategory.choices)
    beneficiary_may_pay = models.BooleanField(default=False)
    citation = models.CharField(max_length=200)  # e.g. "20 CFR 655.731(c)(9)"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case_type", "category"], name="billing_payer_rule_unique"
            )
        ]

    def __str__(self) -> str:
        who = "may" if self.beneficiary_may_pay else "may not"
        return f"{self.case_type}: beneficiary {who} pay {self.get_category_display()}"


class FeePayerRule(models.Model):
    """A payer rule attached to a fee code or a service, whatever category a line is given:
    "the beneficiary may never pay the ACWIA fee" (20 CFR 655.731(c)(10)(ii)). Exactly one of
    ``fee_code`` and ``service`` is set."""

    fee_code = models.CharField(max_length=32, blank=True, default="")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="payer_rules"
    )
    beneficiary_may_pay = models.BooleanField(default=False)
    citation = models.CharField(max_length=300)
    # Words that make a manual line this fee even without its code ("ACWIA", "fraud prevention").
    keywords = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(fee_code="") & Q(service__isnull=False))
                | (~Q(fee_code="") & Q(service__isnull=True)),
                name="billing_fee_payer_rule_code_or_service",
            ),
            models.UniqueConstraint(
                fields=["fee_code"], condition=~Q(fee_code=""), name="billing_fee_payer_rule_code"
            ),
            models.UniqueConstraint(
                fields=["service"],
                condition=Q(service__isnull=False),
                name="billing_fee_payer_rule_service",
            ),
        ]

    def __str__(self) -> str:
        who = "may" if self.beneficiary_may_pay else "may not"
        return f"{self.fee_code or self.service}: beneficiary {who} pay"


class InvoiceTemplate(models.Model):
    """What to bill for a service: fee lines, installments, cost pass-through, terms, notes."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="templates")
    name = models.CharField(max_length=120, unique=True)
    bill_to = models.CharField(max_length=12, choices=Payer.choices, default=Payer.PETITIONER)
    include_unbilled = models.BooleanField(
        default=False, help_text="Add the matter's unbilled time and expenses to the draft."
    )
    # Government fees of the case type added at their in-force amount (codes, in order).
    government_fee_codes = models.JSONField(default=list, blank=True)
    installments = models.PositiveSmallIntegerField(default=1)  # N > 1: payment plan of N parts
    terms = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(null=True, blank=True)  # None: client's
    # Inactive: not offered for new drafts or triggers; refused while a trigger or schedule uses it.
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(installments__gte=1, installments__lte=60),
                name="billing_template_installments_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TemplateLine(models.Model):
    """A fee line of a template; amount None means the service's default price."""

    template = models.ForeignKey(InvoiceTemplate, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=LineKind.choices, default=LineKind.FEE)
    category = models.CharField(
        max_length=32, choices=FeeCategory.choices, default=FeeCategory.ATTORNEY_FEE
    )
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT)
    description = models.CharField(max_length=300)
    amount_cents = models.BigIntegerField(null=True, blank=True)  # cents; None = service price

    def __str__(self) -> str:
        return self.description


class BillingTrigger(models.Model):
    """A case type's billing trigger: a stage reached, or a cadence."""

    case_type = models.ForeignKey(
        "matters.CaseType", on_delete=models.PROTECT, related_name="billing_triggers"
    )
    kind = models.CharField(max_length=8, choices=TriggerKind.choices)
    stage = models.ForeignKey("matters.Stage", null=True, blank=True, on_delete=models.PROTECT)
    cadence = models.CharField(max_length=16, choices=Cadence.choices, blank=True)
    template = models.ForeignKey(InvoiceTemplate, on_delete=models.PROTECT, related_name="triggers")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=TriggerKind.STAGE, stage__isnull=False, cadence=""))
                | (Q(kind=TriggerKind.CADENCE, stage__isnull=True) & ~Q(cadence="")),
                name="billing_trigger_stage_or_cadence",
            ),
        ]

    def __str__(self) -> str:
        what = self.stage if self.kind == TriggerKind.STAGE else self.get_cadence_display()
        return f"{self.case_type} · {what} → {self.template}"


class TriggerFiring(models.Model):
    """The one draft a stage trigger produced for a matter. The unique (matter, trigger) pair is
    what makes the trigger engine idempotent under retries and concurrent stage events."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="+")
    trigger = models.ForeignKey(BillingTrigger, on_delete=models.PROTECT, related_name="firings")
    invoice = models.OneToOneField(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="firing"
    )
    fired_at = models.DateTimeField()  # the milestone (stage event) time

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["matter", "trigger"], name="billing_firing_once")
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} on matter {self.matter_id}"


class RecurringSchedule(models.Model):
    """A matter billed on a cadence from a template (monthly, quarterly, payment plan)."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="billing_schedules")
    trigger = models.ForeignKey(BillingTrigger, null=True, blank=True, on_delete=models.PROTECT)
    template = models.ForeignKey(InvoiceTemplate, on_delete=models.PROTECT, related_name="+")
    cadence = models.CharField(max_length=16, choices=Cadence.choices)
    start_date = models.DateField()
    installments = models.PositiveSmallIntegerField(default=0)  # plans: N; others 0 = open-ended
    total_cents = models.BigIntegerField(default=0)  # plans: the amount split over N (cents)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["matter", "template", "cadence"], name="billing_schedule_unique"
            ),
            models.CheckConstraint(
                condition=Q(total_cents__gte=0), name="billing_schedule_total_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_cadence_display()} for {self.matter_id}"


class ScheduleRun(models.Model):
    """One period of a schedule billed: unique per (schedule, period), so a rerun creates
    nothing."""

    schedule = models.ForeignKey(RecurringSchedule, on_delete=models.PROTECT, related_name="runs")
    period_start = models.DateField()
    sequence = models.PositiveSmallIntegerField(default=1)  # plans: installment k of N
    invoice = models.OneToOneField(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    run_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "period_start"], name="billing_schedule_run_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} {self.period_start}"


class Invoice(models.Model):
    """A bill to one payer for one matter. Drafts change; an issued invoice never does."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="invoices")
    status = models.CharField(
        max_length=12, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    # Gapless number from the firm's format, set when issued.
    number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    currency = models.CharField(max_length=3, default="USD")
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    total_cents = models.BigIntegerField(default=0)  # cents; always the sum of the lines + tax
    created_at = models.DateTimeField()

    bill_to = models.CharField(max_length=12, choices=Payer.choices, default=Payer.PETITIONER)
    responsible_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    template = models.ForeignKey(
        InvoiceTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subtotal_cents = models.BigIntegerField(default=0)  # cents; sum of line amounts
    tax_cents = models.BigIntegerField(default=0)  # cents
    # Snapshot at issue: who the invoice was addressed to, exactly as printed.
    bill_to_name = models.CharField(max_length=200, blank=True)
    bill_to_address = models.TextField(blank=True)
    bill_to_email = models.CharField(max_length=254, blank=True)
    terms = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    review_comment = models.TextField(blank=True)  # the partner's comment when returned
    # Turnaround KPI: when the milestone that triggered the invoice happened, and when issued.
    triggered_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issue_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The date the filing is sent to USCIS: the government fees in force on it are billed
    # (billing.fees); defaults to the draft date, changeable until issue.
    filing_date = models.DateField(null=True, blank=True)
    filing_method = models.CharField(
        max_length=8, choices=FilingMethod.choices, default=FilingMethod.PAPER
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    void_entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(total_cents=models.F("subtotal_cents") + models.F("tax_cents")),
                name="billing_invoice_total_is_sum",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True)
                | ~Q(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.IN_REVIEW]),
                name="billing_invoice_draft_has_no_number",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=False) | ~Q(status=InvoiceStatus.ISSUED),
                name="billing_invoice_issued_has_number",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "issue_date"]),
            models.Index(fields=["responsible_partner", "status"]),
            # The invoice list: newest first (created_at, id) over all, within a status or a
            # client, and its sortable date columns (issue #20: 410 ms -> 1.6 ms at 200k).
            models.Index(fields=["created_at", "id"], name="billing_inv_created_idx"),
            models.Index(fields=["status", "created_at", "id"], name="billing_inv_status_crt_idx"),
            models.Index(fields=["client", "created_at", "id"], name="billing_inv_client_crt_idx"),
            models.Index(fields=["issue_date", "id"], name="billing_inv_issued_idx"),
            models.Index(fields=["due_date", "id"], name="billing_inv_due_idx"),
            # The invoice-level KPIs (reports.metrics: issued_in, turnaround, realization) over
            # the invoices issued in a period and not voided: an index-only scan of the
            # period's entries instead of the wide invoice rows (PostgreSQL; SQLite keeps the
            # key and the condition, without the included columns).
            models.Index(
                fields=["issue_date"],
                include=["id", "triggered_at", "approved_at", "issued_at"],
                condition=~Q(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID]),
                name="billing_inv_kpi_issued_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft #{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status in {InvoiceStatus.DRAFT, InvoiceStatus.IN_REVIEW, InvoiceStatus.APPROVED}


class InvoiceLine(models.Model):
    """One line of an invoice; ``amount_cents`` is rounded once, when the line is written."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    category = models.CharField(max_length=32, choices=FeeCategory.choices)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT)
    government_fee = models.ForeignKey(
        GovernmentFee, null=True, blank=True, on_delete=models.PROTECT
    )
    description = models.CharField(max_length=300)
    line_date = models.DateField(null=True, blank=True)
    timekeeper = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(max_digits=10, decimal_places=2, default=1)  # hours or units
    unit_price_cents = models.BigIntegerField()  # cents per unit (per hour for time)
    amount_cents = models.BigIntegerField()  # cents; round(quantity x unit price), once
    taxable = models.BooleanField(default=False)
    tax_cents = models.BigIntegerField(default=0)  # cents; per-line tax mode only
    utbms_task_code = models.CharField(max_length=8, blank=True)
    utbms_activity_code = models.CharField(max_length=8, blank=True)
    utbms_expense_code = models.CharField(max_length=8, blank=True)
    # Government-fee lines: the fee code, how it is paid, and the fee's amount (cents). A line
    # paid from trust or by the client directly shows ``fee_amount_cents`` with amount 0.
    fee_code = models.CharField(max_length=32, blank=True, default="")
    fee_path = models.CharField(max_length=16, choices=FeePath.choices, blank=True, default="")
    fee_amount_cents = models.BigIntegerField(default=0)  # cents
    fee_note = models.CharField(max_length=300, blank=True, default="")  # e.g. a fee change

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(fee_path__in=[FeePath.FROM_TRUST, FeePath.CLIENT_DIRECT])
                | Q(amount_cents=0),
                name="billing_line_info_fee_has_no_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class MatterFeePath(models.Model):
    """How a matter's government fees are paid by default (ADR 011); each draft's fee lines
    start with it and may be changed line by line. No row: the firm advances them."""

    matter = models.OneToOneField(Matter, on_delete=models.PROTECT, related_name="fee_path")
    fee_path = models.CharField(max_length=16, choices=FeePath.choices)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.matter_id}: {self.get_fee_path_display()}"


class FeeAdvance(models.Model):
    """A government fee the firm paid to USCIS from operating for a client's matter (Dr 1300
    client cost advances, Cr 1000 operating bank), to be billed once: ``invoice_line`` is the
    issued line that billed it (Dr A/R, Cr 1300). Voiding that invoice frees the advance."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="fee_advances")
    fee_code = models.CharField(max_length=32)
    description = models.CharField(max_length=300)
    amount_cents = models.BigIntegerField()  # cents
    paid_date = models.DateField()
    method = models.CharField(max_length=8, choices=FeeAdvanceMethod.choices)
    payee = models.CharField(max_length=200, default="U.S. Department of Homeland Security")
    reference = models.CharField(max_length=120, blank=True, default="")
    entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    invoice_line = models.OneToOneField(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="fee_advance"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="billing_fee_advance_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["matter", "fee_code"])]

    def __str__(self) -> str:
        return f"FA-{self.pk:05d}" if self.pk else "fee advance"


class TimeEntry(models.Model):
    """Time worked on a matter; billed once it is attached to an invoice line."""

    timekeeper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="time_entries")
    work_date = models.DateField()
    minutes = models.PositiveIntegerField()  # after the firm's increment rounding
    activity_code = models.CharField(max_length=8)  # UTBMS A1xx
    task_code = models.CharField(max_length=8, blank=True)  # UTBMS task
    narrative = models.TextField()
    billable = models.BooleanField(default=True)
    rate_cents = models.BigIntegerField()  # cents/hour resolved when recorded
    amount_cents = models.BigIntegerField()  # cents; rounded once
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gt=0, minutes__lte=1440), name="billing_time_minutes_range"
            ),
        ]
        indexes = [
            models.Index(fields=["timekeeper", "work_date"]),
            # Staff time on billing (reports.metrics.billing_time): non-billable entries of one
            # activity code in a period, without scanning every time entry.
            models.Index(
                fields=["activity_code", "work_date"],
                condition=Q(billable=False),
                name="billing_time_nonbill_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_date} {self.minutes / 60:.2f}h"

    @property
    def hours(self) -> float:
        return self.minutes / 60


class Expense(models.Model):
    """An expense or a client cost advance (a fee the firm paid for the client) to re-bill."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="expenses")
    kind = models.CharField(max_length=16, choices=ExpenseKind.choices)
    expense_date = models.DateField()
    description = models.CharField(max_length=300)
    amount_cents = models.BigIntegerField()  # cents
    expense_code = models.CharField(max_length=8, default="E101")  # UTBMS expense code
    billable = models.BooleanField(default=True)
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="expenses"
    )
    # A cost advance's payment: Dr 1300 client cost advances, Cr 1000 operating bank (billing it
    # credits 1300). Reversed when the advance is corrected or deleted; None for an expense.
    entry = models.ForeignKey(
        "ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="billing_expense_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.description


class InvoiceCounter(models.Model):
    """The last number used per year; locked and bumped with F()+1 in the issuing transaction."""

    year = models.PositiveSmallIntegerField(unique=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"


class InvoicePdf(models.Model):
    """The PDF of an issued invoice, rendered once at issue; append-only."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="pdf")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"PDF of {self.invoice_id}"
