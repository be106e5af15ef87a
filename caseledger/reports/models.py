"""The firm's report settings: the baseline period every KPI is compared with, and the
figures the ROI panel turns changes into money with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from caseledger.billing.utbms import ACTIVITIES


class ReportSettings(models.Model):
    """One row (id 1). No baseline until the firm sets one: the pages then say so."""

    baseline_start = models.DateField(null=True, blank=True)
    baseline_end = models.DateField(null=True, blank=True)
    # The firm's own collection target in days (collection rate within target).
    target_days = models.PositiveSmallIntegerField(default=45)
    # What an hour of staff time costs the firm, in cents (ROI of hours saved).
    staff_cost_cents_per_hour = models.BigIntegerField(default=6500)
    # The activity code of staff time on billing (non-billable time entries with it count as
    # "time spent on billing"): a UTBMS activity code (billing.utbms), A111 "Other" by default.
    billing_activity_code = models.CharField(max_length=4, default="A111")
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "report settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(baseline_start__isnull=True, baseline_end__isnull=True)
                | Q(baseline_start__lte=models.F("baseline_end")),
                name="reports_baseline_ordered",
            ),
            models.CheckConstraint(
                condition=Q(target_days__gte=1, target_days__lte=365),
                name="reports_target_days_range",
            ),
            models.CheckConstraint(
                condition=Q(staff_cost_cents_per_hour__gte=0),
                name="reports_staff_cost_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(billing_activity_code__in=sorted(ACTIVITIES)),
                name="reports_billing_activity_code_utbms",
            ),
        ]

    def __str__(self) -> str:
        return "Report settings"


class Cadence(models.TextChoices):
    WEEKLY = "WEEKLY", "Weekly (Monday, for the week before)"
    MONTHLY = "MONTHLY", "Monthly (the 1st, for the month before)"


class ReportSubscription(models.Model):
    """A partner or manager who receives the KPI report by email on a cadence."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="report_subscriptions"
    )
    cadence = models.CharField(max_length=8, choices=Cadence.choices)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "cadence"], name="reports_subscription_once"),
            models.CheckConstraint(
                condition=Q(cadence__in=["WEEKLY", "MONTHLY"]), name="reports_cadence_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_cadence_display()}"


class ReportDelivery(models.Model):
    """One report sent to one subscriber for one period: unique, so a rerun of the job sends
    nothing twice. The message itself is the outbox row named by ``message_id``."""

    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.PROTECT, related_name="deliveries"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    message_id = models.BigIntegerField()  # core.OutboxMessage (core sits below reports)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start", "period_end"],
                name="reports_delivery_once_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription} {self.period_start}..{self.period_end}"


class KpiDay(models.Model):
    """The firm's accounts-receivable postings of one day, summed by KPI category (ADR 020): what
    the firm-wide KPIs read instead of scanning every A/R posting. Amounts are signed posting
    sums (billed is a debit, the others credits), exactly what ``metrics`` sums over postings.

    Written in the posting's own transaction by ``summary.on_postings`` (a ledger posting
    listener); ``summary.verify`` (``manage.py verify``) recomputes it from the postings."""

    day = models.DateField(primary_key=True)
    billed_cents = models.BigIntegerField(default=0)
    collected_cents = models.BigIntegerField(default=0)
    credited_cents = models.BigIntegerField(default=0)
    written_off_cents = models.BigIntegerField(default=0)
    net_cents = models.BigIntegerField(default=0)  # every A/R posting: the day's A/R change
    # Collections of invoices with an issue date: their sum and the sum of amount x days since
    # issue (average days to pay).
    paid_cents = models.BigIntegerField(default=0)
    paid_day_cents = models.BigIntegerField(default=0)
    postings = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"KPI day {self.day}"


class KpiIssueDay(models.Model):
    """The A/R postings of invoices issued on ``issue_date`` that are dated ``day``, summed: the
    collection rates (collected within N days of issue) and the collection cohorts read it."""

    issue_date = models.DateField()
    day = models.DateField()
    billed_cents = models.BigIntegerField(default=0)
    issued_cents = models.BigIntegerField(default=0)  # INVOICE_ISSUED postings only
    collected_cents = models.BigIntegerField(default=0)
    postings = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue_date", "day"], name="reports_kpiissueday_key")
        ]

    def __str__(self) -> str:
        return f"KPI issue {self.issue_date} on {self.day}"


class KpiInvoiceDay(models.Model):
    """The invoices issued on ``issue_date`` and not voided, counted per ``measure`` and value
    (ADR 021): ``ISSUED`` (value 0) counts them all; ``TOTAL``, ``REVIEW`` and ``ISSUE`` count
    them by their exact turnaround in microseconds (trigger to issue; trigger to approval and
    approval to issue, for the approved ones). The firm-wide turnaround percentiles and the
    count of invoices issued read this histogram instead of sorting every invoice of the period;
    the figures are the same, not approximations (every distinct value has its own row).

    Kept by ``summary.on_postings`` in the issue's transaction (the issue entry adds the
    invoice, the reversal of a void takes it off again, leaving rows of count 0)."""

    issue_date = models.DateField()
    measure = models.CharField(max_length=6)
    micros = models.BigIntegerField()
    invoices = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issue_date", "measure", "micros"], name="reports_kpiinvoiceday_key"
            )
        ]

    def __str__(self) -> str:
        return f"KPI invoices {self.issue_date} {self.measure} {self.micros}"


