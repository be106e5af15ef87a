"""Portal pages. Each client page is behind ``portal.view`` (client users only) and reads through
``portal.selectors``, which start from the user's own clients: another client's id is a 404.
Pages render in the client's language (``Client.preferred_language``: English or Spanish)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caseledger.clients import services as client_services
from caseledger.clients.choices import ClientKind
from caseledger.clients.models import Client, Contact
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import banner_text, handle_form
from caseledger.core.permissions import capability_required, require
from caseledger.core.selectors import firm_get
from caseledger.matters.models import Matter
from caseledger.portal import selectors, services
from caseledger.portal.forms import (
    BeneficiaryInviteForm,
    LanguageForm,
    MessageForm,
    StaffMessageForm,
    StatementForm,
)

View = Callable[..., HttpResponse]


def portal_page(view: View) -> View:
    """Client users only; the page (and its messages) in the client's language."""

    @capability_required("portal.view")
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = services.portal_user_language(request.user)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapper


def account_page(view: View) -> View:
    """A page of the client's account (invoices, payments, trust, credits): a portal page that
    a beneficiary's login (which acts for no client) is refused with 403."""

    @portal_page
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if selectors.is_beneficiary_only(request.user):
            raise PermissionDenied(BENEFICIARY_REFUSED)
        return view(request, *args, **kwargs)

    return wrapper


BENEFICIARY_REFUSED = "portal: a beneficiary's login sees their own case, not the client's account"


def granted_page(view: View) -> View:
    """An account page (invoices, their PDFs and payment, the trust balance) that a
    beneficiary's login opens once the company granted it (``Beneficiary.account_access_granted``),
    showing their own matters' objects only; refused with 403 otherwise, as ``account_page``."""

    @portal_page
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if selectors.is_beneficiary_only(user) and not selectors.account_granted(user):
            raise PermissionDenied(BENEFICIARY_REFUSED)
        return view(request, *args, **kwargs)

    return wrapper


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    clients = selectors.portal_clients(request.user)
    base = {
        "firm": firm_get(),
        "portal_clients": clients,
        "portal_client": clients[0] if clients else None,
        # A beneficiary's login: the case pages only (no invoices, trust or credits).
        "portal_beneficiary_only": not clients and selectors.is_beneficiary_only(request.user),
        # ... whose company granted them their own matters' invoices and trust balance.
        "portal_account_granted": not clients and selectors.account_granted(request.user),
        "portal_company": any(c.kind == ClientKind.COMPANY for c in clients),
        "language_form": LanguageForm(initial={"language": translation.get_language() or "en"}),
    }
    return render(request, template, {**base, **context})


@portal_page
def home(request: HttpRequest) -> HttpResponse:
    if selectors.is_beneficiary_only(request.user):
        return _page(
            request,
            "portal/home.html",
            {
                "matters": selectors.case_list(request.user),
                "tasks": list(selectors.client_tasks_open(request.user)[:10]),
                "section": "cases",
            },
        )
    due, open_invoices = selectors.balance_due(request.user)
    return _page(
        request,
        "portal/home.html",
        {
            "matters": selectors.case_list(request.user),
            "balance_due_cents": due,
            "open_invoices": open_invoices,
            "trust_cents": selectors.trust_held(request.user),
            "tasks": list(selectors.client_tasks_open(request.user)[:10]),
            "section": "cases",
        },
    )


@portal_page
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    matter = selectors.matter_of(request.user, pk)
    return _page(request, "portal/case_detail.html", _case_context(request, matter, MessageForm()))


def _case_context(request: HttpRequest, matter: Matter, form: MessageForm) -> dict[str, Any]:
    """The case page: the message thread only for the client's own users (not a beneficiary)."""
    from caseledger.matters.documents import DOCUMENT_LINK_MINUTES

    with_thread = selectors.thread_visible(request.user, matter)
    return {
        "case": selectors.case_view(matter),
        "matter": matter,
        "with_thread": with_thread,
        "thread": list(selectors.thread(matter)) if with_thread else [],
        "documents": selectors.shared_documents(request.user, matter, clock.now()),
        "link_minutes": DOCUMENT_LINK_MINUTES,
        "form": form,
        "section": "cases",
    }


