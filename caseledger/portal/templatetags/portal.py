"""``{% load portal %}``: ``{{ code|plabel:"state" }}`` shows a stored code as the client reads
it, in their language (portal.labels)."""

from __future__ import annotations

from django import template

from caseledger.portal.labels import label

register = template.Library()


@register.filter
def plabel(value: object, group: str) -> str:
    return label(str(value), group)
