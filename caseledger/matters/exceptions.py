from caseledger.core.exceptions import ApplicationError, InvalidTransition


class MatterError(ApplicationError):
    code = "matter_invalid"


class StageError(InvalidTransition):
    code = "stage_invalid"


class MatterOnHold(MatterError):
    code = "matter_on_hold"


class MatterClosed(MatterError):
    code = "matter_closed"


class TaskError(ApplicationError):
    code = "task_invalid"
