from caseledger.core.exceptions import ApplicationError


class ClientError(ApplicationError):
    code = "client_invalid"
