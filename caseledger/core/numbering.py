"""Gapless document numbers from counter rows (invoices, credit notes, matters, payments, trust
documents): the one implementation every app uses."""

from __future__ import annotations

from typing import Any

from django.db import models


def counter_next(model: type[models.Model], *, field: str = "value", **key: Any) -> int:
    """Bump the counter row identified by ``key`` by one and return its new value.

    Call inside the issuing transaction: the UPDATE holds the row lock until commit, so
    concurrent issuers are numbered one after another, and a rollback returns the number with the
    document (no gap, no duplicate). The row is created at zero on first use.
    """
    manager = model._default_manager
    manager.get_or_create(**key)
    manager.filter(**key).update(**{field: models.F(field) + 1})
    return int(manager.filter(**key).values_list(field, flat=True).get())
