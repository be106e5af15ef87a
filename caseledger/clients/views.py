"""Client pages: list, detail (masked identifiers with an audited reveal), create/edit, contacts
and beneficiaries. Views parse input and call one service or selector."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from caseledger.clients import hooks, selectors, services
from caseledger.clients.choices import ClientKind, ClientType
from caseledger.clients.forms import BeneficiaryForm, ClientForm, ContactForm
from caseledger.clients.models import Beneficiary, Client, Contact
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import banner_text, handle_form
from caseledger.core.panels import PanelScope, panels_for_page
from caseledger.core.permissions import capability_required, require

PAGE_ROWS = 50


@capability_required("clients.view")
def client_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    client_type = request.GET.get("client_type", "")
    kind = request.GET.get("kind", "")
    qs = selectors.client_list(
        user=request.user,
        search=search,
        client_type=client_type if client_type in ClientType.values else "",
        kind=kind if kind in ClientKind.values else "",
    )
    # The list shows names, not the identity numbers (the API's list shows them masked).
    page = Paginator(selectors.without_pii(qs), PAGE_ROWS).get_page(request.GET.get("page"))
    page.object_list = hooks.clients_set_open_matters(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clients/client_list.html",
        {
            "page": page,
            "search": search,
            "client_type": client_type,
            "kind": kind,
            "client_types": ClientType.choices,
            "kinds": ClientKind.choices,
            "query": query.urlencode(),
        },
    )


def _client_for(request: HttpRequest, pk: int, capability: str = "clients.view") -> Client:
    client = get_object_or_404(Client.objects.select_related("responsible_partner"), pk=pk)
    require(request.user, capability, client)
    return client


def _detail_context(request: HttpRequest, client: Client, **extra: Any) -> dict[str, Any]:
    matters = hooks.client_matters(user=request.user, client=client)
    scope = PanelScope(
        page="client",
        client=client,
        matter=None,
        matter_ids=[m.pk for m in matters],
        today=clock.firm_today(),
        matters=matters,
    )
    return {
        "client": client,
        "panels": panels_for_page(request, scope),
        "contacts": client.contacts.order_by("role", "name", "id"),
        "beneficiaries": client.beneficiaries.order_by("name", "id"),
        "matters": matters,
        "billing_email": selectors.client_billing_email(client),
        "contact_form": extra.pop("contact_form", None) or ContactForm(),
        **extra,
    }


@capability_required("clients.view")
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_for(request, pk)
    return render(request, "clients/client_detail.html", _detail_context(request, client))


@require_POST
@capability_required("clients.reveal_pii")
def client_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_for(request, pk, "clients.reveal_pii")
    # Not service_action: a reveal shows the page with the values (no message, no redirect).
    try:
        revealed = services.pii_reveal(obj=client, actor=staff(request), now=clock.now())
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
        return redirect("clients:detail", pk=client.pk)
    return render(
        request,
        "clients/client_detail.html",
        _detail_context(request, client, revealed=revealed),
    )


def _duplicates_for(form: ClientForm, exclude_id: int | None = None) -> list[Client]:
    return selectors.client_possible_duplicates(
        name=form.cleaned_data["name"],
        email=form.cleaned_data.get("email") or "",
        date_of_birth=form.cleaned_data.get("date_of_birth"),
        a_number=form.cleaned_data.get("a_number") or "",
        exclude_id=exclude_id,
    )


@capability_required("clients.manage")
def client_create(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None)
    duplicates: list[Client] = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates_for(form)
        if duplicates and not form.cleaned_data.get("confirm_duplicate"):
            return render(
                request,
                "clients/client_form.html",
                {
                    "form": form,
                    "duplicates": duplicates,
                    "duplicate_field": [form["confirm_duplicate"]],
                    "creating": True,
                },
            )
    client = handle_form(
        request,
        form,
        lambda d: services.client_create(
            actor=staff(request),
            now=clock.now(),
            **form.service_values(),
        ),
    )
    if client is not None:
        messages.success(request, f"Client {client.name} created.")
        return redirect("clients:detail", pk=client.pk)
    return render(
        request, "clients/client_form.html", {"form": form, "duplicates": [], "creating": True}
    )


@capability_required("clients.manage")
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_for(request, pk, "clients.manage")
    initial = {
        name: getattr(client, name)
        for name in ClientForm.base_fields
        if name not in {*ClientForm.PII, "confirm_duplicate"}
    }
    form = ClientForm(request.POST or None, initial=initial)
    form.make_write_only()
    form.fields.pop("confirm_duplicate")
    saved = handle_form(
        request,
        form,
        lambda d: services.client_update(
            client=client,
            actor=staff(request),
            now=clock.now(),
            **form.service_values(editing=True),
        ),
    )
    if saved is not None:
        messages.success(request, "Client saved.")
        return redirect("clients:detail", pk=client.pk)
    return render(
        request, "clients/client_form.html", {"form": form, "client": client, "creating": False}
    )


@require_POST
@capability_required("clients.manage")
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_for(request, pk, "clients.manage")
    form = ContactForm(request.POST)
    contact = handle_form(
        request,
        form,
        lambda d: services.contact_add(
            client=client,
            actor=staff(request),
            now=clock.now(),
            **d,
        ),
    )
    if contact is not None:
        messages.success(request, "Contact added.")
        return redirect("clients:detail", pk=client.pk)
    return render(
        request,
        "clients/client_detail.html",
        _detail_context(request, client, contact_form=form),
        status=422,
    )


@require_POST
@capability_required("clients.manage")
def contact_remove(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    client = _client_for(request, pk, "clients.manage")
    contact = get_object_or_404(Contact, pk=contact_pk, client=client)
    service_action(
        request,
        lambda: services.contact_remove(contact=contact, actor=staff(request), now=clock.now()),
        f"Contact {contact.name} removed.",
    )
    return redirect("clients:detail", pk=client.pk)


@capability_required("clients.manage")
def beneficiary_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client_for(request, pk, "clients.manage")
    form = BeneficiaryForm(request.POST or None)
    beneficiary = handle_form(
        request,
        form,
        lambda d: services.beneficiary_create(
            client=client,
            actor=staff(request),
            now=clock.now(),
            **form.service_values(),
        ),
    )
    if beneficiary is not None:
        messages.success(request, f"Beneficiary {beneficiary.name} added.")
        return redirect("clients:detail", pk=client.pk)
    return render(
        request, "clients/beneficiary_form.html", {"form": form, "client": client, "creating": True}
    )


def _beneficiary_for(request: HttpRequest, pk: int, capability: str) -> Beneficiary:
    beneficiary = get_object_or_404(Beneficiary.objects.select_related("client"), pk=pk)
    require(request.user, capability, beneficiary.client)
    return beneficiary


@capability_required("clients.manage")
def beneficiary_edit(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = _beneficiary_for(request, pk, "clients.manage")
    initial = {
        "name": beneficiary.name,
        "relationship": beneficiary.relationship,
        "email": beneficiary.email,
        "passport_country": beneficiary.passport_country,
        "country_of_citizenship": beneficiary.country_of_citizenship,
    }
    form = BeneficiaryForm(request.POST or None, initial=initial)
    form.make_write_only()
    saved = handle_form(
        request,
        form,
        lambda d: services.beneficiary_update(
            beneficiary=beneficiary,
            actor=staff(request),
            now=clock.now(),
            **form.service_values(editing=True),
        ),
    )
    if saved is not None:
        messages.success(request, "Beneficiary saved.")
        return redirect("clients:detail", pk=beneficiary.client_id)
    return render(
        request,
        "clients/beneficiary_form.html",
        {"form": form, "client": beneficiary.client, "beneficiary": beneficiary, "creating": False},
    )


@require_POST
@capability_required("clients.reveal_pii")
def beneficiary_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = _beneficiary_for(request, pk, "clients.reveal_pii")
    client = beneficiary.client
    # Not service_action: as in client_reveal (the page with the values, no redirect).
    try:
        revealed = services.pii_reveal(obj=beneficiary, actor=staff(request), now=clock.now())
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
        return redirect("clients:detail", pk=client.pk)
    return render(
        request,
        "clients/client_detail.html",
        _detail_context(
            request, client, revealed_beneficiary=beneficiary, beneficiary_revealed=revealed
        ),
    )
