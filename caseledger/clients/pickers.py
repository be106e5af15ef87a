"""Server-side pickers for long lists of clients and matters, working without JavaScript.

A picker renders a search box, a "Find" button and a short drop-down of the matches. Without
JavaScript: type part of a name or number, press Find (the form comes back, nothing is saved,
the other fields keep what was typed), choose from the matches, submit. The drop-down never
lists more than ``PickerField.limit`` rows, however many clients or matters the firm has; the
chosen row is always among them. ``PickerFormMixin`` makes a Find press leave the form unsaved
without flagging the fields not filled yet.

The field keeps the form's field name and its queryset (the rows the user may pick, e.g. the
matters visible to them), so a view and its service do not change. ``ClientPickerField`` lives
here; ``caseledger.matters.pickers.MatterPickerField`` narrows to the chosen client.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict

from caseledger.clients.selectors import client_pick, without_pii

FIND = "_pick"  # the name of every picker's Find button; its value is the field's name
PICK_PROMPT = "Choose from the {count} match(es) for “{query}”, then submit again."
PICK_NONE = "Nothing matches “{query}”; try part of the name or number."


class PickerSelect(forms.Select):
    template_name = "clients/widgets/picker.html"

    def __init__(self, *args: Any, placeholder: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.placeholder = placeholder
        self.query = ""
        self.searching = False
        self.narrow_to: str | None = None  # the submitted value of the narrowing field
        self.match_count = 0

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        self.query = (data.get(f"{name}_q") or "").strip()[:100]
        self.searching = data.get(FIND) == name
        field = getattr(self, "picker_field", None)
        if field is not None and field.narrow_field:
            self.narrow_to = data.get(field.narrow_field) or None
        return super().value_from_datadict(data, files, name)

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        field = getattr(self, "picker_field", None)
        if field is not None:
            selected = value[0] if isinstance(value, list | tuple) and value else value
            rows, self.match_count = field.matches(
                query=self.query, narrow_to=self.narrow_to, selected=selected
            )
            empty = [("", field.empty_label)] if field.empty_label is not None else []
            self.choices = empty + [
                (field.prepare_value(o), field.label_from_instance(o)) for o in rows
            ]
            if self.searching and self.match_count == 1 and rows and selected in (None, ""):
                value = [str(field.prepare_value(rows[0]))]  # the one match, chosen for you
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            {
                "query": self.query,
                "query_name": f"{name}_q",
                "find": FIND,
                "placeholder": self.placeholder,
                "searched": bool(self.query),
                "match_count": self.match_count,
                "limit": getattr(field, "limit", 0),
            }
        )
        return context


class PickerField(forms.ModelChoiceField):
    """A ModelChoiceField whose drop-down shows only the search matches (at most ``limit``).
    Subclasses give ``search(queryset, query, narrow_to)``."""

    limit = 30
    narrow_field: str | None = None

    def __init__(self, *args: Any, placeholder: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("widget", PickerSelect(placeholder=placeholder))
        super().__init__(*args, **kwargs)

    def __deepcopy__(self, memo: Any) -> Any:
        result = super().__deepcopy__(memo)
        result.widget.picker_field = result
        return result

    def search(self, queryset: Any, query: str, narrow_to: str | None) -> Any:
        raise NotImplementedError

    def matches(self, *, query: str, narrow_to: str | None, selected: Any) -> tuple[list[Any], int]:
        """The rows to offer (at most ``limit``, the selected one always in) and how many match."""
        qs = self.search(self.queryset, query, narrow_to)
        rows = list(qs[: self.limit + 1])
        count = len(rows) if len(rows) <= self.limit else qs.count()
        rows = rows[: self.limit]
        if selected not in (None, "") and str(selected).isdigit():
            if all(str(r.pk) != str(selected) for r in rows):
                base: Any = self.queryset
                chosen = base.filter(pk=selected).first()
                if chosen is not None:
                    rows.insert(0, chosen)
        return rows, count

    def clean(self, value: Any) -> Any:
        widget = self.widget
        if getattr(widget, "searching", False):
            query = widget.query  # type: ignore[attr-defined]
            found = self.search(self.queryset, query, widget.narrow_to).count()  # type: ignore[attr-defined]
            message = (
                PICK_PROMPT.format(count=found, query=query)
                if found
                else PICK_NONE.format(query=query)
            )
            raise forms.ValidationError(message, code="picking")
        return super().clean(value)


class ClientPickerField(PickerField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("placeholder", "Client name or email")
        super().__init__(*args, **kwargs)

    def search(self, queryset: Any, query: str, narrow_to: str | None) -> Any:
        return without_pii(client_pick(queryset, query=query))

    def label_from_instance(self, obj: Any) -> str:
        kind = " (company)" if obj.kind == "COMPANY" else ""
        return f"{obj.name}{kind}"


class PickerFormMixin:
    """A Find press re-shows the form with the matches: it is not valid (nothing is saved) and
    only the picker searched carries a message, not every field left empty so far."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        fields = self.fields  # type: ignore[attr-defined]
        searching = [
            name
            for name, f in fields.items()
            if isinstance(f, PickerField) and getattr(f.widget, "searching", False)
        ]
        if searching:
            errors = self._errors  # type: ignore[has-type]
            self._errors = ErrorDict({n: errors[n] for n in searching if n in errors})
