"""``{% cents amount %}``: integer cents in the firm's currency ("$1,234.56")."""

from __future__ import annotations

from typing import Any

from django import template

from caseledger.core.money import Money
from caseledger.core.selectors import firm_get

register = template.Library()


def _currency(context: Any) -> str:
    # One firm read per request (kept on the request), however many amounts the page shows.
    request = context.get("request")
    cached = getattr(request, "_caseledger_currency", None)
    if cached:
        return str(cached)
    currency = firm_get().currency
    if request is not None:
        request._caseledger_currency = currency
    return currency


@register.simple_tag(takes_context=True)
def cents(context: Any, value: int | None) -> str:
    if value is None or value == "":
        return ""
    return Money(int(value), _currency(context)).format()
