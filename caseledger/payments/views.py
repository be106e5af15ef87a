"""Payment pages (staff), the public pay pages behind signed links, the sandbox processor's
hosted page and the Stripe webhook. Views parse input, call one service or selector, render."""

from __future__ import annotations

import csv
import importlib
import logging
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core import clock, reversals
from caseledger.core.actions import service_action, staff
from caseledger.core.amounts import firm_decimal, firm_money, parse_cents
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import banner_text, handle_form
from caseledger.core.money import MoneyError
from caseledger.core.paging import CountedPaginator
from caseledger.core.permissions import authorize, capability_required
from caseledger.core.selectors import firm_get
from caseledger.payments import corrections, links, refunds, selectors, services
from caseledger.payments.choices import (
    CheckoutPurpose,
    CheckoutStatus,
    PaymentStatus,
    RefundMethod,
    RefundStatus,
)
from caseledger.payments.exceptions import (
    PaymentError,
    WebhookNotReady,
    WebhookPayloadError,
    WebhookSignatureError,
)
from caseledger.payments.forms import (
    CorrectionSettingsForm,
    NoteForm,
    PaymentForm,
    RefundForm,
    ReversalForm,
    TokenForm,
)
from caseledger.payments.models import CheckoutSession, CreditRefund, Payment, PaymentReversal
from caseledger.payments.providers import provider_get
from caseledger.payments.providers.sandbox import sandbox_event

log = logging.getLogger(__name__)


PAGE_ROWS = 50


@capability_required("payments.view")
def payment_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    method = request.GET.get("method") or None
    payments = selectors.payment_list(status=status, method=method)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="payments.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "number",
                "date",
                "client",
                "method",
                "reference",
                "status",
                "amount",
                "fee",
                "unapplied",
            ]
        )
        for p in payments:
            writer.writerow(
                [
                    p.number,
                    p.received_date.isoformat(),
                    p.client.name,
                    p.method,
                    p.reference,
                    p.status,
                    firm_decimal(p.amount_cents),
                    firm_decimal(p.fee_cents),
                    firm_decimal(p.unapplied_cents),
                ]
            )
        return response
    # over every filtered payment, in SQL (not by adding up the rows shown), with their number
    # in the same statement: the paginator does not COUNT them again
    totals = payments.order_by().aggregate(
        amount=Coalesce(Sum("amount_cents"), 0),
        unapplied=Coalesce(Sum("unapplied_cents"), 0),
        count=Count("id"),
    )
    paginator = CountedPaginator(payments, PAGE_ROWS, count=totals["count"])
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "payments/list.html",
        {
            "page": page,
            "payments": page.object_list,
            "query": query.urlencode(),
            "totals": totals,
            "status": status or "",
            "method": method or "",
            "statuses": PaymentStatus.choices,
            "methods": Payment._meta.get_field("method").choices,
        },
    )


@capability_required("payments.record")
def payment_record(request: HttpRequest) -> HttpResponse:
    client = None
    client_id = request.POST.get("client") or request.GET.get("client")
    if client_id and client_id.isdigit():
        client = Client.objects.filter(pk=int(client_id)).first()
    open_invoices = selectors.open_invoices_for(client) if client else []
    form = PaymentForm(
        request.POST or None,
        initial={"client": client, "received_date": clock.firm_today(), "allocation": "auto"},
    )
    entered = {
        invoice.pk: request.POST.get(f"alloc_{invoice.pk}", "").strip() for invoice in open_invoices
    }

    def call(data: dict[str, Any]) -> Payment:
        allocations: list[services.Allocation] | None = None
        if data["allocation"] == "none":
            allocations = []
        elif data["allocation"] == "manual":
            allocations = _allocations_typed(open_invoices, entered)
        return services.payment_record(
            client=data["client"],
            matter=data["matter"],
            method=data["method"],
            payer=data["payer"],
            reference=data["reference"],
            amount_cents=data["amount"],
            received_date=data["received_date"],
            allocations=allocations,
            actor=staff(request),
            now=clock.now(),
        )

    payment = handle_form(request, form, call)
    if payment is not None:
        messages.success(
            request, f"Payment {payment.number} recorded ({firm_money(payment.amount_cents)})."
        )
        return redirect("payments:detail", payment.pk)
    return render(
        request,
        "payments/record.html",
        {
            "form": form,
            "client": client,
            "open_invoices": open_invoices,
            "entered": entered,
            "clients": Client.objects.order_by("name", "id"),
        },
    )


