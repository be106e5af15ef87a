from django.db import models


class TrustRequestKind(models.TextChoices):
    RETAINER = "RETAINER", "Retainer"
    REPLENISHMENT = "REPLENISHMENT", "Replenishment"


class TrustRequestStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    PARTIALLY_PAID = "PARTIAL", "Partially paid"
    PAID = "PAID", "Paid"
    CANCELLED = "CANCELLED", "Cancelled"


class DepositMethod(models.TextChoices):
    CARD = "CARD", "Card"
    ACH = "ACH", "ACH bank transfer"
    CHECK = "CHECK", "Check"
    WIRE = "WIRE", "Wire"
    CASH = "CASH", "Cash"


class DisputeStatus(models.TextChoices):
    OPEN = "OPEN", "Disputed"
    RELEASED = "RELEASED", "Released"


class DisbursementPurpose(models.TextChoices):
    FILING_FEE = "FILING_FEE", "Filing fee (USCIS / DOL / DOS)"
    THIRD_PARTY_COST = "THIRD_PARTY", "Third-party cost"
    REFUND = "REFUND", "Refund to client"


class DisbursementMethod(models.TextChoices):
    CHECK = "CHECK", "Check"
    ACH = "ACH", "ACH"
    WIRE = "WIRE", "Wire"
    ONLINE = "ONLINE", "Online payment (e.g. pay.gov / USCIS online)"


class DisbursementStatus(models.TextChoices):
    REQUESTED = "REQUESTED", "Awaiting approval"
    APPROVED = "APPROVED", "Approved"
    POSTED = "POSTED", "Posted"
    REJECTED = "REJECTED", "Rejected"
    EXPIRED = "EXPIRED", "Expired"
