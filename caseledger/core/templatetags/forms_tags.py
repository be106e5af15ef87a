"""Template helpers for ``core/_form.html``."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def fields_with_errors(form: Any) -> list[Any]:
    """The visible bound fields that carry an error, in form order."""
    return [field for field in form.visible_fields() if field.errors]
