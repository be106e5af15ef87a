from django.db import models


class InvoiceStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    IN_REVIEW = "IN_REVIEW", "In review"
    APPROVED = "APPROVED", "Approved"
    ISSUED = "ISSUED", "Issued"
    VOID = "VOID", "Void"


# Statuses in which an invoice's content may still change (below them the database refuses).
EDITABLE_STATUSES = frozenset(
    {InvoiceStatus.DRAFT, InvoiceStatus.IN_REVIEW, InvoiceStatus.APPROVED}
)


class FeeType(models.TextChoices):
    FLAT = "FLAT", "Flat fee"
    HOURLY = "HOURLY", "Hourly"
    INSTALLMENTS = "INSTALLMENTS", "Installments"


class Payer(models.TextChoices):
    """Who an invoice is addressed to."""

    PETITIONER = "PETITIONER", "Petitioner / client"
    BENEFICIARY = "BENEFICIARY", "Beneficiary"


class FeeCategory(models.TextChoices):
    """What a line is for, as the payer rules see it."""

    ATTORNEY_FEE = "ATTORNEY_FEE", "Attorney fee"
    REQUIRED_GOVERNMENT_FEE = "REQUIRED_GOVERNMENT_FEE", "Required government fee"
    OPTIONAL_GOVERNMENT_FEE = "OPTIONAL_GOVERNMENT_FEE", "Optional government fee (e.g. premium)"
    DEPENDENT_FEE = "DEPENDENT_FEE", "Dependent (e.g. H-4) fee"
    COST = "COST", "Case cost / expense"


class LineKind(models.TextChoices):
    FEE = "FEE", "Legal fee"
    TIME = "TIME", "Time"
    INSTALLMENT = "INSTALLMENT", "Installment"
    GOVERNMENT_FEE = "GOVERNMENT_FEE", "Government fee"
    EXPENSE = "EXPENSE", "Expense"
    COST_ADVANCE = "COST_ADVANCE", "Cost advance"


# Lines shown under "Government fees and costs" rather than "Legal fees".
PASS_THROUGH_KINDS = frozenset({LineKind.GOVERNMENT_FEE, LineKind.COST_ADVANCE})


class ExpenseKind(models.TextChoices):
    EXPENSE = "EXPENSE", "Expense"
    COST_ADVANCE = "COST_ADVANCE", "Client cost advance (paid by the firm for the client)"


class TimeRounding(models.TextChoices):
    """How hours that are not a multiple of the firm's increment are treated."""

    REFUSE = "REFUSE", "Refuse (must be in the increment)"
    UP = "UP", "Round up to the next increment"
    NEAREST = "NEAREST", "Round to the nearest increment (half up)"


class TaxMode(models.TextChoices):
    NONE = "NONE", "No tax"
    PER_LINE = "PER_LINE", "Per line (rounded on each taxable line)"
    PER_INVOICE = "PER_INVOICE", "Per invoice (rounded once on the taxable subtotal)"


class TriggerKind(models.TextChoices):
    STAGE = "STAGE", "Stage reached"
    CADENCE = "CADENCE", "Cadence"


class Cadence(models.TextChoices):
    MONTHLY = "MONTHLY", "Monthly"
    QUARTERLY = "QUARTERLY", "Quarterly"
    PAYMENT_PLAN = "PAYMENT_PLAN", "Payment plan (N monthly installments)"


class FeePath(models.TextChoices):
    """How a government fee on an invoice line is paid (ADR 011)."""

    FIRM_ADVANCE = "FIRM_ADVANCE", "Advanced by the firm, billed to the client"
    FROM_TRUST = "FROM_TRUST", "Paid from the client's trust (nothing due)"
    CLIENT_DIRECT = "CLIENT_DIRECT", "Paid by the client directly to USCIS (for information)"


# Government-fee lines that carry no amount: the fee is shown, nothing is due.
INFORMATION_ONLY_PATHS = frozenset({FeePath.FROM_TRUST, FeePath.CLIENT_DIRECT})


class FeeVariant(models.TextChoices):
    """Which employers a fee row applies to (USCIS sets reduced fees for some)."""

    STANDARD = "STANDARD", "Standard"
    SMALL_EMPLOYER = "SMALL_EMPLOYER", "Small employer (25 or fewer full-time employees)"
    NONPROFIT = "NONPROFIT", "Nonprofit (IRC 501(c)(3))"


class FilingMethod(models.TextChoices):
    ANY = "ANY", "Paper or online"
    PAPER = "PAPER", "Paper"
    ONLINE = "ONLINE", "Online"


class FeeAdvanceMethod(models.TextChoices):
    CHECK = "CHECK", "Firm check"
    CARD = "CARD", "Firm card (G-1450)"
    ACH = "ACH", "ACH / pay.gov"
