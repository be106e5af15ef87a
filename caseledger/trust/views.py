"""Trust pages: dashboard, matter trust ledger, client ledger and statement, deposits and
receipts, trust requests, disputes, disbursement queue, apply trust to an invoice, settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core import clock, reversals
from caseledger.core.actions import service_action, staff
from caseledger.core.forms import banner_text, handle_form
from caseledger.core.permissions import (
    authorize,
    capability_required,
    require,
)
from caseledger.core.selectors import firm_get
from caseledger.matters.models import Matter
from caseledger.matters.selectors import matters_visible_to
from caseledger.payments import links as pay_links
from caseledger.payments.selectors import invoice_balance_due
from caseledger.trust import corrections, links, pdf, selectors, services
from caseledger.trust.exceptions import ReceiptLinkError, ReceiptLinkExpired
from caseledger.trust.forms import (
    ApplyTrustForm,
    DecisionForm,
    DepositForm,
    DisbursementForm,
    DisputeForm,
    ReversalForm,
    ThresholdForm,
    TrustRequestForm,
    TrustSettingsForm,
)
from caseledger.trust.models import (
    DepositReversal,
    Disbursement,
    DisputeHold,
    TrustDeposit,
    TrustRequest,
)

PAGE_ROWS = 50  # trust matters per page of the dashboard


def _visible_matters(user: Any) -> QuerySet[Matter]:
    """The one rule of who sees which matters (``matters.selectors.matters_visible_to``: team
    roles see their own matters, or all when the firm opens all matters to them)."""
    return matters_visible_to(user)


@capability_required("trust.view")
def dashboard(request: HttpRequest) -> HttpResponse:
    """A page of trust matters (50 rows) with their positions; the totals cover every trust
    matter the user may see. The page (LIMIT/OFFSET on the dashboard's order), the count and
    the totals summed in SQL come from one statement (``TrustRows.read_window``); a page
    number out of range falls back to the Paginator's own reads."""
    today = clock.firm_today()
    visible = _visible_matters(request.user)
    rows = selectors.TrustRows(today, visible)
    number = request.GET.get("page") or "1"
    if number.isdigit() and int(number) >= 1:
        rows.read_window((int(number) - 1) * PAGE_ROWS, PAGE_ROWS)
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    figures = {f.matter_id: f for f in page.object_list}
    matters = selectors.trust_matters_by_ids(list(figures))
    positions = selectors.trust_positions(matters, today, figures=figures)
    totals = rows.totals or selectors.trust_totals(today, visible)
    accounts_ = selectors.trust_bank_accounts()
    split = len(accounts_) > 1
    by_matter = selectors.matter_balances_by_account([p.matter for p in positions]) if split else {}
    by_account = selectors.held_by_account(selectors.trust_matters(visible)) if split else []
    return render(
        request,
        "trust/dashboard.html",
        {
            "page": page,
            "positions": [(p, by_matter.get(p.matter.pk, [])) for p in positions],
            "totals": totals,
            "today": today,
            "split_accounts": split,
            "by_account": by_account,
        },
    )


@capability_required("trust.view")
def matter_ledger(request: HttpRequest, pk: int) -> HttpResponse:
    matter = get_object_or_404(Matter.objects.select_related("client"), pk=pk)
    require(request.user, "trust.view", matter)
    return _matter_page(request, matter)


def _movements_context(lines: list[selectors.StatementLine]) -> dict[str, Any]:
    """Movements, split by trust bank account once the firm has more than one."""
    split = len(selectors.trust_bank_accounts()) > 1
    return {
        "lines": lines,
        "split_accounts": split,
        "account_totals": selectors.account_totals(lines) if split else [],
    }


def _matter_page(
    request: HttpRequest,
    matter: Matter,
    *,
    dispute_form: DisputeForm | None = None,
    threshold_form: ThresholdForm | None = None,
) -> HttpResponse:
    today = clock.firm_today()
    return render(
        request,
        "trust/matter.html",
        {
            "matter": matter,
            "position": selectors.trust_position(matter, today),
            **_movements_context(selectors.client_trust_movements(matter.client, matter)),
            "deposits": TrustDeposit.objects.filter(matter=matter)
            .annotate(
                is_reversed=Exists(
                    DepositReversal.objects.filter(deposit=OuterRef("pk"), status="POSTED")
                )
            )
            .prefetch_related("reversals")
            .order_by("-received_date", "-id"),
            "disputes": DisputeHold.objects.filter(matter=matter).order_by("-created_at", "-id"),
            "dispute_form": dispute_form or DisputeForm(),
            "threshold_form": threshold_form or ThresholdForm(),
            "today": today,
        },
    )


@capability_required("trust.view")
def client_ledger(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    if not _visible_matters(request.user).filter(client=client).exists():
        require(request.user, "trust.view", client.matters.first())
    return render(
        request,
        "trust/client.html",
        {"client": client, **_movements_context(selectors.client_trust_movements(client))},
    )


@capability_required("trust.view")
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk)
    if not _visible_matters(request.user).filter(client=client).exists():
        require(request.user, "trust.view", client.matters.first())
    body = pdf.statement_pdf(client, selectors.client_trust_movements(client), clock.firm_today())
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="trust-statement-{client.pk}.pdf"'
    return response


@capability_required("trust.receipt")
def receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    deposit = get_object_or_404(
        TrustDeposit.objects.select_related("client", "matter", "trust_request"), pk=pk
    )
    require(request.user, "trust.receipt", deposit)
    response = HttpResponse(pdf.receipt_pdf(deposit), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="trust-receipt-{deposit.receipt_number}.pdf"'
    )
    return response


def client_receipt(request: HttpRequest, token: str) -> HttpResponse:
    """The receipt PDF a client opens from the receipt email: no sign-in, the signed token is
    the permission, and it opens that one deposit's receipt only. A stale link answers 410, a
    forged or altered one 404, each with a page that says what to do."""
    try:
        deposit = links.receipt_deposit(token=token)
    except ReceiptLinkError as exc:
        status = 410 if isinstance(exc, ReceiptLinkExpired) else 404
        # A client reads this page: the sentence without the field name it starts with.
        sentence = exc.message.removeprefix(f"{exc.field}: ")
        context = {
            "error": sentence[:1].upper() + sentence[1:] + ".",
            "firm": firm_get(),
            "response_status": status,
        }
        return render(request, "trust/client_receipt_error.html", context, status=status)
    response = HttpResponse(pdf.receipt_pdf(deposit), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="trust-receipt-{deposit.receipt_number}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@capability_required("trust.deposit")
def deposit_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {"received_date": clock.firm_today()}
    if request.GET.get("matter", "").isdigit():
        initial["matter"] = request.GET["matter"]
    form = DepositForm(request.POST or None, initial=initial)
    deposit = handle_form(
        request,
        form,
        lambda d: services.deposit_record(
            client=d["matter"].client,
            matter=d["matter"],
            method=d["method"],
            payer=d["payer"],
            reference=d["reference"],
            amount_cents=d["amount"],
            received_date=d["received_date"],
            card_settled=d["card_settled"],
            trust_account=d["trust_account"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if deposit is not None:
        messages.success(
            request, f"Trust receipt {deposit.receipt_number} recorded; the client is notified."
        )
        return redirect("trust:matter", deposit.matter_id)
    return render(
        request,
        "trust/form.html",
        {
            "form": form,
            "title": "Record trust deposit",
            "submit": "Record deposit",
            "guide_topic": "processing-a-retainer",
        },
    )


@capability_required("trust.view")
def deposit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deposit = get_object_or_404(
        TrustDeposit.objects.select_related("client", "matter", "trust_request", "created_by"),
        pk=pk,
    )
    require(request.user, "trust.view", deposit)
    return _deposit_page(request, deposit, ReversalForm())


def _deposit_page(
    request: HttpRequest, deposit: TrustDeposit, form: ReversalForm, status: int = 200
) -> HttpResponse:
    panel = reversals.panel_context(
        deposit.reversals.select_related("requested_by", "decided_by").order_by("id"),
        may_decide=authorize(request.user, "trust.reverse.approve", deposit),
        may_request=authorize(request.user, "trust.deposit", deposit),
        reverse_url=reverse("trust:deposit_reverse", args=[deposit.pk]),
    )
    return render(
        request,
        "trust/deposit.html",
        {
            "deposit": deposit,
            **panel,
            "form": form,
            "decision_form": DecisionForm(),
            "today": clock.firm_today(),
        },
        status=status,
    )


@capability_required("trust.deposit")
def deposit_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    deposit = get_object_or_404(TrustDeposit.objects.select_related("client", "matter"), pk=pk)
    require(request.user, "trust.deposit", deposit)
    if request.method != "POST":
        return redirect("trust:deposit_detail", pk)
    form = ReversalForm(request.POST)
    reversal = handle_form(
        request,
        form,
        lambda d: corrections.deposit_reversal_request(
            deposit=deposit, reason=d["reason"], actor=staff(request), now=clock.now()
        ),
    )
    if reversal is None:
        return _deposit_page(request, deposit, form)
    reversals.request_message(request, reversal, label=f"trust receipt {deposit.receipt_number}")
    return redirect("trust:deposit_detail", pk)


@require_POST
@capability_required("trust.reverse.approve")
def deposit_reversal_approve(request: HttpRequest, pk: int) -> HttpResponse:
    reversal = get_object_or_404(DepositReversal.objects.select_related("deposit"), pk=pk)
    require(request.user, "trust.reverse.approve", reversal.deposit)
    service_action(
        request,
        lambda: corrections.deposit_reversal_approve(
            reversal=reversal, approver=staff(request), now=clock.now()
        ),
        f"Trust receipt {reversal.deposit.receipt_number} reversed.",
    )
    return redirect("trust:deposit_detail", reversal.deposit_id)


@require_POST
@capability_required("trust.deposit")
def deposit_reversal_reject(request: HttpRequest, pk: int) -> HttpResponse:
    reversal = get_object_or_404(DepositReversal.objects.select_related("deposit"), pk=pk)
    require(request.user, "trust.deposit", reversal.deposit)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    service_action(
        request,
        lambda: corrections.deposit_reversal_reject(
            reversal=reversal, actor=staff(request), now=clock.now(), note=note
        ),
        "Reversal rejected; the deposit stands.",
    )
    return redirect("trust:deposit_detail", reversal.deposit_id)


@require_POST
@capability_required("trust.deposit")
def deposit_clear(request: HttpRequest, pk: int) -> HttpResponse:
    deposit = get_object_or_404(TrustDeposit, pk=pk)
    service_action(
        request,
        lambda: services.deposit_mark_cleared(
            deposit=deposit,
            cleared_on=clock.firm_today(),
            actor=staff(request),
            now=clock.now(),
        ),
        f"{deposit.receipt_number} marked cleared.",
    )
    return redirect("trust:matter", deposit.matter_id)


@capability_required("trust.view")
def request_list(request: HttpRequest) -> HttpResponse:
    requests = selectors.trust_request_list(request.GET.get("status") or None).filter(
        matter__in=_visible_matters(request.user)
    )
    return render(request, "trust/requests.html", {"requests": requests[:500]})


@capability_required("trust.request")
def request_new(request: HttpRequest) -> HttpResponse:
    form = TrustRequestForm(request.POST or None)
    trust_request = handle_form(
        request,
        form,
        lambda d: services.trust_request_create(
            client=d["matter"].client,
            matter=d["matter"],
            kind=d["kind"],
            amount_cents=d["amount"],
            due_date=d["due_date"],
            memo=d["memo"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if trust_request is not None:
        messages.success(request, f"Trust request {trust_request.number} sent to the client.")
        return redirect("trust:request_detail", trust_request.pk)
    return render(
        request,
        "trust/form.html",
        {"form": form, "title": "New trust request", "submit": "Create and send"},
    )


@capability_required("trust.view")
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trust_request = get_object_or_404(
        TrustRequest.objects.select_related("client", "matter"), pk=pk
    )
    require(request.user, "trust.view", trust_request)
    return render(
        request,
        "trust/request_detail.html",
        {
            "req": trust_request,
            "pay_url": pay_links.trust_request_pay_url(trust_request.pk),
            "deposits": trust_request.deposits.order_by("received_date", "id"),
        },
    )


@require_POST
@capability_required("trust.request")
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    trust_request = get_object_or_404(TrustRequest, pk=pk)
    require(request.user, "trust.request", trust_request)
    service_action(
        request,
        lambda: services.trust_request_cancel(
            request=trust_request, actor=staff(request), now=clock.now()
        ),
        f"{trust_request.number} cancelled.",
    )
    return redirect("trust:request_detail", pk)


@require_POST
@capability_required("trust.dispute")
def dispute_new(request: HttpRequest, pk: int) -> HttpResponse:
    matter = get_object_or_404(Matter, pk=pk)
    require(request.user, "trust.dispute", matter)
    form = DisputeForm(request.POST)
    hold = handle_form(
        request,
        form,
        lambda d: services.dispute_hold_create(
            matter=matter,
            amount_cents=d["amount"],
            reason=d["reason"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if hold is None:
        return _matter_page(request, matter, dispute_form=form)
    messages.success(request, "Amount marked disputed: it cannot move until released.")
    return redirect("trust:matter", pk)


@require_POST
@capability_required("trust.dispute")
def dispute_release(request: HttpRequest, pk: int) -> HttpResponse:
    hold = get_object_or_404(DisputeHold, pk=pk)
    require(request.user, "trust.dispute", hold)
    service_action(
        request,
        lambda: services.dispute_hold_release(
            hold=hold, actor=staff(request), now=clock.now(), note=request.POST.get("note", "")
        ),
        "Dispute released.",
    )
    return redirect("trust:matter", hold.matter_id)


@require_POST
@capability_required("trust.settings")
def threshold_set(request: HttpRequest, pk: int) -> HttpResponse:
    matter = get_object_or_404(Matter, pk=pk)
    form = ThresholdForm(request.POST)
    row = handle_form(
        request,
        form,
        lambda d: services.matter_threshold_set(
            matter=matter, threshold_cents=d["threshold"], actor=staff(request), now=clock.now()
        ),
    )
    if row is None:
        return _matter_page(request, matter, threshold_form=form)
    messages.success(request, "Low-balance threshold saved.")
    return redirect("trust:matter", pk)


@capability_required("trust.view")
def disbursement_list(request: HttpRequest) -> HttpResponse:
    visible = _visible_matters(request.user)
    queue = list(selectors.disbursement_queue().filter(matter__in=visible))
    return render(
        request,
        "trust/disbursements.html",
        {
            "queue": queue,
            # "Approved by you" replaces the button for an approver who already gave theirs.
            "approved_by_me": {
                d.pk
                for d in queue
                if any(a.approver_id == request.user.pk for a in d.approvals.all())
            },
            "recent": selectors.disbursement_list()
            .filter(matter__in=visible)
            .exclude(status__in=["REQUESTED", "APPROVED"])[:50],
        },
    )


@capability_required("trust.disburse.request")
def disbursement_new(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    if request.GET.get("matter", "").isdigit():
        initial["matter"] = request.GET["matter"]
    form = DisbursementForm(request.POST or None, initial=initial)

    def call(d: dict[str, Any]) -> Disbursement:
        require(request.user, "trust.disburse.request", d["matter"])
        return services.disbursement_request(
            matter=d["matter"],
            payee=d["payee"],
            amount_cents=d["amount"],
            purpose=d["purpose"],
            method=d["method"],
            reference=d["reference"],
            memo=d["memo"],
            trust_account=d["trust_account"],
            fee_code=d.get("fee_code") or "",
            actor=staff(request),
            now=clock.now(),
        )

    disbursement = handle_form(request, form, call)
    if disbursement is not None:
        messages.success(
            request,
            f"Disbursement {disbursement.number} requested; it needs "
            f"{disbursement.required_approvals} lawyer approval(s).",
        )
        return redirect("trust:disbursements")
    return render(
        request,
        "trust/form.html",
        {"form": form, "title": "Request disbursement from trust", "submit": "Request"},
    )


@require_POST
@capability_required("trust.disburse.approve")
def disbursement_approve(request: HttpRequest, pk: int) -> HttpResponse:
    disbursement = get_object_or_404(Disbursement, pk=pk)
    require(request.user, "trust.disburse.approve", disbursement)
    # Approve, then pay out when this approval completes them (one service). A refusal to
    # approve is the error banner; a refusal to post keeps the approval and is a warning.
    outcome = service_action(
        request,
        lambda: services.disbursement_approve_and_post(
            disbursement=disbursement, approver=staff(request), now=clock.now()
        ),
        _approval_text,
    )
    if outcome is not None and outcome.post_refused:
        messages.warning(
            request,
            f"{disbursement.number} not paid out of trust yet: {banner_text(outcome.post_refused)}",
        )
    return redirect("trust:disbursements")


def _approval_text(outcome: services.ApprovalOutcome) -> str:
    number = outcome.disbursement.number
    if outcome.posted:
        return f"{number} approved and paid out of trust."
    if outcome.post_refused:
        return f"{number} approved."
    return f"Approval recorded; {number} needs another lawyer's approval."


@require_POST
@capability_required("trust.disburse.post")
def disbursement_post(request: HttpRequest, pk: int) -> HttpResponse:
    disbursement = get_object_or_404(Disbursement, pk=pk)
    require(request.user, "trust.disburse.post", disbursement)
    service_action(
        request,
        lambda: services.disbursement_post(
            disbursement=disbursement, actor=staff(request), now=clock.now()
        ),
        f"{disbursement.number} paid out of trust.",
    )
    return redirect("trust:disbursements")


@require_POST
@capability_required("trust.disburse.request")
def disbursement_reject(request: HttpRequest, pk: int) -> HttpResponse:
    disbursement = get_object_or_404(Disbursement, pk=pk)
    require(request.user, "trust.disburse.request", disbursement)
    service_action(
        request,
        lambda: services.disbursement_reject(
            disbursement=disbursement,
            actor=staff(request),
            now=clock.now(),
            note=request.POST.get("note", ""),
        ),
        f"{disbursement.number} rejected; nothing moved.",
    )
    return redirect("trust:disbursements")


@capability_required("trust.apply")
def apply_to_invoice(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """ "Apply trust" from the invoice page: earned fees from the matter's cleared trust."""
    invoice = get_object_or_404(Invoice.objects.select_related("client", "matter"), pk=invoice_id)
    require(request.user, "trust.apply", invoice.matter)
    form = ApplyTrustForm(request.POST or None)
    transfer = handle_form(
        request,
        form,
        lambda d: services.trust_apply_to_invoice(
            invoice=invoice,
            amount_cents=d["amount"],
            trust_account=d["trust_account"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if transfer is not None:
        messages.success(request, f"Trust applied to {invoice}.")
        return redirect("trust:matter", transfer.matter_id)
    return render(
        request,
        "trust/apply.html",
        {
            "invoice": invoice,
            "form": form,
            "balance_due": invoice_balance_due(invoice),
            "position": selectors.trust_position(invoice.matter, clock.firm_today()),
        },
    )


@capability_required("trust.settings")
def settings_edit(request: HttpRequest) -> HttpResponse:
    row = selectors.trust_settings_get()
    form = TrustSettingsForm(
        request.POST or None,
        initial={
            "low_balance_threshold": row.low_balance_threshold_cents,
            "auto_replenish": row.auto_replenish,
            "check_clear_days": row.check_clear_days,
            "ach_clear_days": row.ach_clear_days,
            "wire_clear_days": row.wire_clear_days,
            "cash_clear_days": row.cash_clear_days,
            "processor_nets_fee": row.processor_nets_fee,
            "disbursement_expiry_days": row.disbursement_expiry_days,
        },
    )
    saved = handle_form(
        request,
        form,
        lambda d: services.trust_settings_update(
            actor=staff(request),
            now=clock.now(),
            low_balance_threshold_cents=d["low_balance_threshold"],
            auto_replenish=d["auto_replenish"],
            check_clear_days=d["check_clear_days"],
            ach_clear_days=d["ach_clear_days"],
            wire_clear_days=d["wire_clear_days"],
            cash_clear_days=d["cash_clear_days"],
            processor_nets_fee=d["processor_nets_fee"],
            disbursement_expiry_days=d["disbursement_expiry_days"],
        ),
    )
    if saved is not None:
        messages.success(request, "Trust settings saved.")
        return redirect("trust:settings")
    return render(
        request,
        "trust/form.html",
        {"form": form, "title": "Trust settings", "submit": "Save"},
    )
