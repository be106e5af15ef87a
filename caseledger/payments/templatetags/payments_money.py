from __future__ import annotations

import time

from django import template

from caseledger.core.money import Money
from caseledger.core.selectors import firm_get

register = template.Library()

_currency: dict[str, object] = {"value": None, "at": 0.0}


def _firm_currency() -> str:
    # The firm's currency is set once at install; re-read at most once a minute (a page with a
    # hundred amounts must not run a hundred queries).
    if _currency["value"] is None or time.monotonic() - float(_currency["at"]) > 60:  # type: ignore[arg-type]
        _currency["value"] = firm_get().currency
        _currency["at"] = time.monotonic()
    return str(_currency["value"])


@register.filter
def cents(value: int | None) -> str:
    """Format integer cents in the firm's currency ("$1,234.56")."""
    if value is None or value == "":
        return ""
    return Money(int(value), _firm_currency()).format()
