"""Credits' panel on the matter and client pages (``caseledger.core.panels``): credit notes and
write-offs with their status, reason and invoice."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from caseledger.core.panels import PagePanel, PanelScope
from caseledger.credits.models import CreditNote, WriteOff

ROWS = 10


def credits_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    ids = list(scope.matter_ids)
    notes = list(
        CreditNote.objects.filter(matter_id__in=ids)
        .select_related("invoice")
        .order_by("-requested_at", "-id")[:ROWS]
    )
    write_offs = list(
        WriteOff.objects.filter(matter_id__in=ids)
        .select_related("invoice")
        .order_by("-requested_at", "-id")[:ROWS]
    )
    return {"notes": notes, "write_offs": write_offs}


PANELS = [
    PagePanel(
        key="credits.notes",
        title="Credit notes and write-offs",
        template="credits/panels/notes.html",
        capability="credits.view",
        context=credits_context,
        order=60,
    ),
]