@portal_page
def document_download(request: HttpRequest, token: str) -> HttpResponse:
    """A document the firm shared on one of the client's matters, through the signed link on the
    case page: made for this user, valid for a few minutes, and the document must still be
    shared on a matter of theirs (404 otherwise). An altered or another user's link answers 403,
    a stale one 410, each with a page that says what to do."""
    from caseledger.matters import documents

    try:
        pk = documents.document_id_from_token(token=token, user=request.user)
    except documents.DocumentLinkError as exc:
        expired = isinstance(exc, documents.DocumentLinkExpired)
        status = 410 if expired else 403
        response = _page(
            request,
            "portal/document_link_error.html",
            {
                "expired": expired,
                "link_minutes": documents.DOCUMENT_LINK_MINUTES,
                "section": "cases",
            },
        )
        response.status_code = status
        return response
    document = selectors.shared_document_of(request.user, pk)
    response = documents.document_response(document)
    services.portal_download_recorded(
        user=staff(request),
        obj=document,
        what="document",
        now=clock.now(),
    )
    return response


@portal_page
@require_POST
def message_post(request: HttpRequest, pk: int) -> HttpResponse:
    matter = selectors.matter_of(request.user, pk)
    if not selectors.thread_visible(request.user, matter):
        raise PermissionDenied(BENEFICIARY_REFUSED)
    form = MessageForm(request.POST)
    done = handle_form(
        request,
        form,
        lambda data: services.portal_message_post(
            matter=matter,
            author=staff(request),
            body=data["body"],
            now=clock.now(),
        ),
    )
    if done is not None:
        messages.success(request, _("Message sent. The firm has been notified."))
        return redirect(reverse("portal:case_detail", args=[matter.pk]) + "#messages")
    return _page(request, "portal/case_detail.html", _case_context(request, matter, form))


@granted_page
def invoices(request: HttpRequest) -> HttpResponse:
    today = clock.firm_today()
    rows = selectors.invoice_rows(request.user, today)
    return _page(
        request,
        "portal/invoices.html",
        {
            "rows": rows,
            "any_payable": any(r.payable for r in rows),
            "payments": list(selectors.payments_of(request.user)[:50]),
            "returned": request.GET.get("checkout", ""),
            "section": "invoices",
        },
    )


@granted_page
@require_POST
def invoices_pay(request: HttpRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("invoice") if v.isdigit()]
    chosen = list(selectors.invoices_of(request.user).filter(pk__in=ids))
    if len(chosen) != len(set(ids)):
        raise Http404("No such invoice.")
    # Not service_action: the client leaves for the processor's page (no message), and a refusal
    # is shown in the client's language (_translated_refusal).
    try:
        session = services.portal_invoices_checkout(
            user=staff(request),
            invoices=chosen,
            now=clock.now(),
            return_url=reverse("portal:invoices"),
        )
    except ApplicationError as exc:
        messages.error(request, _translated_refusal(exc))
        return redirect("portal:invoices")
    return redirect(session.checkout_url)


def _translated_refusal(exc: ApplicationError) -> str:
    """The refusals a client can meet, in their language (the service's text names the rule in
    English for staff and logs)."""
    text = exc.message
    if text == services.PAY_NONE:
        return _("Choose at least one invoice to pay.")
    if text.startswith("invoices: too many"):
        return _("Too many payment attempts. Please try again in a few minutes.")
    if text.endswith("has nothing to pay"):
        return _("That invoice has nothing left to pay.")
    return banner_text(text)


@granted_page
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = selectors.invoice_of(request.user, pk)
    stored = getattr(invoice, "pdf", None)
    if stored is not None:
        content = bytes(stored.content)
    else:  # issued before PDFs were stored: drawn now from the frozen invoice
        from caseledger.billing.selectors import invoice_pdf_bytes

        content = invoice_pdf_bytes(invoice=invoice, payment_link="")
    services.portal_download_recorded(
        user=staff(request),
        obj=invoice,
        what="invoice_pdf",
        now=clock.now(),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.number}.pdf"'
    return response


