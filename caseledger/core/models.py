from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from caseledger.core.choices import OutboxStatus, Role, RoundingRule
from caseledger.core.money import CURRENCIES, DEFAULT_CEILING_MINOR_UNITS, MAX_CEILING_MINOR_UNITS


def default_two_factor_roles() -> list[str]:
    return [Role.ADMIN, Role.PARTNER, Role.BILLING]


class User(AbstractUser):
    """A person who logs in: staff with one role, or a client's portal user."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PARALEGAL)
    # Hourly rate and initials for time entries and invoices; null for non-timekeepers.
    initials = models.CharField(max_length=8, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="core_user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT


class Firm(models.Model):
    """The one firm this install serves (row id 1)."""

    name = models.CharField(max_length=200, default="Your Immigration Law Firm")
    address = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # The firm's U.S. taxpayer ID (EIN, written 12-3456789): LAW_FIRM_ID of LEDES e-bills.
    # Blank until set; LEDES export is refused without it (billing.exports).
    taxpayer_id = models.CharField(max_length=20, blank=True, default="")
    # ISO 4217, one of core.money.CURRENCIES; fixed once any money is posted.
    currency = models.CharField(max_length=3, default="USD")
    time_zone = models.CharField(max_length=64, default="America/New_York")
    # Format of invoice numbers: {year} and {seq} (zero-padded to seq_width digits).
    invoice_number_format = models.CharField(max_length=40, default="{year}-{seq}")
    invoice_number_width = models.PositiveSmallIntegerField(default=6)
    rounding_rule = models.CharField(
        max_length=12, choices=RoundingRule.choices, default=RoundingRule.HALF_UP
    )
    # Approval thresholds in minor units (cents).
    disbursement_dual_approval_cents = models.BigIntegerField(default=500_000)
    credit_note_approval_cents = models.BigIntegerField(default=50_000)
    write_off_approval_cents = models.BigIntegerField(default=50_000)
    # The largest single amount any form, service or API route accepts, in minor units
    # (default $10,000,000.00); at most core.money.MAX_CEILING_MINOR_UNITS.
    amount_ceiling_cents = models.BigIntegerField(default=DEFAULT_CEILING_MINOR_UNITS)
    two_factor_roles = models.JSONField(default=default_two_factor_roles)
    two_factor_enforced = models.BooleanField(
        default=True,
        help_text="When on, users in the roles above must use a TOTP code to log in.",
    )
    # False: attorneys and paralegals see only matters they are assigned to.
    matters_open_to_all = models.BooleanField(default=False)
    # Mail each daily audit anchor (core.anchors) to the partners, as a copy outside the
    # database and the server's files.
    audit_anchor_email = models.BooleanField(
        default=False,
        help_text="Email the daily signed head of the audit log to every partner.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="core_firm_singleton"),
            models.CheckConstraint(
                condition=models.Q(disbursement_dual_approval_cents__gte=0),
                name="core_firm_disbursement_threshold_nonnegative",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_ceiling_cents__gte=1)
                & models.Q(amount_ceiling_cents__lte=MAX_CEILING_MINOR_UNITS),
                name="core_firm_amount_ceiling_range",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__in=sorted(CURRENCIES)),
                name="core_firm_currency_supported",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """Append-only, hash-chained record of every write (see core.audit).

    UPDATE, DELETE and TRUNCATE are refused by database triggers; ``hash`` is an HMAC-SHA256
    (key ``key_id`` of ``settings.AUDIT_KEYS``) over this row's content and ``prev_hash``, so an
    edit made with the triggers dropped is found by ``verify_audit``, and an event forged
    without the key does not verify.
    """

    at = models.DateTimeField()
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Id of the AUDIT_KEYS entry whose HMAC ``hash`` is ('' only before the re-key migration).
    key_id = models.CharField(max_length=16, default="")
    # The id of the web request (X-Request-ID, also in every JSON log line of that request) or
    # of the job run that wrote the event; '' for events recorded before it was kept. Part of
    # the signed content when not empty.
    request_id = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["action"]),
            # The newest events first (the audit log, the home page's recent activity): the
            # order ``-at, -id`` read backwards from the index, never a sort of the whole log.
            models.Index(fields=["at", "id"], name="core_audit_at_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class AuditChainHead(models.Model):
    """One row (id 1) holding the last event's hash; locked to append to the chain in order."""

    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="core_auditchainhead_singleton")
        ]


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=80)
    # First characters of the secret, to recognise a token in the list without revealing it.
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 hex of the full secret
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class OutboxMessage(models.Model):
    """One message that leaves the firm (an email), written in the transaction that decided to
    send it and delivered after commit by ``core.outbox``.

    ``key`` is unique: enqueueing the same key twice keeps the first row, so a message is sent at
    most once per key. ``status`` moves PENDING -> SENDING (claimed by one sender, ``claim_token``)
    -> SENT, or -> FAILED (retried at ``next_attempt_at``) -> DEAD after the last attempt. A claim
    left SENDING by a dead process is recovered by the periodic job and resent with the same
    ``message_id``, so a copy that did leave before the crash is recognisable by the recipient.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40)  # "billing.invoice_issued", "collections.reminder"...
    to = models.JSONField(default=list)  # list of addresses
    from_email = models.CharField(max_length=254, blank=True)  # blank: DEFAULT_FROM_EMAIL
    subject = models.CharField(max_length=250)
    body = models.TextField()
    html = models.TextField(blank=True)
    # [{"renderer": name, "args": {...}}] rendered at send time from the business record, or
    # [{"filename": ..., "mimetype": ..., "content_b64": ...}] stored bytes.
    attachments = models.JSONField(default=list)
    message_id = models.CharField(max_length=300)  # the Message-ID header, derived from key
    related_type = models.CharField(max_length=80, blank=True)  # "billing.invoice"
    related_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OutboxStatus.values),
                name="core_outbox_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["related_type", "related_id"]),
            models.Index(fields=["kind", "status"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class ChangeCount(models.Model):
    """One change that can move what a domain's cached reads show (``core.changes``): database
    triggers add a row (``domain``, a random weight) in the writing transaction; the domain's
    count is the sum of its rows, which a periodic job folds into one row of the same count."""

    domain = models.CharField(max_length=40)  # "trust"
    weight = models.BigIntegerField(default=1)  # random per change; a compacted row: their sum

    class Meta:
        indexes = [models.Index(fields=["domain"], name="core_changecount_domain_idx")]

    def __str__(self) -> str:
        return f"{self.domain} +{self.weight}"
