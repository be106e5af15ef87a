"""Invoices: the list, the invoice page, a new draft, its lines (add, edit, remove, a government
fee's filing date and fee path), issue and void."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caseledger.billing import forms, hooks, selectors, services
from caseledger.billing.choices import FeePath, InvoiceStatus
from caseledger.billing.fees import invoice_expiry_notices
from caseledger.billing.models import (
    Invoice,
    InvoiceLine,
)
from caseledger.billing.services.invoices import LINE_EDIT_NOT_DRAFT
from caseledger.billing.views.common import invoice_for, selectors_currency, unadvanced_by_invoice
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.forms import (
    banner_text,
    handle_form,
)
from caseledger.core.money import Money
from caseledger.core.outbox import FAILED_STATUSES
from caseledger.core.paging import CountedPaginator
from caseledger.core.permissions import capability_required


@capability_required("billing.view")
def invoice_list(request: HttpRequest) -> HttpResponse:
    form = forms.InvoiceFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    payment_state = ""
    if form.is_bound:
        # The fields that cleaned filter even when a client search (Find) is under way.
        form.is_valid()
        data = form.cleaned_data
        client, partner = data.get("client"), data.get("partner")
        filters = {
            "status": data.get("status") or "",
            "client_id": client.pk if client else None,
            "partner_id": partner.pk if partner else None,
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
        payment_state = data.get("payment_state") or ""
    sort = request.GET.get("sort", "")
    if sort.removeprefix("-") not in selectors.INVOICE_SORTS:
        sort = ""
    user = staff(request)
    invoices, totals = selectors.invoice_list_with_money(
        selectors.invoice_list(user=user, **filters),
        as_of=clock.firm_today(),
        payment_state=payment_state,
        sort=sort,
        tallied=selectors.invoice_list_tally(user=user, payment_state=payment_state, **filters),
    )
    # totals.count is the filtered rows' count (the tally, or the totals query): no COUNT
    page = CountedPaginator(invoices, 50, count=totals.count).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    unsorted = query.copy()
    unsorted.pop("sort", None)
    return render(
        request,
        "billing/invoice_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "unsorted": unsorted.urlencode(),
            "sort": sort,
            "sort_columns": _sort_columns(sort),
            "totals": totals,
            "currency": selectors_currency(),
        },
    )


def _sort_columns(sort: str) -> dict[str, dict[str, str]]:
    """Per sortable column: the ``sort`` value its header link sets (the reverse of the current
    order when it is the sorted column) and ``aria`` (ascending/descending/none)."""
    columns = {}
    for key in selectors.INVOICE_SORTS:
        if sort == key:
            columns[key] = {"next": f"-{key}", "aria": "ascending"}
        elif sort == f"-{key}":
            columns[key] = {"next": key, "aria": "descending"}
        else:
            columns[key] = {"next": key, "aria": "none"}
    return columns


def _ledes_problems(invoice: Invoice) -> list[str] | None:
    from caseledger.billing.exports import invoice_ledes_problems

    if not getattr(invoice.client, "ledes_required", False) or invoice.status == InvoiceStatus.VOID:
        return None
    return [
        banner_text(p) for p in invoice_ledes_problems(invoice=invoice, today=clock.firm_today())
    ]


def _detail_context(request: HttpRequest, invoice: Invoice) -> dict[str, Any]:
    money = hooks.invoice_money([invoice], as_of=clock.firm_today()).get(invoice.pk)
    return {
        "invoice": invoice,
        "lines": list(selectors.invoice_lines(invoice=invoice)),
        "fee_paths": FeePath.choices,
        "history": selectors.invoice_history(invoice=invoice).select_related("actor"),
        "emails": selectors.invoice_emails(invoice=invoice),
        "line_form": forms.LineForm(),
        "comment_form": forms.CommentForm(),
        "reason_form": forms.ReasonForm(),
        # who may act is the template's {% can %} / |can (core.templatetags.permissions)
        "voidable": selectors.invoice_voidable(invoice),
        "own_draft": invoice.status == InvoiceStatus.IN_REVIEW
        and selectors.invoice_self_approval_refused(invoice=invoice, user=staff(request)),
        "money": money,
        "activity": hooks.invoice_activity(invoice, staff(request)) if invoice.issue_date else [],
        "ledes": invoice.status == InvoiceStatus.ISSUED
        and getattr(invoice.client, "ledes_required", False),
        # None: not a LEDES client (no panel); [] the file validates; else what breaks it
        "ledes_problems": _ledes_problems(invoice),
        "fee_notices": invoice_expiry_notices(invoice),
        "unadvanced": unadvanced_by_invoice([invoice.pk]).get(invoice.pk, []),
        "failed_statuses": FAILED_STATUSES,
        "turnaround": (invoice.issued_at - invoice.triggered_at)
        if invoice.issued_at and invoice.triggered_at
        else None,
    }


@capability_required("billing.view")
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for(request, pk)
    return render(request, "billing/invoice_detail.html", _detail_context(request, invoice))


@capability_required("billing.edit")
def invoice_draft_new(request: HttpRequest) -> HttpResponse:
    form = forms.DraftForm(request.POST or None, user=staff(request))
    invoice = handle_form(
        request,
        form,
        lambda d: services.invoice_draft_create(
            matter=d["matter"],
            actor=staff(request),
            now=clock.now(),
            bill_to=d["bill_to"],
            template=d["template"],
            include_unbilled=d["include_unbilled"],
        ),
    )
    if invoice is not None:
        messages.success(request, "Draft created.")
        return redirect("billing:invoice_detail", pk=invoice.pk)
    return render(request, "billing/draft_form.html", {"form": form})


@require_POST
@capability_required("billing.edit")
def invoice_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for(request, pk, "billing.edit")
    form = forms.LineForm(request.POST)
    line = handle_form(
        request,
        form,
        lambda d: services.invoice_line_add(
            invoice=invoice,
            actor=staff(request),
            now=clock.now(),
            description=d["description"],
            kind=d["kind"],
            category=d["category"],
            quantity=d["quantity"],
            unit_price=d["unit_price"],
            task_code=d["task_code"].upper(),
            activity_code=d["activity_code"].upper(),
            expense_code=d["expense_code"].upper(),
        ),
    )
    if line is not None:
        messages.success(request, "Line added.")
        return redirect("billing:invoice_detail", pk=pk)
    invoice.refresh_from_db()
    if invoice.status != InvoiceStatus.DRAFT:
        # No line form on the page any more (the invoice moved on): say why in the banner.
        for error in form.non_field_errors():
            messages.error(request, banner_text(str(error)))
        return redirect("billing:invoice_detail", pk=pk)
    context = {**_detail_context(request, invoice), "line_form": form}
    return render(request, "billing/invoice_detail.html", context, status=422)


@capability_required("billing.edit")
def invoice_line_edit(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """The draft's page with one line's row turned into a form; saving recomputes the totals."""
    invoice = invoice_for(request, pk, "billing.edit")
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
    context = _detail_context(request, invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        messages.error(
            request,
            banner_text(
                LINE_EDIT_NOT_DRAFT.format(
                    invoice=invoice, status=invoice.get_status_display().lower()
                )
            ),
        )
        return redirect("billing:invoice_detail", pk=pk)
    initial = {
        "description": line.description,
        "quantity": f"{line.quantity.normalize():f}",
        "unit_price": Money(line.unit_price_cents, invoice.currency).format(symbol=False),
    }
    form = forms.LineEditForm(request.POST or None, initial=initial)
    saved = handle_form(
        request,
        form,
        lambda d: services.invoice_line_update(
            line=line,
            actor=staff(request),
            now=clock.now(),
            description=d["description"],
            quantity=d["quantity"],
            unit_price=d["unit_price"],
        ),
    )
    invoice.refresh_from_db()
    if saved is not None:
        total = Money(invoice.total_cents, invoice.currency).format()
        messages.success(request, f"Line updated. The total is now {total}.")
        return redirect(reverse("billing:invoice_detail", args=[pk]) + f"#line-{line.pk}")
    context.update({"edit_line": line, "edit_form": form})
    return render(request, "billing/invoice_detail.html", context)


@require_POST
@capability_required("billing.edit")
def invoice_line_remove(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    invoice = invoice_for(request, pk, "billing.edit")
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
    service_action(
        request,
        lambda: services.invoice_line_remove(line=line, actor=staff(request), now=clock.now()),
        "Line removed.",
    )
    return redirect("billing:invoice_detail", pk=pk)


@require_POST
@capability_required("billing.edit")
def invoice_filing_date(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for(request, pk, "billing.edit")
    form = forms.FilingDateForm(request.POST)
    saved = handle_form(
        request,
        form,
        lambda d: services.invoice_filing_date_set(
            invoice=invoice,
            filing_date=d["filing_date"],
            filing_method=d["filing_method"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if saved is not None:
        messages.success(request, "Filing date set; government fees re-priced for it.")
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
@capability_required("billing.edit")
def invoice_line_fee_path(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    invoice = invoice_for(request, pk, "billing.edit")
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
    form = forms.FeePathForm(request.POST)
    saved = handle_form(
        request,
        form,
        lambda d: services.invoice_line_fee_path_set(
            line=line, fee_path=d["fee_path"], actor=staff(request), now=clock.now()
        ),
    )
    if saved is not None:
        messages.success(request, "How the fee is paid: saved.")
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
@capability_required("billing.issue")
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for(request, pk, "billing.issue")
    service_action(
        request,
        lambda: services.invoice_issue(invoice=invoice, actor=staff(request), now=clock.now()),
        "Issued. The PDF is stored and the email is on its way.",
    )
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
@capability_required("billing.void")
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    invoice = invoice_for(request, pk, "billing.void")
    service_action(
        request,
        lambda: services.invoice_void(
            invoice=invoice, actor=staff(request), now=clock.now(), reason=reason
        ),
        "Void.",
    )
    return redirect("billing:invoice_detail", pk=invoice.pk)