class KpiLineDay(models.Model):
    """The legal-fee lines (fee, time, instalment) of the invoices issued on ``issue_date`` and not
    voided, summed per (kind, timekeeper, catalogue item) (ADR 021): what realization values at
    today's standard rates instead of reading every invoice line. ``timekeeper_id`` and
    ``service_id`` are 0 when the line has none; the quantity is in hundredths (the line's two
    decimal places, summed as an integer). Kept like ``KpiInvoiceDay``."""

    issue_date = models.DateField()
    kind = models.CharField(max_length=16)
    timekeeper_id = models.BigIntegerField(default=0)  # billing.Timekeeper, 0: none
    service_id = models.BigIntegerField(default=0)  # billing.Service, 0: none
    quantity_hundredths = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issue_date", "kind", "timekeeper_id", "service_id"],
                name="reports_kpilineday_key",
            )
        ]

    def __str__(self) -> str:
        return f"KPI lines {self.issue_date} {self.kind}"


class KpiCashDay(models.Model):
    """The firm's A/R postings of collections of one day, summed per way of payment (ADR 020):
    what the operations report's cash panel reads instead of every collection posting joined to
    its entry and payment. ``method`` is a ``metrics.CASH_METHOD_LABELS`` key: a receipt's
    payment method, or TRUST, CREDIT, SETTLED, REFUND, REVERSED as ``metrics`` classifies the
    posting's entry. ``cents`` is the signed posting sum (collections are credits, negative).

    Kept in the posting's transaction by ``summary.on_postings``; a receipt is first filed as
    its entry's postings give it (no payment yet: REVERSED, as the panel's query reads an
    unlinked receipt) and moved to its payment's method by ``summary.on_receipt`` when payments
    links the payment to the entry, in the same transaction. A row may be left with 0 postings."""

    day = models.DateField()
    method = models.CharField(max_length=16)
    cents = models.BigIntegerField(default=0)
    postings = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "method"], name="reports_kpicashday_key")
        ]

    def __str__(self) -> str:
        return f"KPI cash {self.day} {self.method}"


class CohortKey(models.Model):
    """The cohort key of ``KpiCohortDay`` and ``KpiCohortIssueDay``: the client's and matter's
    current attributes the cohorts group by."""

    client_type = models.CharField(max_length=12)  # clients.Client.client_type, "" no client
    intake_source = models.CharField(max_length=12)  # clients.Client.intake_source
    case_type_id = models.BigIntegerField()  # matters.CaseType, 0: no matter
    partner_id = models.BigIntegerField()  # the matter's responsible partner (a User), 0: none
    office = models.CharField(max_length=60)  # matters.Matter.office

    class Meta:
        abstract = True


class KpiCohortDay(CohortKey):
    """The firm's A/R postings of one day summed per cohort key (ADR 024): the current client type
    and intake source of the posting's client and the current case type, responsible partner and
    office of its matter. What the cohorts page groups by any of those instead of joining every
    A/R posting of the period to its client and matter; the columns are ``KpiDay``'s.

    A key value is "" or 0 where the posting has no client (``client_type`` "", which no client
    has) or no matter (``case_type_id`` 0: every matter has a case type), or the matter no
    partner (``partner_id`` 0). Kept in the posting's transaction by ``summary.on_postings``; a
    change of a client's type or intake source, or of a matter's partner or office, moves that
    client's or matter's postings to their new key in the change's transaction
    (``summary.on_client_regroup``, ``summary.on_matter_regroup``). A row may be left at 0."""

    day = models.DateField()
    billed_cents = models.BigIntegerField(default=0)
    collected_cents = models.BigIntegerField(default=0)
    credited_cents = models.BigIntegerField(default=0)
    written_off_cents = models.BigIntegerField(default=0)
    paid_cents = models.BigIntegerField(default=0)
    paid_day_cents = models.BigIntegerField(default=0)
    postings = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day",
                    "client_type",
                    "intake_source",
                    "case_type_id",
                    "partner_id",
                    "office",
                ],
                name="reports_kpicohortday_key",
            )
        ]

    def __str__(self) -> str:
        return f"KPI cohort {self.day}"


class KpiCohortIssueDay(CohortKey):
    """Per cohort key (as ``KpiCohortDay``), the A/R postings of invoices issued on
    ``issue_date`` that are dated ``day``: the INVOICE_ISSUED postings (``issued_cents``) and the
    collections dated at most ``metrics.COHORT_WINDOW`` days after the issue (``collected_cents``),
    what the cohorts' collection rate reads; later collections are left out, so a row's days
    stay within the window whatever the age of the firm. Kept like ``KpiCohortDay``."""

    issue_date = models.DateField()
    day = models.DateField()
    issued_cents = models.BigIntegerField(default=0)
    collected_cents = models.BigIntegerField(default=0)
    postings = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "issue_date",
                    "day",
                    "client_type",
                    "intake_source",
                    "case_type_id",
                    "partner_id",
                    "office",
                ],
                name="reports_kpicohortissueday_key",
            )
        ]

    def __str__(self) -> str:
        return f"KPI cohort issue {self.issue_date} on {self.day}"
