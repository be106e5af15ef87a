from caseledger.banking.parsers.base import StatementRefused
from caseledger.core.exceptions import ApplicationError


class BankingError(ApplicationError):
    code = "banking"


__all__ = ["BankingError", "StatementRefused"]
