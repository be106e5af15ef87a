from django.db import models


class ClientKind(models.TextChoices):
    PERSON = "PERSON", "Person"
    COMPANY = "COMPANY", "Company (employer / sponsor)"


class ClientType(models.TextChoices):
    """Reporting cohort."""

    PRIVATE = "PRIVATE", "Private"
    CORPORATE = "CORPORATE", "Corporate"


class ContactRole(models.TextChoices):
    BILLING = "BILLING", "Billing contact"
    HR = "HR", "HR contact"
    SIGNATORY = "SIGNATORY", "Authorized signatory"
    PRIMARY = "PRIMARY", "Primary contact"
    OTHER = "OTHER", "Other"


class Relationship(models.TextChoices):
    """How the beneficiary is related to the petitioning client."""

    EMPLOYEE = "EMPLOYEE", "Employee / prospective employee"
    SPOUSE = "SPOUSE", "Spouse"
    FIANCE = "FIANCE", "Fiancé(e)"
    CHILD = "CHILD", "Child"
    PARENT = "PARENT", "Parent"
    SIBLING = "SIBLING", "Sibling"
    OTHER = "OTHER", "Other"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    CHINESE = "zh", "Chinese"
    HINDI = "hi", "Hindi"
    PORTUGUESE = "pt", "Portuguese"
    FRENCH = "fr", "French"
    ARABIC = "ar", "Arabic"
    RUSSIAN = "ru", "Russian"
    VIETNAMESE = "vi", "Vietnamese"
    KOREAN = "ko", "Korean"
