"""What leaves the firm: the invoice PDF, LEDES files (one invoice, a client's period, an
import preview), a failed invoice email sent again, and the public page a payment link opens."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from caseledger.billing import forms, hooks, selectors, services
from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.exceptions import BillingError
from caseledger.billing.models import Invoice
from caseledger.billing.services.emails import INVOICE_ISSUED_KIND
from caseledger.billing.views.common import invoice_for
from caseledger.core import clock
from caseledger.core.actions import staff
from caseledger.core.choices import OutboxStatus
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import (
    banner_text,
    handle_form,
)
from caseledger.core.models import OutboxMessage
from caseledger.core.permissions import capability_required


def _pdf_response(invoice: Invoice, inline: bool = False) -> HttpResponse:
    stored = getattr(invoice, "pdf", None) if invoice.number else None
    if stored is not None:
        content = bytes(stored.content)
    else:
        content = selectors.invoice_pdf_bytes(invoice=invoice, payment_link="")
    name = f"invoice-{invoice.number}.pdf" if invoice.number else f"draft-{invoice.pk}.pdf"
    response = HttpResponse(content, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


@capability_required("billing.view")
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The stored PDF of an issued invoice (never re-rendered); a draft gets a DRAFT preview."""
    invoice = invoice_for(request, pk)
    return _pdf_response(invoice)


@capability_required("billing.view")
def invoice_ledes(request: HttpRequest, pk: int) -> HttpResponse:
    from caseledger.billing.exports import invoice_ledes_text

    invoice = invoice_for(request, pk)
    try:
        text = invoice_ledes_text(invoice=invoice)
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
        return redirect("billing:invoice_detail", pk=pk)
    response = HttpResponse(text, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.number}.ledes.txt"'
    return response


@capability_required("billing.view")
def ledes_export(request: HttpRequest) -> HttpResponse:
    """One LEDES 1998B file with every issued invoice of a client in a period."""
    from caseledger.billing.exports import client_ledes_text

    form = forms.LedesExportForm(request.POST or None, user=staff(request))
    result = handle_form(
        request,
        form,
        lambda d: client_ledes_text(client=d["client"], start=d["start"], end=d["end"]),
    )
    if result is not None:
        response = HttpResponse(result.text, content_type="text/plain; charset=us-ascii")
        response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return response
    return render(request, "billing/ledes_export.html", {"form": form})


@capability_required("billing.edit")
def ledes_import(request: HttpRequest) -> HttpResponse:
    """Read a LEDES 1998B file into a preview: its invoices, lines and problems; no writes."""
    from caseledger.billing.exports import ledes_import_preview

    form = forms.LedesImportForm(request.POST or None, request.FILES or None)
    preview = handle_form(
        request,
        form,
        lambda d: ledes_import_preview(data=d["file"].read() if d["file"] else d["text"]),
    )
    return render(request, "billing/ledes_import.html", {"form": form, "preview": preview})


@require_POST
@capability_required("billing.issue")
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(
        OutboxMessage, pk=pk, kind=INVOICE_ISSUED_KIND, related_type="billing.invoice"
    )
    try:
        services.invoice_email_retry(message=row, actor=staff(request), now=clock.now())
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
    else:
        row.refresh_from_db()
        if row.status == OutboxStatus.SENT:
            messages.success(request, "Email sent.")
        else:
            messages.error(request, f"Email failed again: {row.last_error}")
    return redirect("billing:invoice_detail", pk=row.related_id)


def public_invoice(request: HttpRequest, token: str) -> HttpResponse:
    """What a payment link opens (no login): the invoice summary and its PDF. The payments
    issue replaces the body with the pay page."""
    try:
        invoice = services.payment_link_resolve(token=token)
    except BillingError as exc:
        return render(request, "billing/public_invoice.html", {"error": exc.message}, status=404)
    if request.GET.get("pdf") == "1":
        return _pdf_response(invoice, inline=True)
    money = hooks.invoice_money([invoice], as_of=clock.firm_today()).get(invoice.pk)
    return render(
        request,
        "billing/public_invoice.html",
        {
            "invoice": invoice,
            "token": token,
            "money": money,
            "payable": money is not None
            and invoice.status == InvoiceStatus.ISSUED
            and money.balance_due_cents > 0,
        },
    )
