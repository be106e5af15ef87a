"""``{% load guides %}{% guide_link "closing-a-month" %}``: the page's "Guide" link, to the
section of the training guide that explains it (core.guides.guide_for picks the guide)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from caseledger.core import guides

register = template.Library()


@register.simple_tag(takes_context=True)
def guide_link(context: Any, topic: str) -> str:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    found = guides.guide_for(str(user.role), topic)
    if found is None:
        return ""
    guide, anchor = found
    url = reverse("core:help", args=[guide.slug]) + (f"#{anchor}" if anchor else "")
    # The portal shows it too: "Guide" has its Spanish in core's catalog.
    return format_html(
        '<a class="button guide-link" href="{}" title="{}">{}</a>',
        url,
        guide.title,
        gettext("Guide"),
    )
