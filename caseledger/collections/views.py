"""Collections pages: aging with drill-down, the work queue, policies, at-risk matters and holds,
and the collections history of one invoice. Views parse, call a service or selector, render."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caseledger.billing.models import Invoice
from caseledger.collections import selectors, services
from caseledger.collections.choices import ActivityKind, Channel
from caseledger.collections.forms import (
    ActivityForm,
    AgingForm,
    DisputeForm,
    HoldLiftForm,
    PlanForm,
    PolicyForm,
    ResolveForm,
)
from caseledger.collections.models import (
    CollectionHold,
    CollectionPolicy,
    InvoiceDispute,
    PaymentPlan,
    Reminder,
)
from caseledger.collections.services.delivery import reminder_retry
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.amounts import parse_cents
from caseledger.core.choices import OutboxStatus
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import banner_text, handle_form
from caseledger.core.paging import CountedPaginator
from caseledger.core.permissions import authorize, capability_required

# The queue page previews today's run: at most this many steps, found in at most this many open
# invoices (the first by invoice id), so the page costs the same at any size of the books;
# ``manage.py run_collections --dry-run`` lists them all.
QUEUE_PLAN_ROWS = 100
QUEUE_CHECK_INVOICES = 2_000
PAGE_ROWS = 50  # rows per page of the aging report and its drill-down


def _page_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _csv(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _aging_params(request: HttpRequest) -> tuple[date, str]:
    form = AgingForm(request.GET or None)
    as_of, group = clock.firm_today(), "client"
    if form.is_valid():
        as_of = form.cleaned_data["as_of"] or as_of
        group = form.cleaned_data["group"] or group
    return as_of, group


@capability_required("collections.view")
def aging(request: HttpRequest) -> HttpResponse:
    as_of, group = _aging_params(request)
    if request.GET.get("format") == "csv":
        report = selectors.aging_report(as_of=as_of, group=group)
        return _csv(selectors.aging_csv(report), f"aging-by-{group}-{as_of}.csv")
    rows = selectors.aging_rows(as_of=as_of, group=group)
    # The asked-for page, the row count and the totals in one grouped query (``read_window``);
    # a page number out of range falls back to the Paginator's own reads.
    number = request.GET.get("page") or "1"
    if number.isdigit() and int(number) >= 1:
        rows.read_window((int(number) - 1) * PAGE_ROWS, PAGE_ROWS)
    page: Page[Any] = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    totals = rows.totals if rows.totals is not None else selectors.aging_totals(as_of=as_of)
    return render(
        request,
        "collections/aging.html",
        {
            "page": page,
            "query": _page_query(request),
            "totals": totals,
            "total": sum(totals.values()),
            "as_of": as_of,
            "group": group,
            # Each row's drill-down link starts with this (then &key=, &bucket=).
            "drill": reverse("collections:aging_invoices")
            + "?"
            + urlencode({"as_of": as_of.isoformat(), "group": group}),
            "groups": list(selectors.GROUP_LABELS.items()),
            "group_label": selectors.GROUP_LABELS[group],
            "buckets": [(b, selectors.BUCKET_LABELS[b]) for b in selectors.BUCKETS],
        },
    )


@capability_required("collections.view")
def aging_invoices(request: HttpRequest) -> HttpResponse:
    as_of, group = _aging_params(request)
    raw_key = request.GET.get("key", "")
    key: Any = None
    if raw_key not in {"", "none"}:
        key = int(raw_key) if raw_key.isdigit() else None
    bucket = request.GET.get("bucket") or None
    if bucket not in selectors.BUCKETS:
        bucket = None
    use_group = group if "key" in request.GET else None
    if request.GET.get("format") == "csv":
        rows = selectors.aging_invoices(as_of=as_of, group=use_group, key=key, bucket=bucket)
        return _csv(selectors.aging_invoices_csv(rows), f"aging-invoices-{as_of}.csv")
    query = selectors.aging_invoices_query(as_of=as_of, group=use_group, key=key, bucket=bucket)
    count = selectors.aging_invoices_count(as_of=as_of, group=use_group, key=key, bucket=bucket)
    page = CountedPaginator(query, PAGE_ROWS, count=count).get_page(request.GET.get("page"))
    csv_query = request.GET.copy()
    csv_query.pop("page", None)
    csv_query["format"] = "csv"
    return render(
        request,
        "collections/aging_invoices.html",
        {
            "page": page,
            "rows": selectors.aging_invoice_rows(page.object_list, as_of=as_of),
            "as_of": as_of,
            "bucket_label": selectors.BUCKET_LABELS.get(bucket or "", "All buckets"),
            "total": selectors.aging_invoices_total(
                as_of=as_of, group=use_group, key=key, bucket=bucket
            ),
            "labels": selectors.BUCKET_LABELS,
            "query": _page_query(request),
            "csv_query": csv_query.urlencode(),
        },
    )


@capability_required("collections.view")
def queue(request: HttpRequest) -> HttpResponse:
    today = clock.firm_today()
    latest = selectors.run_latest()
    did = list(selectors.reminders_for_run(latest)[:500]) if latest else []
    plan = services.collections_run(
        run_date=today,
        now=clock.now(),
        dry_run=True,
        max_steps=QUEUE_PLAN_ROWS,
        max_invoices=QUEUE_CHECK_INVOICES,
    )
    return render(
        request,
        "collections/queue.html",
        {
            "today": today,
            "latest": latest,
            "runs": selectors.run_list(10),
            "did": did,
            "plan": plan.steps[:QUEUE_PLAN_ROWS],
            "plan_count": len(plan.steps),
            "plan_truncated": not plan.complete,
            "plan_checked": plan.stats["invoices"],
            "letters": list(selectors.reminders_letters_ready()[:200]),
            "failed": selectors.reminder_emails_failed(),
            "holds": list(selectors.holds_active()),
        },
    )


@require_POST
@capability_required("collections.run")
def run_now(request: HttpRequest) -> HttpResponse:
    result = services.collections_run(run_date=clock.firm_today(), now=clock.now())
    stats = result.stats
    messages.success(
        request,
        f"Collections run done: {stats['scheduled']} steps scheduled, {stats['emails_sent']} "
        f"emails sent, {stats['suppressed']} suppressed, {stats['excluded']} excluded.",
    )
    return redirect("collections:queue")


@require_POST
@capability_required("collections.work")
def reminder_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    reminder = get_object_or_404(Reminder, pk=pk)
    # Not service_action: the retry sends the email now (outside a transaction of the view's),
    # and its outcome has three levels: sent, failed again (an error), queued.
    try:
        message = reminder_retry(reminder_id=reminder.pk, actor=staff(request), now=clock.now())
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
    else:
        if message.status == OutboxStatus.SENT:
            messages.success(request, "Reminder sent.")
        elif message.status in {OutboxStatus.FAILED, OutboxStatus.DEAD}:
            messages.error(request, f"Reminder failed again: {message.last_error}")
        else:
            messages.success(request, "Reminder queued to be sent again.")
    return redirect("collections:queue")


@capability_required("collections.view")
def letter_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from caseledger.collections.pdf import render_reminder_letter

    reminder = get_object_or_404(
        Reminder.objects.select_related("invoice", "invoice__client", "stage"),
        pk=pk,
        channel=Channel.LETTER,
    )
    response = HttpResponse(render_reminder_letter(reminder), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="reminder-{reminder.invoice.number}-{reminder.stage.code}.pdf"'
    )
    return response


@capability_required("collections.policies")
def policies(request: HttpRequest) -> HttpResponse:
    return render(request, "collections/policies.html", {"policies": selectors.policy_list()})


@capability_required("collections.policies")
def policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = get_object_or_404(CollectionPolicy, pk=pk) if pk else None
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(policy))
    saved = handle_form(
        request,
        form,
        lambda d: services.policy_save(
            policy=policy,
            name=d["name"],
            client_type=d["client_type"],
            stages=form.stages(),
            exclude_payment_plan=d["exclude_payment_plan"],
            exclude_dispute=d["exclude_dispute"],
            exclude_trust_covered=d["exclude_trust_covered"],
            at_risk_days=d["at_risk_days"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if saved is not None:
        messages.success(request, f"Policy {saved.name} saved.")
        return redirect("collections:policies")
    return render(request, "collections/policy_form.html", {"form": form, "policy": policy})


@capability_required("collections.at_risk")
def at_risk(request: HttpRequest) -> HttpResponse:
    matters = None
    if not authorize(request.user, "collections.view"):
        from caseledger.matters.selectors import matters_visible_to

        matters = matters_visible_to(request.user)
    return render(
        request,
        "collections/at_risk.html",
        {
            "rows": list(selectors.at_risk_list(matters=matters)),
            "holds": list(selectors.holds_active()),
            "lift_form": HoldLiftForm(),
        },
    )


@require_POST
@capability_required("collections.hold_lift")
def hold_lift(request: HttpRequest, pk: int) -> HttpResponse:
    hold = get_object_or_404(CollectionHold, pk=pk)
    service_action(
        request,
        lambda: services.collection_hold_lift(
            hold=hold,
            actor=staff(request),
            reason=request.POST.get("reason", ""),
            now=clock.now(),
        ),
        f"Hold on {hold.matter} lifted.",
    )
    return redirect(request.POST.get("next") or "collections:at_risk")


@capability_required("collections.view")
def invoice_history(request: HttpRequest, pk: int) -> HttpResponse:
    return _history_page(request, pk)


def _history_page(request: HttpRequest, pk: int, **bound: Any) -> HttpResponse:
    """The invoice's collection page; ``bound`` holds a form sent back with its errors."""
    invoice = get_object_or_404(Invoice.objects.select_related("client", "matter"), pk=pk)
    from caseledger.collections import integration

    try:
        balance = integration.invoice_balance_due(invoice)
    except Exception:  # noqa: BLE001 - no settlement row yet: nothing received
        balance = invoice.total_cents
    return render(
        request,
        "collections/invoice_history.html",
        {
            "invoice": invoice,
            "balance": balance,
            "items": selectors.invoice_collection_history(invoice),
            "activity_form": bound.get("activity_form") or ActivityForm(),
            "dispute_form": bound.get("dispute_form") or DisputeForm(),
            "resolve_form": bound.get("resolve_form") or ResolveForm(),
            "plan_form": bound.get("plan_form") or PlanForm(),
            "open_dispute": InvoiceDispute.objects.filter(
                invoice=invoice, resolved_at__isnull=True
            ).first(),
            "active_plan": PaymentPlan.objects.filter(
                invoice=invoice, cancelled_at__isnull=True
            ).first(),
        },
    )


