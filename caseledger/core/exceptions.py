"""Domain errors. Every service raises a subclass of ApplicationError with a message that names
the field and the rule; views and the API show the message as it is."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class ApplicationError(Exception):
    """A refused business action: ``message`` is for people, ``field`` names the input at fault."""

    code = "invalid"

    def __init__(self, message: str, field: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class InvalidTransition(ApplicationError):
    code = "invalid_transition"


class NotPermitted(ApplicationError, PermissionDenied):
    """Authorization refused (HTTP 403).

    Subclasses Django's PermissionDenied so views need no glue."""

    code = "forbidden"
