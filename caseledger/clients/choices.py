from django.db import models


class ClientKind(models.TextChoices):
    PERSON = "PERSON", "Person"
    COMPANY = "COMPANY", "Company (employer / sponsor)"


class ClientType(models.TextChoices):
    """Reporting cohort."""

    PRIVATE = "PRIVATE", "Private"
    CORPORATE = "CORPORATE", "Corporate"
