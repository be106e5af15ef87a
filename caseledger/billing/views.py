"""Billing pages. Each view parses input, calls one service or selector, and renders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caseledger.billing import forms, hooks, selectors, services
from caseledger.billing.choices import FeePath, InvoiceStatus
from caseledger.billing.exceptions import BillingError
from caseledger.billing.fees import invoice_expiry_notices
from caseledger.billing.models import (
    BillingTrigger,
    Expense,
    FeePayerRule,
    GovernmentFee,
    HourlyRate,
    Invoice,
    InvoiceLine,
    InvoiceTemplate,
    PayerRule,
    Service,
    TimeEntry,
)
from caseledger.billing.services.emails import INVOICE_ISSUED_KIND
from caseledger.billing.services.invoices import LINE_EDIT_NOT_DRAFT
from caseledger.core import clock
from caseledger.core.choices import OutboxStatus
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import (
    banner_text,
    error_text,
    form_errors_tidy,
    handle_form,
    service_error_add,
)
from caseledger.core.models import OutboxMessage
from caseledger.core.money import Money
from caseledger.core.outbox import FAILED_STATUSES
from caseledger.core.paging import CountedPaginator
from caseledger.core.permissions import capability_required, require

SELECT_A_DRAFT = "Select at least one draft to approve."


def _invoice_for(request: HttpRequest, pk: int, capability: str = "billing.view") -> Invoice:
    invoice = get_object_or_404(
        Invoice.objects.select_related("client", "matter", "responsible_partner"), pk=pk
    )
    require(request.user, capability, invoice)
    return invoice


@capability_required("billing.approve")
def review_queue(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("invoice") if v.isdigit()]
        if not ids:
            messages.error(request, SELECT_A_DRAFT)
        else:
            approved, refused = services.invoice_bulk_approve(
                invoice_ids=ids, actor=request.user, now=clock.now()
            )
            if approved:
                messages.success(request, f"Approved {len(approved)} invoice(s).")
            for pk, message in refused.items():
                messages.error(request, f"Draft #{pk}: {banner_text(message)}")
        return redirect(request.get_full_path())
    from caseledger.billing.exports import invoice_ledes_problems

    queue = list(selectors.review_queue(partner=None if show_all else request.user))
    today = clock.firm_date(clock.now())
    unadvanced = _unadvanced_by_invoice([invoice.pk for invoice in queue])
    for invoice in queue:
        # Clients billed in LEDES: the badge says so, and how many problems block approval.
        invoice.ledes_problems = (  # type: ignore[attr-defined]
            invoice_ledes_problems(invoice=invoice, today=today)
            if invoice.client.ledes_required
            else None
        )
        # A fee with a stated expiry near or past (Proclamation 10973): confirm before issuing.
        invoice.fee_notices = invoice_expiry_notices(invoice)  # type: ignore[attr-defined]
        # Government fees billed as firm advances not yet recorded: issue waits for them.
        invoice.unadvanced = unadvanced.get(invoice.pk, [])  # type: ignore[attr-defined]
    return render(
        request,
        "billing/review_queue.html",
        {"invoices": queue, "show_all": show_all},
    )


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
    invoices, totals = selectors.invoice_list_with_money(
        selectors.invoice_list(user=request.user, **filters),
        as_of=clock.firm_today(),
        payment_state=payment_state,
        sort=sort,
    )
    # totals.count is the filtered rows' count (the totals query): no second COUNT
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


def _unadvanced_by_invoice(invoice_ids: list[int]) -> dict[int, list[Any]]:
    """The government-fee lines of these invoices that issue refuses until the firm's advance
    of the fee is recorded (one query), by invoice."""
    by_invoice: dict[int, list[Any]] = {}
    for line in selectors.fee_lines_unadvanced(invoice_ids):
        by_invoice.setdefault(line.invoice_id, []).append(line)
    return by_invoice


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
        and selectors.invoice_self_approval_refused(invoice=invoice, user=request.user),
        "money": money,
        "activity": hooks.invoice_activity(invoice, request.user) if invoice.issue_date else [],
        "ledes": invoice.status == InvoiceStatus.ISSUED
        and getattr(invoice.client, "ledes_required", False),
        # None: not a LEDES client (no panel); [] the file validates; else what breaks it
        "ledes_problems": _ledes_problems(invoice),
        "fee_notices": invoice_expiry_notices(invoice),
        "unadvanced": _unadvanced_by_invoice([invoice.pk]).get(invoice.pk, []),
        "failed_statuses": FAILED_STATUSES,
        "turnaround": (invoice.issued_at - invoice.triggered_at)
        if invoice.issued_at and invoice.triggered_at
        else None,
    }


@capability_required("billing.view")
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_for(request, pk)
    return render(request, "billing/invoice_detail.html", _detail_context(request, invoice))


def _action(request: HttpRequest, pk: int, capability: str, call: Any, done: str) -> HttpResponse:
    invoice = _invoice_for(request, pk, capability)
    try:
        call(invoice)
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
    else:
        messages.success(request, done)
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
@capability_required("billing.edit")
def invoice_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        "billing.edit",
        lambda inv: services.invoice_submit(invoice=inv, actor=request.user, now=clock.now()),
        "Sent to the partner's review queue.",
    )


@require_POST
@capability_required("billing.approve")
def invoice_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        "billing.approve",
        lambda inv: services.invoice_approve(invoice=inv, actor=request.user, now=clock.now()),
        "Approved.",
    )


@require_POST
@capability_required("billing.approve")
def invoice_return(request: HttpRequest, pk: int) -> HttpResponse:
    comment = request.POST.get("comment", "")
    return _action(
        request,
        pk,
        "billing.approve",
        lambda inv: services.invoice_return(
            invoice=inv, actor=request.user, now=clock.now(), comment=comment
        ),
        "Returned to billing with your comment.",
    )


@require_POST
@capability_required("billing.issue")
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        "billing.issue",
        lambda inv: services.invoice_issue(invoice=inv, actor=request.user, now=clock.now()),
        "Issued. The PDF is stored and the email is on its way.",
    )


@require_POST
@capability_required("billing.void")
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _action(
        request,
        pk,
        "billing.void",
        lambda inv: services.invoice_void(
            invoice=inv, actor=request.user, now=clock.now(), reason=reason
        ),
        "Void.",
    )


@require_POST
@capability_required("billing.edit")
def invoice_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_for(request, pk, "billing.edit")
    form = forms.LineForm(request.POST)
    line = handle_form(
        request,
        form,
        lambda d: services.invoice_line_add(
            invoice=invoice,
            actor=request.user,
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
    invoice = _invoice_for(request, pk, "billing.edit")
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
            actor=request.user,
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
    invoice = _invoice_for(request, pk, "billing.edit")
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
    try:
        services.invoice_line_remove(line=line, actor=request.user, now=clock.now())
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
    else:
        messages.success(request, "Line removed.")
    return redirect("billing:invoice_detail", pk=pk)


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
    invoice = _invoice_for(request, pk)
    return _pdf_response(invoice)


@capability_required("billing.view")
def invoice_ledes(request: HttpRequest, pk: int) -> HttpResponse:
    from caseledger.billing.exports import invoice_ledes_text

    invoice = _invoice_for(request, pk)
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

    form = forms.LedesExportForm(request.POST or None, user=request.user)
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
        services.invoice_email_retry(message=row, actor=request.user, now=clock.now())
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
    else:
        row.refresh_from_db()
        if row.status == OutboxStatus.SENT:
            messages.success(request, "Email sent.")
        else:
            messages.error(request, f"Email failed again: {row.last_error}")
    return redirect("billing:invoice_detail", pk=row.related_id)


@capability_required("billing.edit")
def invoice_draft_new(request: HttpRequest) -> HttpResponse:
    form = forms.DraftForm(request.POST or None, user=request.user)
    invoice = handle_form(
        request,
        form,
        lambda d: services.invoice_draft_create(
            matter=d["matter"],
            actor=request.user,
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


@capability_required("billing.wip")
def wip(request: HttpRequest) -> HttpResponse:
    by_matter = selectors.wip_by_matter(user=request.user)
    by_partner = selectors.wip_by_partner(user=request.user)
    total = sum(r.total_cents for r in by_matter)
    return render(
        request,
        "billing/wip.html",
        {"by_matter": by_matter, "by_partner": by_partner, "total_cents": total},
    )


@capability_required("billing.time")
def time_entry_new(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    form = forms.TimeEntryForm(
        request.POST or None, user=request.user, initial={"work_date": clock.firm_date(now)}
    )
    entry = handle_form(
        request,
        form,
        lambda d: services.time_entry_create(
            timekeeper=request.user,
            matter=d["matter"],
            work_date=d["work_date"],
            hours=d["hours"],
            activity_code=d["activity_code"],
            task_code=d["task_code"],
            narrative=d["narrative"],
            billable=d["billable"],
            actor=request.user,
            now=now,
        ),
    )
    if entry is not None:
        amount = Money(entry.amount_cents, selectors_currency()).format()
        messages.success(request, f"Recorded {entry.minutes / 60:.2f} h ({amount}).")
        return redirect("billing:time_entry_new")
    return _time_page(request, form=form)


def _time_page(
    request: HttpRequest,
    *,
    form: forms.TimeEntryForm | None = None,
    expense_form: forms.ExpenseForm | None = None,
) -> HttpResponse:
    initial = {"work_date": clock.firm_today(), "expense_date": clock.firm_today()}
    recent = (
        TimeEntry.objects.filter(timekeeper_id=request.user.pk)
        .select_related("matter", "invoice_line__invoice")
        .order_by("-work_date", "-id")[:15]
    )
    expenses = (
        Expense.objects.filter(created_by_id=request.user.pk)
        .select_related("matter", "invoice_line__invoice")
        .order_by("-expense_date", "-id")[:15]
    )
    return render(
        request,
        "billing/time_entry_form.html",
        {
            "form": form or forms.TimeEntryForm(user=request.user, initial=initial),
            "recent": recent,
            "expenses": expenses,
            "expense_form": expense_form or forms.ExpenseForm(user=request.user, initial=initial),
        },
    )


def selectors_currency() -> str:
    from caseledger.billing.services.common import firm_currency

    return firm_currency()


@require_POST
@capability_required("billing.time")
def expense_new(request: HttpRequest) -> HttpResponse:
    form = forms.ExpenseForm(request.POST, user=request.user)
    expense = handle_form(
        request,
        form,
        lambda d: services.expense_create(
            matter=d["matter"],
            kind=d["kind"],
            expense_date=d["expense_date"],
            description=d["description"],
            amount=d["amount"],
            expense_code=d["expense_code"],
            billable=d["billable"],
            actor=request.user,
            now=clock.now(),
        ),
    )
    if expense is None:
        return _time_page(request, expense_form=form)
    messages.success(request, "Expense recorded.")
    return redirect("billing:time_entry_new")


def _work_for(request: HttpRequest, model: Any, pk: int) -> Any:
    """A time entry or expense the user may correct: their own, or, with ``billing.edit`` (they
    edit drafts for the firm), anyone's on a matter they see."""
    from caseledger.matters.selectors import matters_visible_to

    row = get_object_or_404(model.objects.select_related("matter", "invoice_line__invoice"), pk=pk)
    owner = row.timekeeper_id if model is TimeEntry else row.created_by_id
    if owner == request.user.pk:
        # one's own work stays correctable after leaving the matter's staff (it is listed on
        # the time page, which shows one's own recent entries)
        return row
    if not matters_visible_to(request.user).filter(pk=row.matter_id).exists():
        raise Http404
    require(request.user, "billing.edit")
    return row


