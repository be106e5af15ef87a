from __future__ import annotations

from django.db import models

from caseledger.billing.choices import InvoiceStatus
from caseledger.clients.models import Client
from caseledger.matters.models import Matter


class Invoice(models.Model):
    """A bill to a client for one matter. Drafts change; an issued invoice never does."""

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
    total_cents = models.BigIntegerField(default=0)  # cents; always the sum of the lines
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.number or f"Draft #{self.pk}"
