"""The matter picker (see ``caseledger.clients.pickers``): searches matters on the server by
number, title, client or beneficiary, shows the client's name beside each matter, and narrows
to the client chosen in the same form (``narrow_field``, e.g. "client")."""

from __future__ import annotations

from typing import Any

from caseledger.clients.pickers import PickerField
from caseledger.matters.selectors import matter_pick


class MatterPickerField(PickerField):
    def __init__(self, *args: Any, narrow_field: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("placeholder", "Matter number, client or beneficiary")
        super().__init__(*args, **kwargs)
        self.narrow_field = narrow_field

    def search(self, queryset: Any, query: str, narrow_to: str | None) -> Any:
        return matter_pick(queryset, query=query, client_id=narrow_to)

    def label_from_instance(self, obj: Any) -> str:
        closed = " (closed)" if obj.closed_date else ""
        return f"{obj.number} · {obj.client.name} · {obj.title}{closed}"
