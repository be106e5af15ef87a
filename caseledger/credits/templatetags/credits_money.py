"""``{% load credits_money %}``: core's money filters (``cents``...) plus ``dict_get``."""

from __future__ import annotations

from typing import Any

from django import template

from caseledger.core.templatetags import money

register = template.Library()
register.filters.update(money.register.filters)
register.tags.update(money.register.tags)


@register.filter
def dict_get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if mapping else None
