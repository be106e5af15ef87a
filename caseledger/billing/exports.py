"""Exports of issued invoices: LEDES 1998B for corporate clients."""

from __future__ import annotations

from datetime import date
from typing import Any

from caseledger.billing.choices import PASS_THROUGH_KINDS, InvoiceStatus, LineKind
from caseledger.billing.exceptions import LedesInvalid
from caseledger.billing.ledes import (
    LEDES_HAS_TAX,
    LEDES_NOT_CORPORATE,
    LedesInvoice,
    LedesLine,
    ledes_checked,
    ledes_render,
)
from caseledger.billing.models import Invoice
from caseledger.billing.selectors import billing_settings_get, invoice_lines
from caseledger.core.choices import Role
from caseledger.core.money import format_money

CLASSIFICATION: dict[str, str] = {Role.PARTNER: "PT", Role.ATTORNEY: "AS", Role.PARALEGAL: "PL"}


def _timekeeper_name(user: Any) -> str:
    if user is None:
        return ""
    if user.last_name:
        return f"{user.last_name}, {user.first_name}".strip(", ")
    return user.get_username()


def invoice_ledes_text(*, invoice: Invoice) -> str:
    """The LEDES 1998B file of an issued invoice of a corporate client, validated; raises
    LedesInvalid with the rule broken otherwise."""
    from caseledger.clients.choices import ClientType

    if invoice.status != InvoiceStatus.ISSUED or invoice.client.client_type != ClientType.CORPORATE:
        raise LedesInvalid(LEDES_NOT_CORPORATE.format(ref=invoice), field="ledes")
    lines = list(invoice_lines(invoice=invoice))
    line_tax = sum(line.tax_cents for line in lines)
    if invoice.tax_cents:
        raise LedesInvalid(
            LEDES_HAS_TAX.format(
                ref=invoice, tax=format_money(invoice.tax_cents, invoice.currency)
            ),
            field="ledes",
        )
    assert line_tax == 0  # per-line tax is part of invoice.tax_cents, refused above
    issue_date: date = invoice.issue_date  # type: ignore[assignment]
    dates = [line.line_date or issue_date for line in lines]
    firm_id = billing_settings_get().ledes_law_firm_id or "CASELEDGER"
    ledes_lines = [
        LedesLine(
            number=str(index),
            is_expense=line.kind in PASS_THROUGH_KINDS or line.kind == LineKind.EXPENSE,
            units=line.quantity,
            unit_cost_cents=line.unit_price_cents,
            total_cents=line.amount_cents,
            line_date=line.line_date or issue_date,
            task_code=line.utbms_task_code,
            expense_code=line.utbms_expense_code,
            activity_code=line.utbms_activity_code,
            timekeeper_id=(line.timekeeper.initials or str(line.timekeeper.pk))
            if line.timekeeper
            else "",
            timekeeper_name=_timekeeper_name(line.timekeeper),
            timekeeper_classification=CLASSIFICATION.get(line.timekeeper.role, "OT")
            if line.timekeeper
            else "",
            description=line.description,
        )
        for index, line in enumerate(lines, start=1)
    ]
    doc = LedesInvoice(
        invoice_date=issue_date,
        number=invoice.number or "",
        client_id=f"C{invoice.client_id}",
        matter_id=invoice.matter.number[:20],
        client_matter_id=invoice.matter.number[:20],
        total_cents=invoice.total_cents,
        billing_start=min(dates) if dates else issue_date,
        billing_end=max(dates) if dates else issue_date,
        description=f"{invoice.matter.title}"[:200] or "Legal services",
        law_firm_id=firm_id,
        lines=ledes_lines,
    )
    return ledes_checked(ledes_render([doc]))
