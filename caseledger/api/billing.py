"""Billing API: list/read invoices, record time, approve and issue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from caseledger.api.pagination import DEFAULT_LIMIT, Page, paginate
from caseledger.api.types import Day, Flag, Id, Limit, Offset, Text, choice, column
from caseledger.billing import selectors, services
from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice, TimeEntry
from caseledger.core import clock
from caseledger.core.permissions import require
from caseledger.payments.choices import InvoicePaymentState
from caseledger.payments.selectors import InvoiceMoney, invoice_money, invoice_money_annotate

router = Router(tags=["billing"])


class LineOut(Schema):
    id: int
    position: int
    kind: str
    category: str
    description: str
    line_date: date | None
    quantity: str
    unit_price_cents: int
    amount_cents: int
    utbms_task_code: str
    utbms_activity_code: str
    utbms_expense_code: str


class InvoiceOut(Schema):
    id: int
    number: str | None
    status: str
    bill_to: str
    client_id: int
    matter_id: int
    currency: str
    issue_date: date | None
    due_date: date | None
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    triggered_at: datetime | None
    issued_at: datetime | None
    responsible_partner_id: int | None
    payment_state: InvoicePaymentState = Field(
        description="derived from the ledger and the payments app; overdue = past due with a "
        "balance (as of the firm's today); draft for invoices not issued yet"
    )
    paid_cents: int = Field(description="payments and trust applications the invoice kept")
    credited_cents: int = Field(description="issued credit notes")
    written_off_cents: int
    refunded_cents: int = Field(description="credited money paid back to the client")
    balance_due_cents: int = Field(
        description="total - paid - credited - written off; 0 unless issued"
    )


class InvoiceDetailOut(InvoiceOut):
    lines: list[LineOut]


class TimeEntryIn(Schema):
    matter_id: Id
    work_date: Day
    hours: Text(5, pattern=r"^\d{1,2}(\.\d{1,2})?$") = Field(  # type: ignore[valid-type]
        description="decimal hours, e.g. 1.5 (in the firm's increment)"
    )
    activity_code: Text(4, pattern=r"^A\d{3}$")  # type: ignore[valid-type]
    narrative: column(TimeEntry, "narrative", min_length=1)  # type: ignore[valid-type]
    task_code: Text(4, pattern=r"^([A-Z]\d{3})?$") = ""  # type: ignore[valid-type]
    billable: Flag = True


class TimeEntryOut(Schema):
    id: int
    matter_id: int
    work_date: date
    minutes: int
    rate_cents: int
    amount_cents: int
    activity_code: str
    task_code: str
    billable: bool


def _invoice_out(invoice: Invoice, money: InvoiceMoney | None = None) -> dict:
    if money is None:
        money = invoice_money([invoice], as_of=clock.firm_today())[invoice.pk]
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "status": invoice.status,
        "bill_to": invoice.bill_to,
        "client_id": invoice.client_id,
        "matter_id": invoice.matter_id,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "subtotal_cents": invoice.subtotal_cents,
        "tax_cents": invoice.tax_cents,
        "total_cents": invoice.total_cents,
        "triggered_at": invoice.triggered_at,
        "issued_at": invoice.issued_at,
        "responsible_partner_id": invoice.responsible_partner_id,
        "payment_state": money.state,
        "paid_cents": money.paid_cents,
        "credited_cents": money.credited_cents,
        "written_off_cents": money.written_off_cents,
        "refunded_cents": money.refunded_cents,
        "balance_due_cents": money.balance_due_cents,
    }


def _invoices_out(invoices: list[Invoice]) -> list[dict]:
    """Serialize a page of invoices: their money in one batch (constant queries)."""
    money = invoice_money(invoices, as_of=clock.firm_today())
    return [_invoice_out(inv, money[inv.pk]) for inv in invoices]


def _detail(invoice: Invoice) -> dict:
    data = _invoice_out(invoice)
    data["lines"] = [
        {
            "id": line.pk,
            "position": line.position,
            "kind": line.kind,
            "category": line.category,
            "description": line.description,
            "line_date": line.line_date,
            "quantity": f"{line.quantity:.2f}",
            "unit_price_cents": line.unit_price_cents,
            "amount_cents": line.amount_cents,
            "utbms_task_code": line.utbms_task_code,
            "utbms_activity_code": line.utbms_activity_code,
            "utbms_expense_code": line.utbms_expense_code,
        }
        for line in selectors.invoice_lines(invoice=invoice)
    ]
    return data


def _get(request: HttpRequest, invoice_id: int, capability: str) -> Invoice:
    require(request.user, capability)
    invoice = get_object_or_404(Invoice.objects.select_related("matter", "client"), pk=invoice_id)
    require(request.user, capability, invoice)
    return invoice


@router.get("/invoices", response=Page[InvoiceOut], operation_id="billing_invoice_list")
def invoice_list(
    request: HttpRequest,
    status: choice(InvoiceStatus) | None = None,  # type: ignore[valid-type]
    client_id: Id | None = None,
    payment_state: InvoicePaymentState | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict:
    """Invoices the user may see, newest first, filtered by workflow ``status``, client and
    ``payment_state``; ``count`` and ``next`` in the envelope page through them (``count``
    from the invoice tally when it answers for these filters, constant time)."""
    require(request.user, "billing.view")
    rows: Any = selectors.invoice_list(user=request.user, status=status or "", client_id=client_id)
    if payment_state is not None:
        rows = invoice_money_annotate(rows, as_of=clock.firm_today()).filter(
            payment_state=payment_state
        )
    tallied = selectors.invoice_list_tally(
        user=request.user,
        status=status or "",
        client_id=client_id,
        payment_state=payment_state or "",
    )
    return paginate(
        request,
        rows,
        limit=limit,
        offset=offset,
        serialize=_invoices_out,
        count=None if tallied is None else tallied.count,
    )


@router.get(
    "/invoices/{invoice_id}", response=InvoiceDetailOut, operation_id="billing_invoice_read"
)
def invoice_read(request: HttpRequest, invoice_id: Id) -> dict:
    return _detail(_get(request, invoice_id, "billing.view"))


@router.post(
    "/invoices/{invoice_id}/approve", response=InvoiceOut, operation_id="billing_invoice_approve"
)
def invoice_approve(request: HttpRequest, invoice_id: Id) -> dict:
    invoice = _get(request, invoice_id, "billing.approve")
    return _invoice_out(
        services.invoice_approve(invoice=invoice, actor=request.user, now=clock.now())
    )


@router.post(
    "/invoices/{invoice_id}/issue", response=InvoiceOut, operation_id="billing_invoice_issue"
)
def invoice_issue(request: HttpRequest, invoice_id: Id) -> dict:
    invoice = _get(request, invoice_id, "billing.issue")
    return _invoice_out(
        services.invoice_issue(invoice=invoice, actor=request.user, now=clock.now())
    )


@router.post(
    "/time-entries", response={201: TimeEntryOut}, operation_id="billing_time_entry_create"
)
def time_entry_create(request: HttpRequest, payload: TimeEntryIn) -> Status[dict]:
    from caseledger.matters.models import Matter

    require(request.user, "billing.time")
    matter = get_object_or_404(Matter, pk=payload.matter_id)
    require(request.user, "matters.view", matter)
    entry = services.time_entry_create(
        timekeeper=request.user,
        matter=matter,
        work_date=payload.work_date,
        hours=payload.hours,
        activity_code=payload.activity_code,
        narrative=payload.narrative,
        task_code=payload.task_code,
        billable=payload.billable,
        actor=request.user,
        now=clock.now(),
    )
    return Status(
        201,
        {
            "id": entry.pk,
            "matter_id": entry.matter_id,
            "work_date": entry.work_date,
            "minutes": entry.minutes,
            "rate_cents": entry.rate_cents,
            "amount_cents": entry.amount_cents,
            "activity_code": entry.activity_code,
            "task_code": entry.task_code,
            "billable": entry.billable,
        },
    )


class LedesExportIn(Schema):
    client_id: int
    start: date
    end: date


class LedesImportIn(Schema):
    text: str


class LedesLineOut(Schema):
    number: str
    line_type: str
    units: str
    unit_cost_cents: int
    adjustment_cents: int | None
    total_cents: int
    line_date: date
    task_code: str
    activity_code: str
    expense_code: str
    timekeeper_id: str
    timekeeper_name: str
    timekeeper_classification: str
    description: str


class LedesInvoiceOut(Schema):
    number: str
    invoice_date: date
    client_id: str
    matter_id: str
    client_matter_id: str
    law_firm_id: str
    description: str
    billing_start: date
    billing_end: date
    total_cents: int
    lines: list[LedesLineOut]


class LedesImportOut(Schema):
    valid: bool
    errors: list[str]
    invoices: list[LedesInvoiceOut]


@router.post("/ledes/export", operation_id="billing_ledes_export")
def ledes_export(request: HttpRequest, payload: LedesExportIn) -> HttpResponse:
    """One LEDES 1998B file (text/plain, ASCII) with every issued invoice of a client billed in
    LEDES whose issue date is from ``start`` to ``end``. 422 ``ledes_invalid`` names the rule
    broken (client not on LEDES, no invoice in the period, taxpayer ID missing...)."""
    from caseledger.billing.exports import client_ledes_text
    from caseledger.clients.selectors import clients_visible_to

    require(request.user, "billing.view")
    client = get_object_or_404(clients_visible_to(request.user), pk=payload.client_id)
    result = client_ledes_text(client=client, start=payload.start, end=payload.end)
    response = HttpResponse(result.text, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


@router.post("/ledes/import", response=LedesImportOut, operation_id="billing_ledes_import")
def ledes_import(request: HttpRequest, payload: LedesImportIn) -> dict:
    """Read a LEDES 1998B file into a preview (its invoices and lines, every rule it breaks);
    nothing is written."""
    from caseledger.billing.exports import ledes_import_preview

    require(request.user, "billing.edit")
    preview = ledes_import_preview(data=payload.text)
    return {
        "valid": preview.valid,
        "errors": preview.errors,
        "invoices": [
            {
                **{k: getattr(inv, k) for k in LedesInvoiceOut.model_fields if k != "lines"},
                "lines": [
                    {
                        **{k: getattr(line, k) for k in LedesLineOut.model_fields if k != "units"},
                        "units": str(line.units),
                    }
                    for line in inv.lines
                ],
            }
            for inv in preview.invoices
        ],
    }
