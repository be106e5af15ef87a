"""The money template library, the only one: every filter and tag here formats with
``core.money.format_money``, in the firm's currency unless one is given.

- ``{{ value|cents }}`` -> "$1,234.56", "-$12.00"; ``{{ value|cents:invoice.currency }}``
- ``{{ value|cents_accounting }}`` -> "($12.00)" for negatives (ledger reports)
- ``{{ value|cents_plain }}`` -> "1,234.56" / "(12.00)" (tables whose header names the currency)
- ``{% money value [currency] %}`` -> like ``cents``, "—" for None
- ``{% cents value %}`` -> like the ``cents`` filter (the tag form some templates use)

The apps' libraries (``billing_tags``, ``payments_money``, ``credits_money``) re-export these.
"""

from __future__ import annotations

from typing import Any

from django import template

from caseledger.core.amounts import firm_currency
from caseledger.core.money import format_money

register = template.Library()


def _format(value: Any, currency: str | None, **style: bool) -> str:
    if value is None or value == "":
        return ""
    return format_money(int(value), currency or firm_currency(), **style)


@register.filter
def cents(value: Any, currency: str | None = None) -> str:
    return _format(value, currency)


@register.filter
def cents_accounting(value: Any, currency: str | None = None) -> str:
    return _format(value, currency, accounting=True)


@register.filter
def cents_plain(value: Any, currency: str | None = None) -> str:
    return _format(value, currency, accounting=True, symbol=False)


@register.simple_tag(name="money")
def money_tag(value: Any, currency: str | None = None) -> str:
    if value is None or value == "":
        return "—"
    return _format(value, currency)


@register.simple_tag(name="cents")
def cents_tag(value: Any, currency: str | None = None) -> str:
    return _format(value, currency)
