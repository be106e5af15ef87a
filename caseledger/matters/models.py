from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.clients.models import Beneficiary, Client
from caseledger.core.choices import Role
from caseledger.matters.choices import (
    BeneficiaryLocation,
    BeneficiaryRule,
    BudgetKind,
    DeadlineKind,
    DocumentKind,
    MatterStatus,
    TaskStatus,
    TeamRole,
)


class CaseType(models.Model):
    """A kind of case (H-1B cap, N-400...) with its ordered stage template. Seeded by migration,
    editable by admins."""

    code = models.CharField(max_length=40, unique=True)  # lower snake case, e.g. "h1b_cap"
    name = models.CharField(max_length=120)
    form = models.CharField(max_length=40, blank=True, default="")  # e.g. "I-129"
    employment_based = models.BooleanField(
        default=False, help_text="Filed by an employer: refused for a private individual."
    )
    beneficiary_rule = models.CharField(
        max_length=12, choices=BeneficiaryRule.choices, default=BeneficiaryRule.OPTIONAL
    )
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)  # order in lists

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """One step of a case type's template. ``optional`` stages (an RFE) may be passed over by
    anyone; passing over a required stage is a skip and needs ``matters.skip_stage``."""

    case_type = models.ForeignKey(CaseType, on_delete=models.CASCADE, related_name="stages")
    code = models.CharField(max_length=40)  # lower snake case, e.g. "prepare_filing"
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField()
    optional = models.BooleanField(default=False)
    closes_matter = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_type", "code"], name="matters_stage_code_unique"),
            models.UniqueConstraint(
                fields=["case_type", "position"], name="matters_stage_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Matter(models.Model):
    """One case for one client."""

    number = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="matters")
    beneficiary = models.ForeignKey(
        Beneficiary, null=True, blank=True, on_delete=models.PROTECT, related_name="matters"
    )
    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="matters")
    current_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responsible_partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attorney = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    paralegal = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=MatterStatus.choices, default=MatterStatus.OPEN
    )
    opened_date = models.DateField()
    # The firm office that runs the matter (reports filter by it); empty: the main office.
    office = models.CharField(max_length=60, blank=True, default="")
    closed_date = models.DateField(null=True, blank=True)
    priority_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    # Hold on new work (collections sets it): blocks stage advances and new time entries.
    hold_new_work = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=300, blank=True, default="")
    hold_set_at = models.DateTimeField(null=True, blank=True)
    # The agreed fee or estimate (empty kind: none agreed). Billed, paid and remaining are shown
    # against it; a scope-reduction credit note lowers it (see BudgetChange).
    budget_kind = models.CharField(
        max_length=12, choices=BudgetKind.choices, blank=True, default=""
    )
    budget_cents = models.BigIntegerField(null=True, blank=True)  # cents; set with budget_kind
    # Facts the government fees depend on (billing.fees): where the beneficiary is when the
    # petition is filed (the H-1B proclamation payment), and how many extensions of stay this
    # employer already obtained for the beneficiary (ACWIA: none due from the second on).
    beneficiary_location = models.CharField(
        max_length=16, choices=BeneficiaryLocation.choices, blank=True, default=""
    )
    employer_prior_extensions = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "opened_date"]),
            # The matter list and API: newest opened first, over all or within the attorney,
            # responsible partner or case type they filter by (issue #20).
            models.Index(fields=["opened_date", "id"], name="matters_opened_idx"),
            models.Index(fields=["attorney", "opened_date", "id"], name="matters_attorney_opn_idx"),
            models.Index(
                fields=["responsible_partner", "opened_date", "id"], name="matters_partner_opn_idx"
            ),
            models.Index(
                fields=["case_type", "opened_date", "id"], name="matters_casetype_opn_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(budget_kind="", budget_cents__isnull=True)
                | (~models.Q(budget_kind="") & models.Q(budget_cents__gte=0)),
                name="matters_matter_budget_kind_and_amount",
            ),
            # ON_HOLD <=> hold flag, for open work; a closed matter may keep a billing hold.
            models.CheckConstraint(
                condition=models.Q(status=MatterStatus.ON_HOLD, hold_new_work=True)
                | models.Q(status=MatterStatus.OPEN, hold_new_work=False)
                | models.Q(status=MatterStatus.CLOSED),
                name="matters_matter_status_matches_hold",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_date__isnull=True)
                | models.Q(closed_date__gte=models.F("opened_date")),
                name="matters_matter_closed_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.status == MatterStatus.CLOSED

    @property
    def beneficiary_name(self) -> str:
        """Who the case is for: the beneficiary, or the client in a self-petition."""
        if self.beneficiary_id:
            return self.beneficiary.name  # type: ignore[union-attr]
        if self.case_type.beneficiary_rule == BeneficiaryRule.SELF:
            return self.client.name
        return ""


