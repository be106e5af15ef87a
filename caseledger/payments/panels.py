"""Payments' panels on the matter and client pages (``caseledger.core.panels``): invoices with
their payment state and balance, the matter budget (billed, paid, remaining), and payments
(with the client's unapplied credit and last payment on the client page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q
from django.http import HttpRequest

from caseledger.billing.models import Invoice
from caseledger.core.panels import PagePanel, PanelScope
from caseledger.matters.selectors import budget_changes
from caseledger.payments.choices import InvoicePaymentState, PaymentStatus
from caseledger.payments.models import Payment, PaymentAllocation
from caseledger.payments.selectors import client_unapplied_cents, invoice_money

INVOICE_ROWS = 25  # invoices listed per page panel (the totals cover all of them)
PAYMENT_ROWS = 10

STATE_LABELS = {
    "draft": "Draft",
    "in_review": "In review",
    "approved": "Approved",
    "open": "Open",
    "partly_paid": "Partly paid",
    "overdue": "Overdue",
    "paid": "Paid",
    "credited": "Credited",
    "written_off": "Written off",
    "void": "Void",
}
STATE_BADGES = {"paid": "ok", "credited": "ok", "overdue": "bad", "partly_paid": "warn"}


@dataclass(frozen=True)
class PanelInvoiceMoney:
    state: str
    total_cents: int
    paid_cents: int
    credited_cents: int
    written_off_cents: int
    balance_due_cents: int

    @property
    def label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def badge(self) -> str:
        return STATE_BADGES.get(self.state, "")


def invoice_money_for_panels(
    invoices: list[Invoice], *, as_of: date
) -> dict[int, PanelInvoiceMoney]:
    """State and balance of each invoice, from ``payments.selectors.invoice_money`` (the one
    rule); drafts keep their workflow step (in review, approved) as their label."""
    money = invoice_money(invoices, as_of=as_of)
    out = {}
    for inv in invoices:
        m = money[inv.pk]
        state = str(m.state)
        if state == InvoicePaymentState.DRAFT:
            state = inv.status.lower()
        out[inv.pk] = PanelInvoiceMoney(
            state,
            m.total_cents,
            m.paid_cents,
            m.credited_cents,
            m.written_off_cents,
            m.balance_due_cents,
        )
    return out


def _invoices(scope: PanelScope) -> list[Invoice]:
    invoices = Invoice.objects.filter(matter_id__in=list(scope.matter_ids))
    if scope.page == "client":
        invoices = invoices.select_related("matter")  # the rows name their matter
    return list(invoices.order_by("-created_at", "-id"))


@dataclass(frozen=True)
class _Totals:
    billed: int
    paid: int
    credited: int
    written_off: int
    balance: int


def _totals(money: dict[int, PanelInvoiceMoney]) -> _Totals:
    issued = [
        m for m in money.values() if m.state not in {"draft", "in_review", "approved", "void"}
    ]
    return _Totals(
        billed=sum(m.total_cents for m in issued),
        paid=sum(m.paid_cents for m in issued),
        credited=sum(m.credited_cents for m in issued),
        written_off=sum(m.written_off_cents for m in issued),
        balance=sum(m.balance_due_cents for m in issued),
    )


def _invoices_with_money(
    request: HttpRequest, scope: PanelScope
) -> tuple[list[Invoice], dict[int, PanelInvoiceMoney]]:
    """The scope's invoices and their money, read once per request: the budget and invoices
    panels of a matter page both show them."""
    memo: dict[Any, tuple[list[Invoice], dict[int, PanelInvoiceMoney]]]
    memo = request.__dict__.setdefault("_payments_panel_invoices", {})
    key = (scope.page, tuple(scope.matter_ids), scope.today)
    if key not in memo:
        invoices = _invoices(scope)
        memo[key] = (invoices, invoice_money_for_panels(invoices, as_of=scope.today))
    return memo[key]


def invoices_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    invoices, money = _invoices_with_money(request, scope)
    return {
        "rows": [(inv, money[inv.pk]) for inv in invoices[:INVOICE_ROWS]],
        "count": len(invoices),
        "more": max(len(invoices) - INVOICE_ROWS, 0),
        "totals": _totals(money),
        "client_page": scope.page == "client",
    }


def budget_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    matter = scope.matter
    _, money = _invoices_with_money(request, scope)
    totals = _totals(money)
    budget = matter.budget_cents if matter is not None and matter.budget_kind else None
    share = None
    if budget:
        share = totals.billed * 100 // budget
    return {
        "matter": matter,
        "budget": budget,
        "totals": totals,
        "remaining": (budget - totals.billed) if budget is not None else None,
        "over": (totals.billed - budget) if budget is not None and totals.billed > budget else 0,
        "share": share,
        "bar": min(share or 0, 100),
        "changes": budget_changes(matter) if matter is not None else [],
    }


def payments_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    ids = list(scope.matter_ids)
    if scope.page == "client":
        payments = Payment.objects.filter(client=scope.client)
    else:
        # The payments allocated to the matters' invoices are read by id first: an OR across
        # the allocation and invoice joins (with DISTINCT) made PostgreSQL join every payment
        # to every invoice (147 ms at 200,062 invoices, against about 1 ms).
        allocated = set(
            PaymentAllocation.objects.filter(invoice__matter_id__in=ids).values_list(
                "payment_id", flat=True
            )
        )
        payments = Payment.objects.filter(Q(matter_id__in=ids) | Q(pk__in=sorted(allocated)))
    rows = list(payments.order_by("-received_date", "-id")[:PAYMENT_ROWS])
    last = next((p for p in rows if p.status == PaymentStatus.RECEIVED), None)
    return {
        "payments": rows,
        "last": last,
        "unapplied": client_unapplied_cents(scope.client) if scope.page == "client" else None,
        "client_page": scope.page == "client",
    }


PANELS = [
    PagePanel(
        key="payments.budget",
        title="Budget",
        template="payments/panels/budget.html",
        capability="billing.view",
        context=budget_context,
        pages=("matter",),
        order=15,
    ),
    PagePanel(
        key="payments.invoices",
        title="Invoices",
        template="payments/panels/invoices.html",
        capability="billing.view",
        context=invoices_context,
        order=40,
        wide=True,
    ),
    PagePanel(
        key="payments.payments",
        title="Payments",
        template="payments/panels/payments.html",
        capability="payments.view",
        context=payments_context,
        order=50,
    ),
]
