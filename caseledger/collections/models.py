"""Collections: policies with dunning stages, the reminder rows that make each reminder happen at
most once, promises to pay and manual reminders, disputes, payment plans, runs, holds and the
at-risk tags.

``ARAgingFact`` is the aging report's own copy of the ledger's A/R postings (one row each, with
the invoice's due date), written in the posting's transaction; see ``services.aging_facts``.

The exactly-once guarantee is the unique (invoice, stage, channel) constraint on ``Reminder``:
the daily run inserts the row in the same transaction that queues the email (the row *is* the
outbox entry), so a rerun or a concurrent run finds the row and does nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.billing.models import Invoice
from caseledger.clients.choices import ClientType
from caseledger.clients.models import Client
from caseledger.collections.choices import (
    ActivityKind,
    Channel,
    HoldStatus,
    ReminderStatus,
    RunStatus,
)
from caseledger.ledger.models import Posting
from caseledger.matters.models import Matter


class CollectionPolicy(models.Model):
    """The firm's dunning policy: the default (``client_type`` blank) or an override for one
    client type (corporate / private)."""

    name = models.CharField(max_length=120)
    client_type = models.CharField(
        max_length=12, choices=ClientType.choices, blank=True, unique=True
    )
    # Exclusions: invoices the run leaves alone.
    exclude_payment_plan = models.BooleanField(
        default=True, help_text="Skip invoices on a payment plan in good standing."
    )
    exclude_dispute = models.BooleanField(
        default=True, help_text="Skip invoices with an open dispute."
    )
    exclude_trust_covered = models.BooleanField(
        default=True, help_text="Skip invoices whose matter holds enough trust to pay the balance."
    )
    # At risk: an overdue balance on a matter with a case deadline within this many days.
    at_risk_days = models.PositiveSmallIntegerField(default=14)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class PolicyStage(models.Model):
    """One dunning step for invoices ``days_from``..``days_to`` days past due (``days_to`` null:
    no upper end). Stages of one policy never overlap (checked by ``policy_save``)."""

    policy = models.ForeignKey(CollectionPolicy, on_delete=models.PROTECT, related_name="stages")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    days_from = models.PositiveIntegerField()
    days_to = models.PositiveIntegerField(null=True, blank=True)
    send_email = models.BooleanField(default=True)
    send_letter = models.BooleanField(default=False)
    open_task = models.BooleanField(default=False)
    escalate_partner = models.BooleanField(default=False)
    set_hold = models.BooleanField(default=False)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "code"], name="collections_stage_code_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(days_from__gte=1), name="collections_stage_from_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(days_to__isnull=True)
                | models.Q(days_to__gte=models.F("days_from")),
                name="collections_stage_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def range_label(self) -> str:
        if self.days_to is None:
            return f"{self.days_from}+ days"
        return f"{self.days_from}-{self.days_to} days"


class CollectionRun(models.Model):
    """One execution of the daily run for ``run_date`` (reruns of a date get their own row)."""

    run_date = models.DateField()
    status = models.CharField(max_length=12, choices=RunStatus.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Counts of what this run did: scheduled, suppressed, deferred, excluded, holds set/lifted...
    stats = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["run_date", "status"])]

    def __str__(self) -> str:
        return f"Collections run {self.run_date} ({self.status})"


class Reminder(models.Model):
    """One step of one stage for one invoice: an email, a letter, or the stage's actions.

    Unique per (invoice, stage, channel): this row is written in the transaction that schedules
    the step, so a step is never taken twice. An email's message is written to the outbox
    (core.OutboxMessage, key ``collections.reminder:<id>``) in the same transaction and delivered
    from there; this row's status follows it (QUEUED -> SENT, or FAILED when the outbox gives
    up), and its attempts and errors are the outbox message's."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders")
    stage = models.ForeignKey(PolicyStage, on_delete=models.PROTECT, related_name="reminders")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=14, choices=ReminderStatus.choices)
    run = models.ForeignKey(
        CollectionRun, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    run_date = models.DateField()
    days_past_due = models.IntegerField()
    balance_cents = models.BigIntegerField()  # cents due when the step was scheduled
    to_email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    note = models.CharField(max_length=300, blank=True)  # why suppressed, what was done
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "stage", "channel"], name="collections_reminder_once"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "channel"]),
            models.Index(fields=["run_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.get_channel_display()} for {self.invoice}"


class CollectionActivity(models.Model):
    """What people did outside the run: a manual reminder, a promise to pay, a note."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="collection_activities"
    )
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    activity_date = models.DateField()
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    promised_date = models.DateField(null=True, blank=True)
    promised_cents = models.BigIntegerField(null=True, blank=True)  # cents promised
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["invoice", "activity_date"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind=ActivityKind.PROMISE_TO_PAY)
                | models.Q(promised_date__isnull=False),
                name="collections_promise_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.invoice}"


class InvoiceDispute(models.Model):
    """The client disputes the invoice; while open, the run leaves it alone (policy permitting)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="disputes")
    reason = models.CharField(max_length=500)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(resolved_at__isnull=True),
                name="collections_one_open_dispute",
            )
        ]

    def __str__(self) -> str:
        return f"Dispute on {self.invoice}"