class BudgetChange(models.Model):
    """One change of a matter's budget, with its reason: set or edited by a person, or lowered
    by a scope-reduction credit note (``source`` names it, e.g. "credit note CN-2026-0003").
    Append-only history shown on the matter page; the amount itself lives on the matter."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="budget_changes")
    kind = models.CharField(max_length=12, choices=BudgetKind.choices)
    before_cents = models.BigIntegerField(null=True, blank=True)  # cents; None: no budget before
    after_cents = models.BigIntegerField(null=True, blank=True)  # cents; None: budget removed
    reason = models.CharField(max_length=300)
    source = models.CharField(max_length=120, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.matter_id}: {self.before_cents} -> {self.after_cents}"


class MatterNumberCounter(models.Model):
    """Matter numbers per year ("2026-0042"): the row is locked and bumped inside matter_create."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)


class ReceiptNumber(models.Model):
    """A USCIS receipt number on a matter (a matter may have several: I-129, I-539, I-765...)."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="receipts")
    number = models.CharField(max_length=13, unique=True)  # e.g. EAC2490012345
    form = models.CharField(max_length=20, blank=True, default="")
    received_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.number


class StageEvent(models.Model):
    """A matter reached a stage. Append-only (database triggers); billing listens through
    matters.hooks, called inside the advancing transaction."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="stage_events")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    skipped = models.JSONField(default=list, blank=True)  # codes of required stages passed over
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["matter", "at"])]

    def __str__(self) -> str:
        return f"{self.matter_id} -> {self.stage.code}"


class FirmDeadlineRule(models.Model):
    """Firm lead time per deadline kind: a task opens ``lead_days`` before the due date and goes
    to ``assign_to`` on the matter team."""

    kind = models.CharField(max_length=16, choices=DeadlineKind.choices, unique=True)
    lead_days = models.PositiveSmallIntegerField()
    assign_to = models.CharField(
        max_length=12, choices=TeamRole.choices, default=TeamRole.PARALEGAL
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lead_days__lte=365), name="matters_deadlinerule_lead_max_365"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.lead_days} days"


class Deadline(models.Model):
    """A date the case must meet (RFE response, status expiry, filing window, hearing)."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=16, choices=DeadlineKind.choices)
    due_date = models.DateField()
    description = models.CharField(max_length=200, blank=True, default="")
    task = models.ForeignKey(
        "Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the reminder task, once opened
    met_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["due_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_date}"


class Task(models.Model):
    """Work to do, for a person or for everyone in a role. System tasks carry ``system_key``: at
    most one OPEN task per key (partial unique constraint), so a rerun never opens a second."""

    matter = models.ForeignKey(
        Matter, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    due_date = models.DateField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee_role = models.CharField(max_length=16, choices=Role.choices, blank=True, default="")
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    system_key = models.CharField(max_length=120, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "due_date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["system_key"],
                condition=models.Q(status=TaskStatus.OPEN) & ~models.Q(system_key=""),
                name="matters_task_one_open_per_system_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status=TaskStatus.OPEN, completed_at__isnull=True)
                | models.Q(status=TaskStatus.DONE, completed_at__isnull=False),
                name="matters_task_done_has_completed_at",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN


class MatterDocument(models.Model):
    """A file the firm keeps on a matter (an approval notice, a copy of an RFE, a receipt
    notice), stored under MEDIA_ROOT with a random name; ``filename`` is the sanitised name the
    file was uploaded with, used for the download. ``shared_at`` set means the client sees it in
    the portal (matters/documents.py writes it, with an audit event)."""

    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="matters/documents/%Y/%m/", max_length=200)
    filename = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    shared_at = models.DateTimeField(null=True, blank=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        indexes = [models.Index(fields=["matter", "uploaded_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        return self.shared_at is not None