@granted_page
def trust(request: HttpRequest) -> HttpResponse:
    today = clock.firm_today()
    positions = selectors.trust_positions(request.user, today)
    start = today.replace(day=1)
    form = StatementForm(initial={"date_from": start.isoformat(), "date_to": today.isoformat()})
    return _page(
        request,
        "portal/trust.html",
        {
            "positions": positions,
            "total_cents": sum(p.balance_cents for p in positions),
            "requests": list(selectors.trust_requests_open(request.user)),
            "form": form,
            "returned": request.GET.get("checkout", ""),
            "section": "trust",
        },
    )


@account_page
@require_POST
def trust_request_pay(request: HttpRequest, pk: int) -> HttpResponse:
    trust_request = selectors.trust_request_of(request.user, pk)
    # Not service_action: as in invoices_pay (the processor's page, or a translated refusal).
    try:
        session = services.portal_trust_request_checkout(
            user=staff(request),
            trust_request=trust_request,
            now=clock.now(),
            return_url=reverse("portal:trust"),
        )
    except ApplicationError as exc:
        messages.error(request, _translated_refusal(exc))
        return redirect("portal:trust")
    return redirect(session.checkout_url)


@account_page
def trust_statement(request: HttpRequest) -> HttpResponse:
    from caseledger.trust.pdf import statement_pdf

    client = selectors.clients_of(request.user).first()
    form = StatementForm(request.GET)
    if client is None or not form.is_valid():
        today = clock.firm_today()
        return _page(
            request,
            "portal/trust.html",
            {
                "positions": selectors.trust_positions(request.user, today),
                "requests": list(selectors.trust_requests_open(request.user)),
                "form": form,
                "section": "trust",
            },
        )
    start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    _opening, lines = selectors.statement_lines(client, start, end)
    body = statement_pdf(client, lines, end)
    services.portal_download_recorded(
        user=staff(request),
        obj=client,
        what="trust_statement",
        now=clock.now(),
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="trust-statement-{start.isoformat()}-{end.isoformat()}.pdf"'
    )
    return response


@account_page
def credits(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "portal/credits.html",
        {
            "notes": list(selectors.credit_notes_of(request.user)),
            "to_authorize": selectors.credit_notes_to_authorize(request.user),
            "refunds": list(selectors.refunds_of(request.user)),
            "section": "credits",
        },
    )


@account_page
@require_POST
def refund_authorize(request: HttpRequest, pk: int) -> HttpResponse:
    from caseledger.core.middleware import client_ip

    note = selectors.credit_note_to_authorize(request.user, pk)
    # Not service_action: any refusal is shown as one sentence in the client's language.
    try:
        services.portal_refund_authorize(
            user=staff(request),
            credit_note=note,
            now=clock.now(),
            ip=client_ip(request),
        )
    except ApplicationError:
        messages.error(request, _("This refund does not need your authorization."))
    else:
        messages.success(request, _("Thank you. The firm can now complete your refund."))
    return redirect("portal:credits")


@account_page
def beneficiaries(request: HttpRequest) -> HttpResponse:
    """A company contact's page of its beneficiaries: who has a portal login, and whether the
    company lets each see the invoices and trust balance of their own cases (a form each). A
    person client has no such page (their case's beneficiary is family, not an employee)."""
    if not any(c.kind == ClientKind.COMPANY for c in selectors.clients_of(request.user)):
        raise Http404("No beneficiaries page for a person client.")
    return _page(
        request,
        "portal/beneficiaries.html",
        {
            "beneficiaries": list(selectors.company_beneficiaries_of(request.user)),
            "section": "beneficiaries",
        },
    )


