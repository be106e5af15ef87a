from caseledger.core.exceptions import ApplicationError


class ImportRefused(ApplicationError):
    """A refused import step (upload, mapping, commit); the message names the field and rule."""


class CutoverRefused(ApplicationError):
    """Finalizing the opening balances was refused: the proof does not tie."""
