from django.db import models


class StatementFormat(models.TextChoices):
    CSV = "CSV", "CSV"
    OFX = "OFX", "OFX / QFX"
    CAMT053 = "CAMT053", "ISO 20022 camt.053"
    CAMT054 = "CAMT054", "ISO 20022 camt.054"
    BAI2 = "BAI2", "BAI2"
    MT940 = "MT940", "SWIFT MT940"
    # No file: the balance the firm entered for the day its books start in CaseLedger (the
    # cutover), stored as a statement so the reconciliation has its bank side.
    OPENING = "OPENING", "Opening balance (entered at the cutover)"


# The formats a bank sends files in (what a bank account lists and the parsers read).
FILE_FORMATS = [
    (value, label) for value, label in StatementFormat.choices if value != StatementFormat.OPENING
]


class ImportStatus(models.TextChoices):
    NEEDS_MAPPING = "NEEDS_MAPPING", "Waiting for the column mapping"
    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Importing"
    DONE = "DONE", "Imported"
    REFUSED = "REFUSED", "Refused"


class ImportPhase(models.TextChoices):
    WAITING = "WAITING", "Waiting"
    PARSING = "PARSING", "Reading the file"
    CHECKING = "CHECKING", "Checking the statements"
    STORING = "STORING", "Storing the new lines"
    FINISHED = "FINISHED", "Finished"


class MatchMethod(models.TextChoices):
    AUTO = "auto", "Accepted suggestion"
    MANUAL = "manual", "Matched by hand"
    RESOLVED = "resolved", "Resolved (posting made for the line)"


class Resolution(models.TextChoices):
    INTEREST = "INTEREST", "Bank interest (IOLTA: owed to the bar foundation)"
    BANK_FEE = "BANK_FEE", "Bank fee charged to trust (replaced from operating)"
    OPERATING_FEE = "OPERATING_FEE", "Bank fee on the operating account"
    RETURNED_DEPOSIT = "RETURNED_DEPOSIT", "Returned deposit (reverse the trust receipt)"
    CARD_PAYOUT = "CARD_PAYOUT", "Card payout (clears the card trust deposits)"
    CARD_PAYOUT_NET = (
        "CARD_PAYOUT_NET",
        "Card payout net of the processor's fee (operating)",
    )
    INTEREST_REMITTANCE = (
        "INTEREST_REMITTANCE",
        "IOLTA interest remitted to the bar foundation",
    )


class ReconciliationStatus(models.TextChoices):
    PREPARED = "PREPARED", "Prepared, waiting for review"
    SIGNED = "SIGNED", "Signed"
    REOPENED = "REOPENED", "Reopened (superseded)"
    DISCARDED = "DISCARDED", "Discarded (prepared again)"
