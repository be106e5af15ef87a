"""The firm's report settings: the baseline period every KPI is compared with, and the
figures the ROI panel turns changes into money with."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReportSettings(models.Model):
    """One row (id 1). No baseline until the firm sets one: the pages then say so."""

    baseline_start = models.DateField(null=True, blank=True)
    baseline_end = models.DateField(null=True, blank=True)
    # The firm's own collection target in days (collection rate within target).
    target_days = models.PositiveSmallIntegerField(default=45)
    # What an hour of staff time costs the firm, in cents (ROI of hours saved).
    staff_cost_cents_per_hour = models.BigIntegerField(default=6500)
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
