"""The partner's review: the review queue (bulk approve), and a draft sent to review, approved or
returned with a comment."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from caseledger.billing import selectors, services
from caseledger.billing.fees import invoice_expiry_notices
from caseledger.billing.views.common import invoice_for, unadvanced_by_invoice
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.forms import banner_text
from caseledger.core.permissions import capability_required

SELECT_A_DRAFT = "Select at least one draft to approve."


@capability_required("billing.approve")
def review_queue(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("invoice") if v.isdigit()]
        if not ids:
            messages.error(request, SELECT_A_DRAFT)
        else:
            approved, refused = services.invoice_bulk_approve(
                invoice_ids=ids, actor=staff(request), now=clock.now()
            )
            if approved:
                messages.success(request, f"Approved {len(approved)} invoice(s).")
            for pk, message in refused.items():
                messages.error(request, f"Draft #{pk}: {banner_text(message)}")
        return redirect(request.get_full_path())
    from caseledger.billing.exports import invoice_ledes_problems

    queue = list(selectors.review_queue(partner=None if show_all else staff(request)))
    today = clock.firm_date(clock.now())
    unadvanced = unadvanced_by_invoice([invoice.pk for invoice in queue])
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


@require_POST
@capability_required("billing.edit")
def invoice_submit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for(request, pk, "billing.edit")
    service_action(
        request,
        lambda: services.invoice_submit(invoice=invoice, actor=staff(request), now=clock.now()),
        "Sent to the partner's review queue.",
    )
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
@capability_required("billing.approve")
def invoice_approve(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for(request, pk, "billing.approve")
    service_action(
        request,
        lambda: services.invoice_approve(invoice=invoice, actor=staff(request), now=clock.now()),
        "Approved.",
    )
    return redirect("billing:invoice_detail", pk=invoice.pk)


@require_POST
@capability_required("billing.approve")
def invoice_return(request: HttpRequest, pk: int) -> HttpResponse:
    comment = request.POST.get("comment", "")
    invoice = invoice_for(request, pk, "billing.approve")
    service_action(
        request,
        lambda: services.invoice_return(
            invoice=invoice, actor=staff(request), now=clock.now(), comment=comment
        ),
        "Returned to billing with your comment.",
    )
    return redirect("billing:invoice_detail", pk=invoice.pk)