def _work_edit(
    request: HttpRequest,
    row: TimeEntry | Expense,
    form: Any,
    update: Callable[[dict[str, Any]], object],
    *,
    what: str,
    delete_url: str,
) -> HttpResponse:
    """The correction page of an unbilled time entry or expense (``what``): the form through
    ``update``, then back to the time page; shown again with its errors otherwise."""
    if handle_form(request, form, update) is not None:
        messages.success(request, f"{what} corrected.")
        return redirect("billing:time_entry_new")
    return render(
        request,
        "billing/work_edit.html",
        {
            "form": form,
            "row": row,
            "title": f"{what} on {row.matter.number}",
            "delete_url": reverse(delete_url, args=[row.pk]),
        },
    )


def _work_delete(
    request: HttpRequest,
    row: TimeEntry | Expense,
    delete: Callable[[], object],
    *,
    what: str,
    edit_url: str,
) -> HttpResponse:
    """Delete an unbilled time entry or expense; a refusal goes back to its correction page."""
    try:
        delete()
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
        return redirect(edit_url, row.pk)
    messages.success(request, f"{what} deleted.")
    return redirect("billing:time_entry_new")


@capability_required("billing.time")
def time_entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _work_for(request, TimeEntry, pk)
    form = forms.TimeEntryEditForm(
        request.POST or None,
        initial={
            "work_date": entry.work_date,
            "hours": f"{entry.minutes / 60:.2f}",
            "activity_code": entry.activity_code,
            "task_code": entry.task_code,
            "narrative": entry.narrative,
            "billable": entry.billable,
        },
    )
    return _work_edit(
        request,
        entry,
        form,
        lambda d: services.time_entry_update(
            entry=entry,
            work_date=d["work_date"],
            hours=d["hours"],
            activity_code=d["activity_code"],
            task_code=d["task_code"],
            narrative=d["narrative"],
            billable=d["billable"],
            actor=request.user,
            now=clock.now(),
        ),
        what="Time entry",
        delete_url="billing:time_entry_delete",
    )


