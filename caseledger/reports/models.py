"""The firm's report settings: the baseline period every KPI is compared with, and the
figures the ROI panel turns changes into money with."""

from __future__ import annotations

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