def _allocations_typed(
    invoices: Iterable[Invoice], entered: dict[int, str]
) -> list[services.Allocation]:
    """The amounts typed beside each invoice; every unreadable amount refused at once."""
    allocations, errors = [], []
    for invoice in invoices:
        raw = entered.get(invoice.pk, "")
        if not raw:
            continue
        try:
            cents = parse_cents(raw, field=f"allocation to {invoice}")
        except MoneyError as exc:
            errors.append(exc.message)
            continue
        allocations.append(services.Allocation(invoice, cents))
    if errors:
        raise PaymentError("; ".join(errors), field="allocations")
    return allocations


@capability_required("payments.view")
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk)


def _detail_page(
    request: HttpRequest,
    pk: int,
    *,
    refund_form: RefundForm | None = None,
    reversal_form: ReversalForm | None = None,
    alloc_form: TokenForm | None = None,
) -> HttpResponse:
    try:
        payment = selectors.payment_detail(pk)
    except Payment.DoesNotExist as exc:
        raise Http404 from exc
    open_invoices = selectors.open_invoices_for(payment.client) if payment.unapplied_cents else []
    panel = reversals.panel_context(
        payment.reversals.select_related("requested_by", "decided_by").order_by("id"),
        may_decide=authorize(request.user, "payments.reverse.approve"),
        may_request=payment.status == PaymentStatus.RECEIVED
        and authorize(request.user, "payments.record"),
        reverse_url=reverse("payments:reverse", args=[payment.pk]),
    )
    return render(
        request,
        "payments/detail.html",
        {
            "payment": payment,
            "open_invoices": open_invoices,
            "refund_form": refund_form or RefundForm(),
            "reversal_form": reversal_form or ReversalForm(),
            "alloc_form": alloc_form or TokenForm(),
            "retry_form": TokenForm(),
            "note_form": NoteForm(),
            "threshold": corrections.correction_settings_get().reversal_approval_cents,
            **panel,
        },
    )


