"""Credit note and write-off pages. Views parse, call one service or selector, render."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.amounts import parse_cents
from caseledger.core.forms import handle_form
from caseledger.core.permissions import authorize, capability_required
from caseledger.credits import selectors, services
from caseledger.credits.choices import CreditNoteStatus, RefundSource, WriteOffStatus
from caseledger.credits.forms import (
    CreditNoteForm,
    CreditSettingsForm,
    DecisionForm,
    ReportForm,
    ReverseForm,
    WriteOffForm,
)
from caseledger.credits.models import CreditNote, CreditRefund, WriteOff

PAGE_ROWS = 50


def _page_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _sum_cents(rows: Any) -> int:
    """``amount_cents`` over every filtered row, in SQL (not the rows shown)."""
    return int(rows.order_by().aggregate(t=Sum("amount_cents"))["t"] or 0)


@capability_required("credits.view")
def credit_note_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status and status not in CreditNoteStatus.values:
        status = None
    notes = selectors.credit_note_list(status=status)
    page = Paginator(notes, PAGE_ROWS).get_page(request.GET.get("page"))
    return render(
        request,
        "credits/credit_note_list.html",
        {
            "page": page,
            "notes": page.object_list,
            "query": _page_query(request),
            "total_cents": _sum_cents(notes),
            "status": status,
            "statuses": CreditNoteStatus.choices,
        },
    )


def _invoice_lines(number: str) -> list[Any]:
    """The lines of the issued invoice numbered ``number`` (for crediting per line)."""
    from caseledger.billing.models import Invoice

    invoice = Invoice.objects.filter(number=number.strip(), status="ISSUED").first()
    if invoice is None or not hasattr(invoice, "lines"):
        return []
    return list(invoice.lines.order_by("position", "id"))


@capability_required("credits.request")
def credit_note_create(request: HttpRequest) -> HttpResponse:
    initial = {"invoice": request.GET.get("invoice", "")}
    form = CreditNoteForm(request.POST or None, initial=initial)
    number = request.POST.get("invoice") or request.GET.get("invoice") or ""
    invoice_lines = _invoice_lines(number) if number else []

    def call(data: dict[str, Any]) -> CreditNote:
        invoice = data["invoice"]
        lines = []
        for index, line in enumerate(invoice_lines):
            raw = request.POST.get(f"invoice_line_{line.pk}", "").strip()
            if raw:
                lines.append(
                    services.LineInput(
                        description=line.description,
                        amount_cents=parse_cents(
                            raw, field=f"lines[{index}].amount", currency=invoice.currency
                        ),
                        invoice_line_id=line.pk,
                    )
                )
        for i in range(1, 5):
            desc = data.get(f"line_description_{i}", "").strip()
            raw = data.get(f"line_amount_{i}", "").strip()
            if desc or raw:
                lines.append(
                    services.LineInput(
                        description=desc,
                        amount_cents=parse_cents(
                            raw or "0", field=f"lines[{i - 1}].amount", currency=invoice.currency
                        ),
                    )
                )
        amount = (
            parse_cents(data["amount"], field="amount", currency=invoice.currency)
            if data["amount"].strip()
            else None
        )
        refund = (
            parse_cents(data["refund_amount"], field="refund_amount", currency=invoice.currency)
            if data["refund_amount"].strip()
            else 0
        )
        return services.credit_note_request(
            invoice=invoice,
            reason_code=data["reason_code"],
            reason_text=data["reason_text"],
            lines=lines or None,
            amount_cents=amount,
            refund_cents=refund,
            refund_method=data["refund_method"],
            actor=staff(request),
            now=clock.now(),
        )

    note = handle_form(request, form, call)
    if note is not None:
        if note.status == CreditNoteStatus.ISSUED:
            messages.success(request, f"Credit note {note.number} issued.")
        else:
            messages.success(request, "Credit note waiting for a partner's approval.")
        return redirect("credits:credit_note_detail", pk=note.pk)
    return render(
        request,
        "credits/credit_note_form.html",
        {"form": form, "invoice_lines": invoice_lines, "posted": request.POST},
    )


@capability_required("credits.view")
def credit_note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(
        CreditNote.objects.select_related(
            "invoice", "client", "matter", "requested_by", "decided_by"
        ),
        pk=pk,
    )
    refunds = list(note.refunds.order_by("id"))
    return render(
        request,
        "credits/credit_note_detail.html",
        {
            "note": note,
            "lines": note.lines.order_by("position", "id"),
            "refunds": refunds,
            "has_trust_refund": any(r.source == RefundSource.TRUST for r in refunds),
            "retryable": (
                selectors.trust_refunds_retryable(refund_cents=note.refund_cents, refunds=refunds)
                if authorize(request.user, "credits.request")
                else set()
            ),
            "decision_form": DecisionForm(),
        },
    )


@require_POST
@capability_required("credits.request")
def trust_refund_request_again(request: HttpRequest, pk: int, refund_pk: int) -> HttpResponse:
    refund = get_object_or_404(CreditRefund, pk=refund_pk, credit_note_id=pk)
    service_action(
        request,
        lambda: services.trust_refund_request_again(
            refund=refund, actor=staff(request), now=clock.now()
        ),
        lambda again: (
            f"Trust refund requested again: disbursement {again.reference} waits "
            "for the trust approvals."
        ),
    )
    return redirect("credits:credit_note_detail", pk=pk)


@require_POST
@capability_required("credits.approve")
def credit_note_approve(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(CreditNote, pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    service_action(
        request,
        lambda: services.credit_note_approve(
            credit_note=note,
            approver=staff(request),
            now=clock.now(),
            note=form.cleaned_data.get("note", ""),
        ),
        f"Credit note {note.number} approved and issued.",
    )
    return redirect("credits:credit_note_detail", pk=pk)


@require_POST
@capability_required("credits.approve")
def credit_note_reject(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(CreditNote, pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    service_action(
        request,
        lambda: services.credit_note_reject(
            credit_note=note,
            approver=staff(request),
            now=clock.now(),
            note=form.cleaned_data.get("note", ""),
        ),
        "Credit note rejected.",
    )
    return redirect("credits:credit_note_detail", pk=pk)


@capability_required("credits.view")
def credit_note_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from caseledger.credits.pdf import render_credit_note_pdf

    note = get_object_or_404(
        CreditNote.objects.select_related("invoice", "client", "matter"), pk=pk
    )
    if note.status != CreditNoteStatus.ISSUED:
        raise Http404("only an issued credit note has a PDF")
    response = HttpResponse(render_credit_note_pdf(note), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{note.number}.pdf"'
    return response


@capability_required("credits.view")
def write_off_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status and status not in WriteOffStatus.values:
        status = None
    write_offs = selectors.write_off_list(status=status)
    page = Paginator(write_offs, PAGE_ROWS).get_page(request.GET.get("page"))
    return render(
        request,
        "credits/write_off_list.html",
        {
            "page": page,
            "write_offs": page.object_list,
            "query": _page_query(request),
            "total_cents": _sum_cents(write_offs),
            "status": status,
            "statuses": WriteOffStatus.choices,
        },
    )


@capability_required("credits.write_off")
def write_off_create(request: HttpRequest) -> HttpResponse:
    form = WriteOffForm(request.POST or None, initial={"invoice": request.GET.get("invoice", "")})
    write_off = handle_form(
        request,
        form,
        lambda d: services.write_off_request(
            invoice=d["invoice"],
            amount_cents=(
                parse_cents(d["amount"], field="amount", currency=d["invoice"].currency)
                if d["amount"].strip()
                else None
            ),
            reason=d["reason"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if write_off is not None:
        if write_off.status == WriteOffStatus.POSTED:
            messages.success(request, f"Invoice {write_off.invoice} written off.")
        else:
            messages.success(request, "Write-off waiting for a partner's approval.")
        return redirect("credits:write_off_detail", pk=write_off.pk)
    return render(request, "credits/write_off_form.html", {"form": form})


@capability_required("credits.view")
def write_off_detail(request: HttpRequest, pk: int) -> HttpResponse:
    write_off = get_object_or_404(
        WriteOff.objects.select_related(
            "invoice", "client", "matter", "requested_by", "decided_by", "reversed_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "credits/write_off_detail.html",
        {
            "write_off": write_off,
            "decision_form": DecisionForm(),
            "reverse_form": ReverseForm(),
        },
    )


def _write_off_decide(request: HttpRequest, pk: int, approve: bool) -> HttpResponse:
    write_off = get_object_or_404(WriteOff, pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    note = form.cleaned_data.get("note", "")
    decide = services.write_off_approve if approve else services.write_off_reject
    service_action(
        request,
        lambda: decide(write_off=write_off, approver=staff(request), now=clock.now(), note=note),
        "Write-off approved." if approve else "Write-off rejected.",
    )
    return redirect("credits:write_off_detail", pk=pk)


@require_POST
@capability_required("credits.approve")
def write_off_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _write_off_decide(request, pk, approve=True)


@require_POST
@capability_required("credits.approve")
def write_off_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _write_off_decide(request, pk, approve=False)


@require_POST
@capability_required("credits.write_off")
def write_off_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    write_off = get_object_or_404(WriteOff, pk=pk)
    reason = request.POST.get("reason", "")
    service_action(
        request,
        lambda: services.write_off_reverse(
            write_off=write_off, reason=reason, actor=staff(request), now=clock.now()
        ),
        "Write-off reversed: the balance is due again.",
    )
    return redirect("credits:write_off_detail", pk=pk)


@capability_required("credits.reports")
def report(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET or None)
    today = clock.firm_today()
    by, date_from, date_to = "reason", date(today.year, 1, 1), today
    if form.is_valid():
        by = form.cleaned_data["by"] or by
        date_from = form.cleaned_data["date_from"] or date_from
        date_to = form.cleaned_data["date_to"] or date_to
    if date_to < date_from:
        date_from, date_to = date_to, date_from
    rows = selectors.credit_report(by=by, date_from=date_from, date_to=date_to)
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            selectors.credit_report_csv(rows, by=by), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="credit-notes-by-{by}-{date_from}-{date_to}.csv"'
        )
        return response
    totals = {
        "credit_notes": sum(r.credit_notes for r in rows),
        "credited": sum(r.credited_cents for r in rows),
        "operating": sum(r.operating_refunds_cents for r in rows),
        "trust": sum(r.trust_refunds_cents for r in rows),
    }
    return render(
        request,
        "credits/report.html",
        {
            "form": form,
            "rows": rows,
            "by": by,
            "by_label": selectors.REPORT_DIMENSIONS[by][1],
            "date_from": date_from,
            "date_to": date_to,
            "totals": totals,
            "csv_query": f"by={by}&date_from={date_from}&date_to={date_to}&format=csv",
            "last_year": today - timedelta(days=365),
        },
    )


@capability_required("credits.settings")
def credit_settings(request: HttpRequest) -> HttpResponse:
    current = selectors.credit_settings_get()
    form = CreditSettingsForm(
        request.POST or None, initial={"approval_reason_codes": current.approval_reason_codes}
    )

    def call(d: dict[str, Any]) -> bool:
        services.credit_settings_update(
            approval_reason_codes=d["approval_reason_codes"], actor=staff(request), now=clock.now()
        )
        return True

    if handle_form(request, form, call):
        messages.success(request, "Credit note settings saved.")
        return redirect("credits:settings")
    credit_cents, write_off_cents = services.firm_thresholds()
    return render(
        request,
        "credits/settings.html",
        {"form": form, "credit_cents": credit_cents, "write_off_cents": write_off_cents},
    )
