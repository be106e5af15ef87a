"""Show a control only to a user whose role holds its capability: one tag over
``core.permissions.authorize``, so a page never offers a button that answers 403.

``{% load permissions %}``, then either the block tag (the signed-in ``user`` of the context)::

    {% can "trust.deposit" %}<a href="...">Record deposit</a>{% endcan %}
    {% can "billing.void" invoice %}<form ...>...</form>{% else %}<p>...</p>{% endcan %}

or, inside a condition that also checks state, the filter::

    {% if user|can:"trust.disburse.approve" and d.status == "REQUESTED" %}...{% endif %}

The block tag takes an optional object (the object scope of its app decides, as ``require`` in
the view does); the filter checks the capability alone. An unknown capability is refused.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context

from caseledger.core.permissions import authorize

register = template.Library()

CAN_USAGE = '{% can "app.capability" [object] %}...{% else %}...{% endcan %}'


@register.filter(name="can")
def can_filter(user: Any, capability: str) -> bool:
    """``user|can:"billing.approve"``: True when ``authorize(user, capability)`` allows it."""
    return authorize(user, str(capability))


class CanNode(template.Node):
    def __init__(
        self,
        capability: FilterExpression,
        obj: FilterExpression | None,
        allowed: NodeList,
        refused: NodeList,
    ) -> None:
        self.capability = capability
        self.obj = obj
        self.allowed = allowed
        self.refused = refused

    def render(self, context: Context) -> str:
        user = context.get("user")
        if user is None:
            request = context.get("request")
            user = getattr(request, "user", None)
        capability = str(self.capability.resolve(context))
        obj = self.obj.resolve(context) if self.obj is not None else None
        if self.obj is not None and obj in (None, ""):
            # A missing object must not widen the check to the unscoped capability.
            permitted = False
        else:
            permitted = authorize(user, capability, obj)
        return (self.allowed if permitted else self.refused).render(context)


@register.tag(name="can")
def do_can(parser: Parser, token: Token) -> CanNode:
    bits = token.split_contents()
    if len(bits) not in (2, 3):
        raise template.TemplateSyntaxError(f"usage: {CAN_USAGE}")
    capability = parser.compile_filter(bits[1])
    obj = parser.compile_filter(bits[2]) if len(bits) == 3 else None
    allowed = parser.parse(("else", "endcan"))
    refused = NodeList()
    if parser.next_token().contents == "else":
        refused = parser.parse(("endcan",))
        parser.delete_first_token()
    return CanNode(capability, obj, allowed, refused)
