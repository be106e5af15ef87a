"""Text that comes from outside (a payment provider, an import, a bank file) and lands in a
column: cut to the column, never refused and never a database error. Whoever cuts keeps the
full value where it came from (the stored webhook event, the imported file)."""

from __future__ import annotations

from django.db import models


def fit_to_field(model: type[models.Model], field: str, value: str | None) -> str:
    """``value`` (None: "") cut to the ``max_length`` of ``model.field``; unchanged when the
    field has no maximum. Counts characters, as the database does."""
    text = value or ""
    max_length = getattr(model._meta.get_field(field), "max_length", None)
    if max_length is None or len(text) <= max_length:
        return text
    return text[:max_length]