@require_POST
@capability_required("payments.record")
def payment_allocate(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk)
    form = TokenForm(request.POST)
    invoices = list(selectors.open_invoices_for(payment.client))
    entered = {i.pk: request.POST.get(f"alloc_{i.pk}", "").strip() for i in invoices}
    done = handle_form(
        request,
        form,
        lambda _d: services.payment_allocate(
            payment=payment,
            allocations=_allocations_typed(invoices, entered),
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if done is None:
        return _detail_page(request, pk, alloc_form=form)
    messages.success(request, "Unapplied credit applied.")
    return redirect("payments:detail", pk)


@require_POST
@capability_required("payments.refund")
def payment_refund(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk)
    form = RefundForm(request.POST)
    refund = handle_form(
        request,
        form,
        lambda d: services.unapplied_credit_refund(
            payment=payment,
            amount_cents=d["amount"],
            method=d["method"],
            reference=d["reference"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if refund is None:
        return _detail_page(request, pk, refund_form=form)
    _refund_message(request, refund)
    return redirect("payments:detail", pk)


def _refund_message(request: HttpRequest, refund: CreditRefund) -> None:
    """A card refund goes to the processor once the form's transaction committed (on commit;
    run here too, outside any transaction, in case it did not: a settled refund is left as it
    is): say what the processor answered."""
    if refund.status == RefundStatus.REQUESTED:
        refund = refunds.card_refund_process(refund_id=refund.pk, now=clock.now())
    refund.refresh_from_db()
    if refund.status == RefundStatus.SUCCEEDED:
        card = refund.method == RefundMethod.CARD
        suffix = f" (processor reference {refund.reference})" if card else ""
        messages.success(request, f"Refund recorded{suffix}.")
    elif refund.status == RefundStatus.FAILED:
        messages.error(request, f"The card processor refused the refund: {refund.failure_reason}")
    else:
        messages.warning(
            request,
            "The refund was sent to the card processor and is waiting for its answer; "
            "it is recorded as soon as the processor confirms (CaseLedger retries every minute).",
        )


@require_POST
@capability_required("payments.refund")
def card_refund_retry(request: HttpRequest, pk: int) -> HttpResponse:
    refund = get_object_or_404(CreditRefund, pk=pk, method=RefundMethod.CARD)
    form = TokenForm(request.POST)
    again = handle_form(
        request,
        form,
        lambda _d: refunds.card_refund_retry(refund=refund, actor=staff(request), now=clock.now()),
    )
    if again is None:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("payments:detail", refund.payment_id)
    _refund_message(request, again)
    return redirect("payments:detail", refund.payment_id)


@require_POST
@capability_required("payments.record")
def payment_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk)
    form = ReversalForm(request.POST)
    reversal = handle_form(
        request,
        form,
        lambda d: corrections.payment_reversal_request(
            payment=payment, reason=d["reason"], actor=staff(request), now=clock.now()
        ),
    )
    if reversal is None:
        return _detail_page(request, pk, reversal_form=form)
    reversals.request_message(request, reversal, label=f"payment {payment.number}")
    return redirect("payments:detail", pk)


@require_POST
@capability_required("payments.reverse.approve")
def payment_reversal_approve(request: HttpRequest, pk: int) -> HttpResponse:
    reversal = get_object_or_404(PaymentReversal.objects.select_related("payment"), pk=pk)
    service_action(
        request,
        lambda: corrections.payment_reversal_approve(
            reversal=reversal, approver=staff(request), now=clock.now()
        ),
        f"Payment {reversal.payment.number} reversed.",
    )
    return redirect("payments:detail", reversal.payment_id)


@require_POST
@capability_required("payments.record")
def payment_reversal_reject(request: HttpRequest, pk: int) -> HttpResponse:
    reversal = get_object_or_404(PaymentReversal.objects.select_related("payment"), pk=pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    service_action(
        request,
        lambda: corrections.payment_reversal_reject(
            reversal=reversal, actor=staff(request), now=clock.now(), note=note
        ),
        "Reversal rejected; the payment stands.",
    )
    return redirect("payments:detail", reversal.payment_id)


@capability_required("payments.settings")
def correction_settings(request: HttpRequest) -> HttpResponse:
    row = corrections.correction_settings_get()
    form = CorrectionSettingsForm(
        request.POST or None, initial={"reversal_approval": row.reversal_approval_cents}
    )
    saved = handle_form(
        request,
        form,
        lambda d: corrections.correction_settings_update(
            reversal_approval_cents=d["reversal_approval"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if saved is not None:
        messages.success(request, "Correction settings saved.")
        return redirect("payments:settings")
    return render(
        request,
        "core/form_page.html",
        {"form": form, "title": "Correction settings", "submit": "Save"},
    )


@require_POST
@capability_required("payments.review")
def payment_release(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk)
    service_action(
        request,
        lambda: services.held_payment_release(
            payment=payment, actor=staff(request), now=clock.now()
        ),
        f"Held payment {payment.number} accepted and posted.",
    )
    return redirect("payments:detail", pk)


@require_POST
@capability_required("payments.review")
def payment_reject(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk)
    service_action(
        request,
        lambda: services.held_payment_reject(
            payment=payment,
            actor=staff(request),
            now=clock.now(),
            note=request.POST.get("note", ""),
        ),
        f"Held payment {payment.number} rejected; nothing was posted.",
    )
    return redirect("payments:detail", pk)


# --- public pay pages (signed links) -----------------------------------------------------------


def _invoice_for_token(token: str) -> Invoice:
    """The invoice a signed link names: billing's own payment-link token (when billing provides
    ``payment_link_resolve``) or this app's. 404 for anything forged."""
    try:
        billing_services = importlib.import_module("caseledger.billing.services")
    except ModuleNotFoundError:
        billing_services = None
    resolve = getattr(billing_services, "payment_link_resolve", None)
    if resolve is not None:
        try:
            return cast(Invoice, resolve(token=token))
        except ApplicationError:  # not billing's token: try this app's below
            pass
    invoice_id = links.invoice_from_token(token)
    if invoice_id is None:
        raise Http404("This payment link is not valid.")
    return get_object_or_404(Invoice.objects.select_related("client", "matter"), pk=invoice_id)


def pay_invoice(request: HttpRequest, token: str) -> HttpResponse:
    invoice = _invoice_for_token(token)
    money = selectors.invoice_money_one(invoice, as_of=clock.firm_today())
    balance = money.balance_due_cents
    payable = invoice.status == InvoiceStatus.ISSUED and balance > 0
    if request.method == "POST" and payable:
        try:
            session = services.checkout_create(
                purpose=CheckoutPurpose.INVOICE,
                client=invoice.client,
                matter=invoice.matter,
                invoice=invoice,
                amount_cents=balance,
                now=clock.now(),
                description=f"Invoice {invoice} — {firm_get().name}",
                customer_email=invoice.client.email,
                return_url=reverse("payments:pay_invoice", args=[token]),
            )
        # Not service_action: on success the client leaves for the processor's page (no message
        # to show); a refusal is shown on this page, shown again.
        except ApplicationError as exc:
            messages.error(request, banner_text(exc.message))
        else:
            return redirect(session.checkout_url)
    return render(
        request,
        "payments/pay.html",
        {
            "firm": firm_get(),
            "document": invoice,
            "kind": "Invoice",
            "money": money,
            "balance": balance,
            "payable": payable,
            "void": invoice.status == InvoiceStatus.VOID,
            "returned": request.GET.get("checkout"),
        },
    )


def pay_trust_request(request: HttpRequest, token: str) -> HttpResponse:
    from caseledger.trust.choices import TrustRequestStatus
    from caseledger.trust.models import TrustRequest

    request_id = links.trust_request_from_token(token)
    if request_id is None:
        raise Http404("This payment link is not valid.")
    trust_request = get_object_or_404(
        TrustRequest.objects.select_related("client", "matter"), pk=request_id
    )
    balance = trust_request.outstanding_cents
    payable = (
        trust_request.status in {TrustRequestStatus.OPEN, TrustRequestStatus.PARTIALLY_PAID}
        and balance > 0
    )
    if request.method == "POST" and payable:
        try:
            session = services.checkout_create(
                purpose=CheckoutPurpose.TRUST_REQUEST,
                client=trust_request.client,
                matter=trust_request.matter,
                trust_request_id=trust_request.pk,
                amount_cents=balance,
                now=clock.now(),
                description=f"Trust deposit {trust_request.number} — {firm_get().name}",
                customer_email=trust_request.client.email,
                return_url=reverse("payments:pay_trust_request", args=[token]),
            )
        # Not service_action: as in pay_invoice (the processor's page next, or this page again).
        except ApplicationError as exc:
            messages.error(request, banner_text(exc.message))
        else:
            return redirect(session.checkout_url)
    return render(
        request,
        "payments/pay.html",
        {
            "firm": firm_get(),
            "document": trust_request,
            "kind": trust_request.get_kind_display(),
            "balance": balance,
            "payable": payable,
            "void": trust_request.status == TrustRequestStatus.CANCELLED,
            "trust": True,
            "returned": request.GET.get("checkout"),
        },
    )


def sandbox_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    """The sandbox processor's hosted page: pay, decline, or pay with delayed settlement."""
    session = get_object_or_404(CheckoutSession, provider_session_id=session_id, provider="sandbox")
    back_to = request.GET.get("return", "")
    if not (back_to.startswith("/") and url_has_allowed_host_and_scheme(back_to, None)):
        back_to = ""
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        allowed = (
            {"success", "decline", "delayed"} if session.status == CheckoutStatus.OPEN else set()
        )
        if session.status == CheckoutStatus.PROCESSING:
            allowed = {"settle", "fail_settlement"}
        if outcome not in allowed:
            return HttpResponseBadRequest("outcome: not possible for this checkout now")
        event = sandbox_event(session=session, outcome=outcome, payer=request.POST.get("payer", ""))
        services.checkout_event_process(event=event, provider="sandbox", now=clock.now())
        again = reverse("payments:sandbox_checkout", args=[session_id])
        return redirect(again + (f"?{urlencode({'return': back_to})}" if back_to else ""))
    session.refresh_from_db()
    if back_to:
        back = back_to
    elif session.purpose == CheckoutPurpose.INVOICE:
        assert session.invoice_id is not None
        back = reverse("payments:pay_invoice", args=[links.invoice_pay_token(session.invoice_id)])
    else:
        assert session.trust_request_id is not None
        back = reverse(
            "payments:pay_trust_request",
            args=[links.trust_request_pay_token(session.trust_request_id)],
        )
    return render(
        request,
        "payments/sandbox.html",
        {
            "session": session,
            "amount": firm_money(session.amount_cents),
            "back": back,
            "firm": firm_get(),
        },
    )


def _webhook_refusal(exc: ApplicationError, status: int) -> JsonResponse:
    return JsonResponse(
        {"error": exc.code, "field": exc.field, "message": exc.message}, status=status
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's signed webhook. A bad or stale signature, or a signed body of an unexpected
    shape: 400 with a JSON message and nothing recorded. An event about a payment not recorded
    yet: 409 (Stripe delivers it again). Otherwise 200 with the outcome."""
    provider = provider_get("stripe")
    now = clock.now()
    try:
        event = provider.event_parse(
            payload=request.body,
            signature_header=request.headers.get("Stripe-Signature", ""),
            now=now,
        )
    except (WebhookSignatureError, WebhookPayloadError) as exc:
        log.warning("stripe webhook refused: %s", exc.message)
        return _webhook_refusal(exc, 400)
    try:
        outcome = services.checkout_event_process(event=event, provider="stripe", now=now)
    except WebhookNotReady as exc:
        log.info("stripe webhook %s deferred: %s", event.event_id, exc.message)
        return _webhook_refusal(exc, 409)
    except ApplicationError as exc:  # a webhook answers the processor in JSON, not a banner
        log.error("stripe webhook %s refused: %s", event.event_id, exc.message)
        return _webhook_refusal(exc, 400)
    log.info("stripe webhook %s %s: %s", event.event_id, event.event_type[:100], outcome)
    return HttpResponse(outcome, content_type="text/plain")