@account_page
@require_POST
def beneficiary_access(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = selectors.company_beneficiary_of(request.user, pk)
    granted = request.POST.get("granted") == "1"
    if granted:
        text = _("%(name)s now sees the invoices and trust balance of their own cases.")
    else:
        text = _("%(name)s no longer sees invoices or trust; they still follow their cases.")
    service_action(
        request,
        lambda: client_services.beneficiary_account_access_set(
            beneficiary=beneficiary, granted=granted, actor=staff(request), now=clock.now()
        ),
        text % {"name": beneficiary.name},
    )
    return redirect("portal:beneficiaries")


@portal_page
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if form.is_valid():
        services.portal_languages_set(
            user=staff(request), language=form.cleaned_data["language"], now=clock.now()
        )
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/portal/") else "portal:home")


# Staff side ----------------------------------------------------------------------------------


@capability_required("portal.invite")
@require_POST
def invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite a person client, or one contact of a company client, to the portal (from the
    client page's "Client portal" panel)."""
    client = get_object_or_404(Client, pk=pk)
    require(request.user, "clients.view", client)
    contact = None
    contact_id = request.POST.get("contact", "")
    if contact_id.isdigit():
        contact = get_object_or_404(Contact, pk=int(contact_id))
    service_action(
        request,
        lambda: services.portal_user_invite(
            client=client, contact=contact, actor=staff(request), now=clock.now()
        ),
        lambda user: f"Invitation sent to {user.email}.",
    )
    return redirect("clients:detail", pk=client.pk)


@capability_required("portal.invite")
@require_POST
def invite_beneficiary(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite the beneficiary of a company client's matter to the portal, to follow their own
    case (from the matter page's "Beneficiary's portal login" panel)."""
    matter = get_object_or_404(Matter.objects.select_related("client", "beneficiary"), pk=pk)
    require(request.user, "matters.view", matter)
    form = BeneficiaryInviteForm(request.POST)
    done = handle_form(
        request,
        form,
        lambda data: services.portal_beneficiary_invite(
            matter=matter,
            actor=staff(request),
            now=clock.now(),
            email=data["email"],
            language=data["language"],
        ),
    )
    if done is not None:
        messages.success(request, f"Invitation sent to {done.email}.")
    else:
        errors = [f"{e}" for errs in form.errors.values() for e in errs]
        messages.error(request, "Not invited: " + " ".join(errors))
    return redirect(reverse("matters:detail", args=[matter.pk]) + "#panel-portal-beneficiary")


@capability_required("portal.invite")
@require_POST
def staff_beneficiary_access(request: HttpRequest, pk: int) -> HttpResponse:
    """Firm staff grant or revoke the beneficiary of a company's matter the view of their own
    matters' invoices and trust (matter page, "Beneficiary's portal login" panel)."""
    matter = get_object_or_404(Matter.objects.select_related("client", "beneficiary"), pk=pk)
    require(request.user, "matters.view", matter)
    if matter.beneficiary is None:
        raise Http404("No beneficiary on this matter.")
    granted = request.POST.get("granted") == "1"
    beneficiary = matter.beneficiary
    service_action(
        request,
        lambda: client_services.beneficiary_account_access_set(
            beneficiary=beneficiary, granted=granted, actor=staff(request), now=clock.now()
        ),
        f"{beneficiary.name} now sees the invoices and trust of their own matters."
        if granted
        else f"{beneficiary.name} no longer sees invoices or trust.",
    )
    return redirect(reverse("matters:detail", args=[matter.pk]) + "#panel-portal-beneficiary")


@capability_required("portal.reply")
@require_POST
def staff_reply(request: HttpRequest, pk: int) -> HttpResponse:
    matter = get_object_or_404(Matter.objects.select_related("client"), pk=pk)
    require(request.user, "matters.view", matter)
    form = StaffMessageForm(request.POST)
    done = handle_form(
        request,
        form,
        lambda data: services.portal_message_post(
            matter=matter,
            author=staff(request),
            body=data["body"],
            now=clock.now(),
        ),
    )
    if done is not None:
        messages.success(request, "Reply sent to the client.")
    else:
        messages.error(request, "Write a message before sending.")
    return redirect(reverse("matters:detail", args=[matter.pk]) + "#panel-portal-messages")
