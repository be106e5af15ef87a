"""Billing capabilities, the invoice object scope and the menu entries."""

from __future__ import annotations

from typing import Any

from caseledger.core.choices import Role

CAPABILITIES = {
    # See invoices (attorneys and paralegals: those of their matters).
    "billing.view": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.PARALEGAL, Role.BILLING},
    # Record time, expenses and cost advances.
    "billing.time": {Role.ADMIN, Role.PARTNER, Role.ATTORNEY, Role.PARALEGAL, Role.BILLING},
    "billing.wip": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    # Create and edit drafts, submit them for review.
    "billing.edit": {Role.ADMIN, Role.PARTNER, Role.BILLING},
    "billing.approve": {Role.PARTNER},
    "billing.issue": {Role.PARTNER, Role.BILLING},
    "billing.void": {Role.PARTNER, Role.BILLING},
    "billing.configure": {Role.ADMIN, Role.PARTNER, Role.BILLING},
}


def invoice_scope(user: Any, invoice: Any) -> bool:
    from caseledger.matters.capabilities import matter_scope

    return bool(matter_scope(user, invoice.matter))


OBJECT_SCOPES = {"billing.invoice": invoice_scope}

NAVIGATION = [
    ("Review queue", "billing:review_queue", "billing.approve"),
    ("Invoices", "billing:invoice_list", "billing.view"),
    ("Work in progress", "billing:wip", "billing.wip"),
    ("Time entry", "billing:time_entry_new", "billing.time"),
    ("Fee schedule", "billing:fee_schedule", "billing.configure"),
    ("Government fees", "billing:government_fees", "billing.edit"),
    ("Templates & triggers", "billing:templates", "billing.configure"),
]
