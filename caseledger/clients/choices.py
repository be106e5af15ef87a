from django.db import models


class ClientKind(models.TextChoices):
    PERSON = "PERSON", "Person"
    COMPANY = "COMPANY", "Company (employer / sponsor)"


class ClientType(models.TextChoices):
    """Reporting cohort."""

    PRIVATE = "PRIVATE", "Private"
    CORPORATE = "CORPORATE", "Corporate"


class IntakeSource(models.TextChoices):
    """How the client came to the firm (reporting cohort); empty when not known."""

    REFERRAL = "REFERRAL", "Referral"
    WEBSITE = "WEBSITE", "Website or search"
    EMPLOYER = "EMPLOYER", "Employer program"
    REPEAT = "REPEAT", "Returning client"
    EVENT = "EVENT", "Event or seminar"
    OTHER = "OTHER", "Other"


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


class EmployeeBand(models.TextChoices):
    """Full-time-equivalent employees in the U.S. (incl. affiliates), as the I-129 asks: the
    ACWIA fee, the I-129 base fee and the Asylum Program Fee depend on it."""

    UNKNOWN = "", "Not recorded"
    UP_TO_25 = "UP_TO_25", "1 to 25 full-time employees"
    OVER_25 = "OVER_25", "26 or more full-time employees"


class AcwiaExemption(models.TextChoices):
    """Employers exempt from the ACWIA fee (INA 214(c)(9)(A); 8 CFR 214.2(h)(19)(iii))."""

    NONE = "", "Not exempt"
    HIGHER_EDUCATION = (
        "HIGHER_EDUCATION",
        "Institution of higher education (or affiliated nonprofit)",
    )
    NONPROFIT_RESEARCH = "NONPROFIT_RESEARCH", "Nonprofit research organization"
    GOVERNMENT_RESEARCH = "GOVERNMENT_RESEARCH", "Governmental research organization"