class PaymentPlan(models.Model):
    """An agreed schedule for paying one invoice: ``installment_cents`` every ``interval_days``
    from ``first_due_date``. In good standing when the payments since the agreement cover every
    installment due so far."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payment_plans")
    installment_cents = models.BigIntegerField()  # cents per installment
    first_due_date = models.DateField()
    interval_days = models.PositiveSmallIntegerField(default=30)
    paid_at_agreement_cents = models.BigIntegerField()  # cents already paid when agreed
    agreed_at = models.DateTimeField()
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(installment_cents__gt=0),
                name="collections_plan_installment_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(interval_days__gte=1), name="collections_plan_interval_positive"
            ),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(cancelled_at__isnull=True),
                name="collections_one_active_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment plan for {self.invoice}"


class CollectionHold(models.Model):
    """A hold on new work the collections escalation put on a matter, until lifted (balance
    cleared, or a partner with a reason)."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="collection_holds")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=HoldStatus.choices)
    reason = models.CharField(max_length=300)
    set_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["matter"],
                condition=models.Q(status=HoldStatus.ACTIVE),
                name="collections_one_active_hold",
            )
        ]

    def __str__(self) -> str:
        return f"Collections hold on {self.matter}"


class AtRiskMatter(models.Model):
    """A matter whose overdue balance meets a case deadline within the policy's window; refreshed
    by each run (rows of matters no longer at risk are removed)."""

    matter = models.OneToOneField(Matter, on_delete=models.CASCADE, related_name="at_risk")
    overdue_cents = models.BigIntegerField()  # cents overdue on the matter
    max_days_past_due = models.IntegerField()
    deadline_date = models.DateField()
    deadline_label = models.CharField(max_length=200)
    tagged_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.matter} at risk"