@require_POST
@capability_required("billing.time")
def time_entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _work_for(request, TimeEntry, pk)
    return _work_delete(
        request,
        entry,
        lambda: services.time_entry_delete(entry=entry, actor=request.user, now=clock.now()),
        what="Time entry",
        edit_url="billing:time_entry_edit",
    )


@capability_required("billing.time")
def expense_edit(request: HttpRequest, pk: int) -> HttpResponse:
    expense = _work_for(request, Expense, pk)
    form = forms.ExpenseEditForm(
        request.POST or None,
        initial={
            "kind": expense.kind,
            "expense_date": expense.expense_date,
            "description": expense.description,
            "amount": Money(expense.amount_cents, selectors_currency()).format(symbol=False),
            "expense_code": expense.expense_code,
            "billable": expense.billable,
        },
    )
    return _work_edit(
        request,
        expense,
        form,
        lambda d: services.expense_update(
            expense=expense,
            kind=d["kind"],
            expense_date=d["expense_date"],
            description=d["description"],
            amount=d["amount"],
            expense_code=d["expense_code"],
            billable=d["billable"],
            actor=request.user,
            now=clock.now(),
        ),
        what="Expense",
        delete_url="billing:expense_delete",
    )


@require_POST
@capability_required("billing.time")
def expense_delete(request: HttpRequest, pk: int) -> HttpResponse:
    expense = _work_for(request, Expense, pk)
    return _work_delete(
        request,
        expense,
        lambda: services.expense_delete(expense=expense, actor=request.user, now=clock.now()),
        what="Expense",
        edit_url="billing:expense_edit",
    )


