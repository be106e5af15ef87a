"""The firm's billing setup: the fee schedule (services, government fees, rates), government fee
advances, invoice templates and their triggers, and the billing settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from caseledger.billing import forms, selectors, services
from caseledger.billing.models import (
    BillingTrigger,
    FeePayerRule,
    GovernmentFee,
    HourlyRate,
    InvoiceTemplate,
    PayerRule,
    Service,
)
from caseledger.billing.views.common import selectors_currency
from caseledger.core import clock
from caseledger.core.actions import staff
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import (
    error_text,
    form_errors_tidy,
    handle_form,
    service_error_add,
)
from caseledger.core.money import Money
from caseledger.core.permissions import capability_required


@capability_required("billing.configure")
def fee_schedule(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    service_form = forms.ServiceForm(prefix="svc")
    fee_form = forms.GovernmentFeeForm(prefix="fee")
    rate_form = forms.RateForm(prefix="rate", user=staff(request))
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "service":
            service_form = forms.ServiceForm(request.POST, prefix="svc")
            if handle_form(
                request,
                service_form,
                lambda d: services.service_create(actor=staff(request), now=now, **d),
            ):
                messages.success(request, "Service added.")
                return redirect("billing:fee_schedule")
        elif which == "fee":
            fee_form = forms.GovernmentFeeForm(request.POST, prefix="fee")
            if handle_form(
                request,
                fee_form,
                lambda d: services.government_fee_add(actor=staff(request), now=now, **d),
            ):
                messages.success(request, "Government fee saved.")
                return redirect("billing:fee_schedule")
        elif which == "rate":
            rate_form = forms.RateForm(request.POST, prefix="rate", user=staff(request))
            if handle_form(
                request,
                rate_form,
                lambda d: services.hourly_rate_set(actor=staff(request), now=now, **d),
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


@capability_required("billing.edit")
def government_fees(request: HttpRequest) -> HttpResponse:
    """Government fees by how they are paid (ADR 011): advances not yet billed (1300), fees on
    drafts waiting for an advance (issue refuses them), and fees shown for information."""
    form = forms.FeeAdvanceForm(request.POST or None, user=staff(request))
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
                actor=staff(request),
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
            actor=staff(request),
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
                actor=staff(request),
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


def _template_initial(template: InvoiceTemplate) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What the template's edit form and its lines formset start from."""
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
    return initial, line_initial


@capability_required("billing.configure")
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(InvoiceTemplate.objects.select_related("service"), pk=pk)
    initial, line_initial = _template_initial(template)
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
                actor=staff(request),
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
        lambda d: services.billing_settings_update(actor=staff(request), now=clock.now(), **d),
    )
    if saved is not None:
        messages.success(request, "Billing settings saved.")
        return redirect("billing:templates")
    return _templates_page(request, settings_form=form)


@require_POST
@capability_required("billing.configure")
def trigger_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    trigger = get_object_or_404(BillingTrigger, pk=pk)
    services.trigger_deactivate(trigger=trigger, actor=staff(request), now=clock.now())
    messages.success(request, "Trigger removed.")
    return redirect("billing:templates")
