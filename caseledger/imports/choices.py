from django.db import models


class RecordKind(models.TextChoices):
    CLIENT = "CLIENT", "Client"
    MATTER = "MATTER", "Matter"
    ACTIVITY = "ACTIVITY", "Activity (time or expense)"
    INVOICE = "INVOICE", "Invoice (history)"
    TRUST = "TRUST", "Opening trust balance"
    CREDIT = "CREDIT", "Opening unapplied credit"
    PAYMENT = "PAYMENT", "Payment before the cutover (history)"


class JobStatus(models.TextChoices):
    UPLOADED = "UPLOADED", "Uploaded"
    VALIDATED = "VALIDATED", "Dry run done"
    RUNNING = "RUNNING", "Importing"
    FAILED = "FAILED", "Stopped (resume to finish)"
    DONE = "DONE", "Imported"


class CutoverStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    FINALIZED = "FINALIZED", "Finalized"
