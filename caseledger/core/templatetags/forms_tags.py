"""Template helpers for ``core/_form.html``."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def fields_with_errors(form: Any) -> list[Any]:
    """The visible bound fields that carry an error, in form order."""
    return [field for field in form.visible_fields() if field.errors]


@register.filter
def hidden_errors(form: Any) -> list[str]:
    """Errors of hidden fields (a tampered one-time token): shown above the form."""
    return [str(e) for field in form.hidden_fields() for e in field.errors]