@capability_required("billing.configure")
def fee_schedule(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    service_form = forms.ServiceForm(prefix="svc")
    fee_form = forms.GovernmentFeeForm(prefix="fee")
    rate_form = forms.RateForm(prefix="rate", user=request.user)
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "service":
            service_form = forms.ServiceForm(request.POST, prefix="svc")
            if handle_form(
                request,
                service_form,
                lambda d: services.service_create(actor=request.user, now=now, **d),
            ):
                messages.success(request, "Service added.")
                return redirect("billing:fee_schedule")
        elif which == "fee":
            fee_form = forms.GovernmentFeeForm(request.POST, prefix="fee")
            if handle_form(
                request,
                fee_form,
                lambda d: services.government_fee_add(actor=request.user, now=now, **d),
            ):
                messages.success(request, "Government fee saved.")
                return redirect("billing:fee_schedule")
        elif which == "rate":
            rate_form = forms.RateForm(request.POST, prefix="rate", user=request.user)
            if handle_form(
                request,
                rate_form,
                lambda d: services.hourly_rate_set(actor=request.user, now=now, **d),
            ):
                messages.success(request, "Rate saved.")
                return redirect("billing:fee_schedule")
        else:
            raise Http404("unknown form")
    return render(
        request,
        "billing/fee_schedule.html",
        {
            "services": Service.objects.order_by("name", "id"),
            "fees": GovernmentFee.objects.select_related("case_type").order_by(
                "case_type__name", "code", "-effective_date", "id"
            ),
            "rates": HourlyRate.objects.select_related("timekeeper", "client", "matter").order_by(
                "timekeeper__last_name", "client_id", "matter_id", "id"
            ),
            "payer_rules": PayerRule.objects.select_related("case_type").order_by(
                "case_type__name", "category", "id"
            ),
            "fee_payer_rules": FeePayerRule.objects.select_related("service").order_by(
                "fee_code", "id"
            ),
            "service_form": service_form,
            "fee_form": fee_form,
            "rate_form": rate_form,
            "today": clock.firm_date(now),
        },
    )


@capability_required("billing.configure")
def templates(request: HttpRequest) -> HttpResponse:
    form = forms.TriggerForm(request.POST or None)
    trigger = handle_form(
        request,
        form,
        lambda d: services.trigger_create(
            case_type=d["case_type"],
            template=d["template"],
            kind=d["kind"],
            stage=d["stage"],
            cadence=d["cadence"],
            actor=request.user,
            now=clock.now(),
        ),
    )
    if trigger is not None:
        messages.success(request, "Trigger added.")
        return redirect("billing:templates")
    return _templates_page(request, form=form)


def _templates_page(
    request: HttpRequest,
    *,
    form: Any = None,
    template_form: Any = None,
    settings_form: Any = None,
) -> HttpResponse:
    """The templates page; a form sent from it and refused comes back bound, its errors under
    its fields (the other forms fresh)."""
    return render(
        request,
        "billing/templates.html",
        {
            "templates": InvoiceTemplate.objects.select_related("service")
            .prefetch_related("lines")
            .order_by("name", "id"),
            "triggers": BillingTrigger.objects.select_related("case_type", "stage", "template")
            .filter(active=True)
            .order_by("case_type__name", "stage__position", "id"),
            "form": form or forms.TriggerForm(),
            "template_form": template_form or forms.TemplateForm(),
            "settings_form": settings_form
            or forms.SettingsForm(instance=selectors.billing_settings_get(), prefix="set"),
        },
    )


@require_POST
@capability_required("billing.configure")
def template_new(request: HttpRequest) -> HttpResponse:
    form = forms.TemplateForm(request.POST)

    def create(data: dict[str, Any]) -> InvoiceTemplate:
        lines = []
        if data["line_description"].strip():
            lines.append(
                {
                    "description": data["line_description"],
                    "category": data["line_category"],
                    "amount": data["line_amount"] or None,
                }
            )
        codes = [c.strip() for c in data["government_fee_codes"].split(",") if c.strip()]
        try:
            return services.template_create(
                service=data["service"],
                name=data["name"],
                bill_to=data["bill_to"],
                lines=lines,
                government_fee_codes=codes,
                include_unbilled=data["include_unbilled"],
                terms=data["terms"],
                actor=request.user,
                now=clock.now(),
            )
        except ApplicationError as exc:
            # This form has one line, its fields named "line_<name>"; the service names
            # them "lines.0.<name>".
            parts = (exc.field or "").split(".")
            if len(parts) == 3 and parts[0] == "lines" and f"line_{parts[2]}" in form.fields:
                row = f"line {int(parts[1]) + 1} {parts[2]}" if parts[1].isdigit() else ""
                message = error_text(exc.message, parts[2], row)
                raise ApplicationError(message, field=f"line_{parts[2]}") from exc
            raise

    template = handle_form(request, form, create)
    if template is not None:
        messages.success(request, f"Template {template.name} added.")
        return redirect("billing:templates")
    return _templates_page(request, template_form=form)


def _template_line_rows(formset: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """The kept rows of the lines formset as service input, and each row's form index."""
    rows: list[dict[str, Any]] = []
    index: list[int] = []
    for i, line_form in enumerate(formset):
        data = line_form.cleaned_data
        if not data or data.get("remove") or not data.get("description", "").strip():
            continue
        rows.append(
            {
                "description": data["description"],
                "kind": data["kind"],
                "category": data["category"],
                "service": data["service"],
                "amount": data["amount"] or None,
            }
        )
        index.append(i)
    return rows, index


@capability_required("billing.configure")
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(InvoiceTemplate.objects.select_related("service"), pk=pk)
    currency = selectors_currency()
    initial = {
        "name": template.name,
        "service": template.service_id,
        "bill_to": template.bill_to,
        "government_fee_codes": ", ".join(template.government_fee_codes),
        "installments": template.installments,
        "payment_terms_days": template.payment_terms_days,
        "include_unbilled": template.include_unbilled,
        "terms": template.terms,
        "notes": template.notes,
        "active": template.active,
    }
    line_initial = [
        {
            "description": line.description,
            "kind": line.kind,
            "category": line.category,
            "service": None if line.service_id == template.service_id else line.service_id,
            "amount": ""
            if line.amount_cents is None
            else Money(line.amount_cents, currency).format(symbol=False),
        }
        for line in template.lines.order_by("position", "id")
    ]
    form = forms.TemplateEditForm(request.POST or None, initial=initial, template=template)
    formset = forms.TemplateLineFormSet(request.POST or None, initial=line_initial, prefix="lines")
    # Both checked, so every error shows at once, each under its field without its prefix.
    valid = [form.is_valid(), formset.is_valid()] if request.method == "POST" else [False]
    form_errors_tidy(form)
    for line_form in formset.forms:
        form_errors_tidy(line_form)
    if all(valid):
        data = form.cleaned_data
        rows, index = _template_line_rows(formset)
        codes = [c.strip() for c in data["government_fee_codes"].split(",") if c.strip()]
        try:
            services.template_update(
                template=template,
                actor=request.user,
                now=clock.now(),
                service=data["service"],
                name=data["name"],
                lines=rows,
                bill_to=data["bill_to"],
                government_fee_codes=codes,
                include_unbilled=data["include_unbilled"],
                installments=data["installments"],
                terms=data["terms"],
                notes=data["notes"],
                payment_terms_days=data["payment_terms_days"],
                active=data["active"],
            )
        except ApplicationError as exc:
            parts = (exc.field or "").split(".")
            if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
                line_form = formset.forms[index[int(parts[1])]]
                row = f"line {int(parts[1]) + 1} {parts[2]}"
                message = error_text(exc.message, parts[2], parts[2].replace("_", " "), row)
                line_form.add_error(parts[2], message)
            else:
                service_error_add(form, exc)
        else:
            messages.success(request, f"Template {data['name']} saved.")
            return redirect("billing:templates")
    return render(
        request,
        "billing/template_form.html",
        {
            "template": template,
            "form": form,
            "formset": formset,
            "triggers": BillingTrigger.objects.filter(template=template, active=True)
            .select_related("case_type", "stage")
            .order_by("case_type__name", "id"),
        },
    )


@require_POST
@capability_required("billing.configure")
def billing_settings(request: HttpRequest) -> HttpResponse:
    form = forms.SettingsForm(request.POST, instance=selectors.billing_settings_get(), prefix="set")
    saved = handle_form(
        request,
        form,
        lambda d: services.billing_settings_update(actor=request.user, now=clock.now(), **d),
    )
    if saved is not None:
        messages.success(request, "Billing settings saved.")
        return redirect("billing:templates")
    return _templates_page(request, settings_form=form)


@require_POST
@capability_required("billing.configure")
def trigger_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = get_object_or_404(BillingTrigger, pk=pk)
    services.trigger_deactivate(trigger=trigger, actor=request.user, now=clock.now())
    messages.success(request, "Trigger removed.")
    return redirect("billing:templates")


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


@capability_required("billing.edit")
def government_fees(request: HttpRequest) -> HttpResponse:
    """Government fees by how they are paid (ADR 011): advances not yet billed (1300), fees on
    drafts waiting for an advance (issue refuses them), and fees shown for information."""
    form = forms.FeeAdvanceForm(request.POST or None, user=request.user)
    if request.method == "POST":
        advance = handle_form(
            request,
            form,
            lambda d: services.fee_advance_record(
                matter=d["matter"],
                fee_code=d["fee_code"],
                amount=d["amount"],
                paid_date=d["paid_date"],
                method=d["method"],
                reference=d["reference"],
                actor=request.user,
                now=clock.now(),
            ),
        )
        if advance is not None:
            messages.success(request, f"Fee advance {advance} recorded.")
            return redirect("billing:government_fees")
    unbilled = list(selectors.fee_advances_unbilled())
    waiting = list(selectors.fee_lines_unadvanced())
    information = list(selectors.fee_lines_from_trust_or_client()[:50])
    return render(
        request,
        "billing/government_fees.html",
        {
            "form": form,
            "unbilled": unbilled,
            "unbilled_cents": sum(a.amount_cents for a in unbilled),
            "waiting": waiting,
            "waiting_cents": sum(line.amount_cents for line in waiting),
            "information": information,
        },
    )


@require_POST
@capability_required("billing.edit")
def invoice_filing_date(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_for(request, pk, "billing.edit")
    form = forms.FilingDateForm(request.POST)
    saved = handle_form(
        request,
        form,
        lambda d: services.invoice_filing_date_set(
            invoice=invoice,
            filing_date=d["filing_date"],
            filing_method=d["filing_method"],
            actor=request.user,
            now=clock.now(),
        ),
    )
    if saved is not None:
        messages.success(request, "Filing date set; government fees re-priced for it.")
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
@capability_required("billing.edit")
def invoice_line_fee_path(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    invoice = _invoice_for(request, pk, "billing.edit")
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
    form = forms.FeePathForm(request.POST)
    saved = handle_form(
        request,
        form,
        lambda d: services.invoice_line_fee_path_set(
            line=line, fee_path=d["fee_path"], actor=request.user, now=clock.now()
        ),
    )
    if saved is not None:
        messages.success(request, "How the fee is paid: saved.")
    return redirect("billing:invoice_detail", pk=invoice.pk)
