from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html

from caseledger.core.templatetags import money

register = template.Library()
# The money filters and tags ({% money %}, |cents...) are core's, the one money library.
register.filters.update(money.register.filters)
register.tags.update(money.register.tags)


# An invoice's status and its payment state as a badge: (badge class, label) per value.
STATUS_BADGES = {
    "ISSUED": ("ok", "Issued"),
    "APPROVED": ("info", "Approved"),
    "IN_REVIEW": ("warn", "In review"),
    "VOID": ("bad", "Void"),
}
PAYMENT_STATE_BADGES = {
    "paid": ("ok", "Paid"),
    "partly_paid": ("info", "Partly paid"),
    "overdue": ("bad", "Overdue"),
    "open": ("warn", "Open"),
    "credited": ("", "Credited"),
    "written_off": ("", "Written off"),
    "void": ("bad", "Void"),
    "draft": ("", "Not issued"),
}


def _badge(kind: str, label: str) -> str:
    return format_html('<span class="badge{}">{}</span>', f" {kind}" if kind else "", label)


@register.simple_tag
def status_badge(status: str) -> str:
    """An invoice's status (any other value, a draft's, shows "Draft")."""
    return _badge(*STATUS_BADGES.get(status, ("", "Draft")))


@register.simple_tag
def payment_state_badge(state: str) -> str:
    """An issued invoice's payment state (``payments.selectors.InvoiceMoney.state``); nothing
    for no state."""
    found = PAYMENT_STATE_BADGES.get(state)
    return _badge(*found) if found else ""


@register.simple_tag
def line_codes(line: Any) -> str:
    from caseledger.billing.selectors import line_codes as codes

    return codes(line)


@register.filter
def duration_days(value: timedelta | None) -> str:
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


ACTION_LABELS = {
    "billing.invoice_drafted": "Drafted",
    "billing.invoice_submitted": "Sent for review",
    "billing.invoice_approved": "Approved",
    "billing.invoice_returned": "Returned with comment",
    "billing.invoice_issued": "Issued",
    "billing.invoice_voided": "Void",
    "billing.invoice_line_added": "Line added",
    "billing.invoice_line_changed": "Line changed",
    "billing.invoice_line_removed": "Line removed",
    "billing.email_sent": "Email sent",
    "billing.email_failed": "Email failed",
    "billing.email_retry_requested": "Email retry requested",
}


@register.filter
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
