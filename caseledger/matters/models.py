from __future__ import annotations

from django.conf import settings
from django.db import models

from caseledger.clients.models import Client
from caseledger.matters.choices import MatterStatus


class Matter(models.Model):
    """One case for one client."""

    number = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="matters")
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
    closed_date = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
