"""The views' side of a reversal that may need a second partner (payments, trust deposits): the
context of the shared panel ``core/_reversals.html`` and the message after a request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest

POSTED = "POSTED"
REJECTED = "REJECTED"


def panel_context(
    reversals: Iterable[Any], *, may_decide: bool, may_request: bool, reverse_url: str
) -> dict[str, Any]:
    """``reversals`` of one record, oldest first; ``live`` is the one waiting or posted (at most
    one); the request form is offered (``reverse_url``) only when there is none and the user may
    ask for one."""
    rows = list(reversals)
    live = next((r for r in rows if r.status != REJECTED), None)
    return {
        "reversals": rows,
        "live": live,
        "may_decide": may_decide,
        "reverse_url": reverse_url if may_request and live is None else "",
    }


def request_message(request: HttpRequest, reversal: Any, *, label: str) -> None:
    """After a request for ``label`` ("payment P-2026-0001"): reversed at once (under the firm's
    threshold), or waiting for a partner other than the requester."""
    if reversal.status == POSTED:
        messages.success(request, f"{label[:1].upper()}{label[1:]} reversed.")
    else:
        messages.success(
            request,
            f"Reversal of {label} requested; a partner other than you approves it (above the "
            "firm's threshold).",
        )
