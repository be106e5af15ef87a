from django.db import models


class RecordKind(models.TextChoices):
    CLIENT = "CLIENT", "Client"
    MATTER = "MATTER", "Matter"
    ACTIVITY = "ACTIVITY", "Activity (time or expense)"
    INVOICE = "INVOICE", "Invoice (history)"
    TRUST = "TRUST", "Opening trust balance"
    CREDIT = "CREDIT", "Opening unapplied credit"
    PAYMENT = "PAYMENT", "Payment before the cutover (history)"
    ADJUSTMENT = "ADJUSTMENT", "Credit note, write-off or discount before the cutover (history)"


class AdjustmentKind(models.TextChoices):
    """What the old system did to a bill's amount owed after issuing it (history only)."""

    CREDIT_NOTE = "CREDIT_NOTE", "Credit note"
    WRITE_OFF = "WRITE_OFF", "Write-off"
    DISCOUNT = "DISCOUNT", "Discount"


class JobStatus(models.TextChoices):
    UPLOADED = "UPLOADED", "Uploaded"
    VALIDATED = "VALIDATED", "Dry run done"
    RUNNING = "RUNNING", "Importing"
    FAILED = "FAILED", "Stopped (resume to finish)"
    DONE = "DONE", "Imported"


class CutoverStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    FINALIZED = "FINALIZED", "Finalized"
