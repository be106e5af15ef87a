from caseledger.core.exceptions import ApplicationError


class ReportsError(ApplicationError):
    """A refused report request or settings change; the message names the field."""