class ARAgingFact(models.Model):
    """One ledger posting to accounts receivable, as the aging report reads it: the posting's
    date, amount, client, matter and invoice, plus the invoice's due date (null: no invoice, or
    an invoice without one; aged as current). Written in the same transaction as the posting
    (``services.aging_facts.on_postings``, a ledger posting listener); append-only (database
    trigger), like the postings it copies. The responsible partner and case type are not copied:
    they belong to the matter and may change, so the report joins the matter for them.

    Invariant (``selectors.aging_facts_verify``, ``manage.py verify_aging``): exactly one row per
    A/R posting, with the posting's values, so the report's total equals the ledger's A/R.
    """

    posting = models.OneToOneField(
        Posting, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    entry_date = models.DateField()  # the posting's entry date
    due_date = models.DateField(null=True, blank=True)  # the invoice's (frozen once issued)
    amount_cents = models.BigIntegerField()  # cents; + debit (billed), - credit (settled)
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matter = models.ForeignKey(
        Matter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A receivable that is not a billing invoice (an imported legacy invoice, "L-1001"): named
    # by the app that posted it, inside ``services.aging_facts.receivables``, with its due date.
    # Nullable (NULL: an invoice's or an unnamed posting's fact) so SQLite adds the column in
    # place instead of rebuilding the table, which would drop its append-only triggers.
    reference = models.CharField(max_length=80, null=True, blank=True)  # noqa: DJ001

    class Meta:
        # The report adds what is open now and takes off the facts dated after its as-of date
        # (``selectors._aging_sql``): those are read by this index (none for today's report).
        indexes = [models.Index(fields=["entry_date"], name="collections_fact_entry_date")]

    def __str__(self) -> str:
        return f"A/R {self.amount_cents:+d} on {self.entry_date} (posting {self.posting_id})"


class ARAgingOpen(models.Model):
    """What is open on one receivable today: the aging facts of one (invoice, client, matter,
    due date, reference) summed over every date, kept only while that sum is not zero (ADR 022).
    Upserted in the posting's transaction by the same listener that writes the facts
    (``services.aging_facts.on_postings``), and deleted when a posting brings it to zero, so the
    table holds the open receivables only and the aging report reads them instead of every fact.

    ``key`` is the five values as text (``services.aging_facts.open_key_sql``): NULLs included,
    so one unique column serves ``INSERT ... ON CONFLICT`` on SQLite and PostgreSQL alike. For a
    billing invoice it is one row per invoice (its postings carry its client, matter and due
    date). Invariant (``selectors.aging_open_verify``, ``manage.py verify`` check
    ``aging_open``): exactly the non-zero sums of the facts grouped by those five values.
    """

    key = models.CharField(max_length=200, primary_key=True)
    due_date = models.DateField(null=True, blank=True)
    open_cents = models.BigIntegerField()  # never 0: the row is deleted when it gets there
    # No index of their own: the report reads them all (through the covering index below);
    # only deletes of the rows they name would look them up (clients, matters and issued
    # invoices are not deleted).
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    matter = models.ForeignKey(
        Matter, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reference = models.CharField(max_length=80, null=True, blank=True)  # noqa: DJ001

    class Meta:
        # The report sums the open rows per (client, matter) first (``selectors._as_of_sums``):
        # on PostgreSQL an index-only scan of this index, in its order, grouped as it streams
        # (the due date and amount ride along), instead of hashing every row of the table.
        # SQLite ignores ``include`` (an index on client and matter).
        indexes = [
            models.Index(
                fields=["client", "matter"],
                include=["due_date", "open_cents"],
                name="collections_open_cm_cover",
            ),
            # The drill-down's order (``selectors.aging_invoices_query``: oldest due first, no
            # due date last, then invoice): a page is the first rows of this index; its bucket
            # filters are ranges of it; a COUNT reads it alone (the amount rides along).
            models.Index(
                fields=["due_date", "invoice"],
                include=["open_cents"],
                name="collections_open_due_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"A/R open {self.open_cents} ({self.key})"


class ARAgingBuckets(models.Model):
    """What is open today per (client, matter), in the aging buckets of one date
    (``ARAgingBucketsDate``, the same for every row; ADR 022, "Buckets as of a date"): the
    total of its open rows (``ARAgingOpen``) and the cumulative sums of those due before the
    date and before 30, 60 and 90 days earlier. The aging report as of that date reads these
    rows (one per client and matter) instead of summing every open receivable.

    Kept by the same posting listener, after the open rows: an A/R entry adds its facts' sums,
    each in the buckets of its due date relative to the stored date (``services.aging_facts.
    on_postings``), in the posting transaction. A row that comes to zero stays (the next
    rebuild drops it). ``aging_buckets_rebuild`` recomputes every row for a date, set-based
    from the open rows; the roll (checked every minute) moves the date to the firm's today
    (``aging_buckets_roll``). ``key`` is client and matter as text (``|``-separated, NULL as
    empty) so ``ON CONFLICT`` works on both databases. Invariant (``selectors.
    aging_buckets_verify``, ``manage.py verify`` check ``aging_buckets``): the non-zero rows
    are exactly the open rows' non-zero sums per (client, matter) as of the stored date.
    """

    key = models.CharField(max_length=41, primary_key=True)
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    matter = models.ForeignKey(
        Matter, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    total_cents = models.BigIntegerField(default=0)  # every open row
    due_cents = models.BigIntegerField(default=0)  # due before the date
    due30_cents = models.BigIntegerField(default=0)  # due before the date - 30 days
    due60_cents = models.BigIntegerField(default=0)  # due before the date - 60 days
    due90_cents = models.BigIntegerField(default=0)  # due before the date - 90 days

    def __str__(self) -> str:
        return f"A/R buckets {self.key}: {self.total_cents}"


class ARAgingBucketsDate(models.Model):
    """The one date ``ARAgingBuckets`` is bucketed against (row id 1; none: no buckets kept
    yet), with the three earlier boundaries stored beside it so the listener's statement
    compares dates without date arithmetic (which differs between SQLite and PostgreSQL)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    as_of = models.DateField()
    before30 = models.DateField()  # as_of - 30 days
    before60 = models.DateField()  # as_of - 60 days
    before90 = models.DateField()  # as_of - 90 days

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="aging_date_one_row")]

    def __str__(self) -> str:
        return f"A/R buckets as of {self.as_of}"
