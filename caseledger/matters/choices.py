from django.db import models


class MatterStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    ON_HOLD = "ON_HOLD", "On hold"
    CLOSED = "CLOSED", "Closed"


class BeneficiaryRule(models.TextChoices):
    """Who the case is for, per case type."""

    PETITION = "PETITION", "Petition for a beneficiary (employer or family petitioner)"
    SELF = "SELF", "Client is the beneficiary (naturalization, asylum, removal defense)"
    OPTIONAL = "OPTIONAL", "Beneficiary optional (consultation, RFE response, appeal)"


class DeadlineKind(models.TextChoices):
    RFE_RESPONSE = "RFE_RESPONSE", "RFE / NOID response due"
    STATUS_EXPIRY = "STATUS_EXPIRY", "Visa / status expiry"
    FILING_WINDOW = "FILING_WINDOW", "Filing window"
    HEARING = "HEARING", "Hearing"
    OTHER = "OTHER", "Other"


class TaskStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    DONE = "DONE", "Done"


class TeamRole(models.TextChoices):
    """Which member of the matter team a system task goes to."""

    PARALEGAL = "PARALEGAL", "Matter paralegal"
    ATTORNEY = "ATTORNEY", "Matter attorney"
    PARTNER = "PARTNER", "Responsible partner"


# Known USCIS receipt-number prefixes (service centres and field-office / online intake).
RECEIPT_PREFIXES = (
    "EAC",  # Vermont Service Center
    "WAC",  # California Service Center
    "LIN",  # Nebraska Service Center
    "SRC",  # Texas Service Center
    "NBC",  # National Benefits Center
    "MSC",  # Missouri Service Center / National Benefits Center
    "IOE",  # USCIS electronic immigration system (online filing)
    "YSC",  # Potomac Service Center
    "ESC",  # Eastern Service Center (older receipts)
    "TSC",  # Texas Service Center (older receipts)
    "NSC",  # Nebraska Service Center (older receipts)
    "VSC",  # Vermont Service Center (older receipts)
    "CSC",  # California Service Center (older receipts)
)


class BudgetKind(models.TextChoices):
    """What a matter's agreed amount is: the engagement's flat fee, or an estimate for hourly
    work. Either way billed, paid and remaining are shown against it."""

    FLAT_FEE = "FLAT_FEE", "Flat-fee engagement total"
    ESTIMATE = "ESTIMATE", "Budget for hourly work"


# Shares of the budget (billed) at which the responsible attorney gets a task, once each.
BUDGET_THRESHOLDS_PCT = (80, 100)


class BeneficiaryLocation(models.TextChoices):
    """Where the beneficiary of an H-1B petition is when it is filed: decides the payment of
    Proclamation 10973 (Sept. 19, 2025; USCIS guidance of Oct. 20, 2025), billing.fees."""

    IN_US = "IN_US", "In the U.S. (change of status, amendment or extension of stay)"
    OUTSIDE_US = "OUTSIDE_US", "Outside the U.S. without a valid H-1B visa"
    NOTIFICATION = (
        "NOTIFICATION",
        "In the U.S., consular or port-of-entry notification or pre-flight inspection requested",
    )


class DocumentKind(models.TextChoices):
    """What a document the firm keeps on a matter is (shown to the client in the portal when
    shared)."""

    RECEIPT_NOTICE = "RECEIPT_NOTICE", "Receipt notice (I-797C)"
    APPROVAL_NOTICE = "APPROVAL_NOTICE", "Approval notice (I-797)"
    RFE = "RFE", "Request for evidence"
    RFE_RESPONSE = "RFE_RESPONSE", "Response to a request for evidence"
    INTERVIEW_NOTICE = "INTERVIEW_NOTICE", "Interview notice"
    DECISION = "DECISION", "Decision or denial"
    OTHER = "OTHER", "Other document"


# The deadlines a client is shown (portal pages and the portal API): the ones they act on or live
# by. Internal filing windows stay with the firm.
CLIENT_DEADLINE_KINDS = (
    DeadlineKind.RFE_RESPONSE,
    DeadlineKind.STATUS_EXPIRY,
    DeadlineKind.HEARING,
)
