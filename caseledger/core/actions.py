"""The one path from a button to a service, and the signed-in staff member, typed.

A view that takes a form goes through ``core.forms.handle_form`` (errors under their fields). A
view behind a button with no form to show again (approve, reject, cancel, mark cleared...) goes
through ``service_action``: the call runs in one transaction; on success its message is shown;
a refusal (``ApplicationError``) rolls everything back and is shown as one error banner, worded
the same everywhere (``banner_text``: no internal "<field>:" prefix). The view then redirects.

``staff(request)`` is ``request.user`` as the ``User`` it is behind ``capability_required`` (the
decorator refuses anonymous requests), so views pass it to services without a ``type: ignore``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest

from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import banner_text

if TYPE_CHECKING:
    from caseledger.core.models import User

R = TypeVar("R")


def staff(request: HttpRequest) -> User:
    """The signed-in member of the firm (views are behind ``capability_required``)."""
    return cast("User", request.user)


def service_action(
    request: HttpRequest,
    call: Callable[[], R],
    done: str | Callable[[R], str],
) -> R | None:
    """Run ``call()`` in one transaction. On success show ``done`` (or ``done(result)``) as a
    success message and return the result; on a refusal show it as an error banner and return
    None (nothing the call wrote is kept)."""
    try:
        with transaction.atomic():
            result = call()
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
        return None
    messages.success(request, done(result) if callable(done) else done)
    return result
