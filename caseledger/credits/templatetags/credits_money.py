"""``{{ value|cents }}``: integer cents as money ("$1,234.56", negatives "-$12.00")."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "EUR": "€", "GBP": "£"}


def format_cents(value: Any, currency: str = "USD") -> str:
    if value is None or value == "":
        return ""
    cents = int(value)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    symbol = SYMBOLS.get(currency, f"{currency} ")
    return f"{sign}{symbol}{cents // 100:,}.{cents % 100:02d}"


@register.filter
def cents(value: Any, currency: str = "USD") -> str:
    return format_cents(value, currency or "USD")


@register.filter
def dict_get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if mapping else None
