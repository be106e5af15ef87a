"""``{{ value|cents }}`` -> "$1,234.56" (negatives in parentheses), in the firm's currency
unless a currency is given: ``{{ value|cents:"EUR" }}``."""

from __future__ import annotations

from django import template

from caseledger.core.money import Money

register = template.Library()


@register.filter
def cents(value: int | None, currency: str = "USD") -> str:
    if value is None or value == "":
        return ""
    return Money(int(value), currency or "USD").format(accounting=True)


@register.filter
def cents_plain(value: int | None, currency: str = "USD") -> str:
    """Without the currency symbol (for tables whose header names the currency)."""
    if value is None or value == "":
        return ""
    return Money(int(value), currency or "USD").format(accounting=True, symbol=False)