def _back(pk: int) -> HttpResponse:
    return redirect("collections:invoice_history", pk=pk)


@require_POST
@capability_required("collections.work")
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    form = ActivityForm(request.POST)
    done = handle_form(
        request,
        form,
        lambda d: services.activity_record(
            invoice=invoice,
            kind=d["kind"],
            note=d["note"],
            promised_date=d["promised_date"],
            promised_cents=(
                parse_cents(
                    d["promised_amount"], field="promised_amount", currency=invoice.currency
                )
                if d["promised_amount"].strip()
                else None
            ),
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if done is None:
        return _history_page(request, pk, activity_form=form)
    messages.success(request, f"{ActivityKind(form.cleaned_data['kind']).label} recorded.")
    return _back(pk)


@require_POST
@capability_required("collections.work")
def dispute_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    service_action(
        request,
        lambda: services.dispute_open(
            invoice=invoice,
            reason=request.POST.get("reason", ""),
            actor=staff(request),
            now=clock.now(),
        ),
        "Dispute opened: reminders pause while it is open.",
    )
    return _back(pk)


@require_POST
@capability_required("collections.work")
def dispute_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = get_object_or_404(InvoiceDispute, pk=pk)
    service_action(
        request,
        lambda: services.dispute_resolve(
            dispute=dispute,
            resolution=request.POST.get("resolution", ""),
            actor=staff(request),
            now=clock.now(),
        ),
        "Dispute resolved.",
    )
    return _back(dispute.invoice_id)


@require_POST
@capability_required("collections.work")
def plan_create(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    form = PlanForm(request.POST)
    plan = handle_form(
        request,
        form,
        lambda d: services.payment_plan_create(
            invoice=invoice,
            installment_cents=parse_cents(
                d["installment"], field="installment", currency=invoice.currency
            ),
            first_due_date=d["first_due_date"],
            interval_days=d["interval_days"],
            actor=staff(request),
            now=clock.now(),
        ),
    )
    if plan is None:
        return _history_page(request, pk, plan_form=form)
    messages.success(request, "Payment plan recorded.")
    return _back(pk)


@require_POST
@capability_required("collections.work")
def plan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(PaymentPlan, pk=pk)
    service_action(
        request,
        lambda: services.payment_plan_cancel(plan=plan, actor=staff(request), now=clock.now()),
        "Payment plan cancelled.",
    )
    return _back(plan.invoice_id)
