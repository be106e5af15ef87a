"""The portal on the staff pages: who has a portal login on the client page (and the buttons to
invite the person or a company's contacts), and the matter's message thread with the client on
the matter page, with a reply form."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from caseledger.clients.choices import ClientKind
from caseledger.core.panels import PagePanel, PanelScope
from caseledger.portal import selectors
from caseledger.portal.forms import BeneficiaryInviteForm, StaffMessageForm


def _access_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    client = scope.client
    users = list(client.portal_users.order_by("username", "id"))
    taken = {u.username.lower() for u in users}
    contacts = (
        [c for c in client.contacts.order_by("name", "id") if c.email]
        if client.kind == ClientKind.COMPANY
        else []
    )
    return {
        "authorizations": selectors.authorizations_for_client(client),
        "client": client,
        "portal_users": users,
        "invitable_contacts": [c for c in contacts if c.email.lower() not in taken],
        # A person client is one person: once they have a login, nobody else is invited.
        "person_invitable": client.kind == ClientKind.PERSON and bool(client.email) and not users,
    }


def _messages_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    assert scope.matter is not None
    return {
        "matter": scope.matter,
        "thread": list(selectors.thread(scope.matter)),
        "reply_form": StaffMessageForm(auto_id="portal-reply-%s"),
    }


def _beneficiary_context(request: HttpRequest, scope: PanelScope) -> dict[str, Any]:
    """The beneficiary's own portal login on a company client's matter: who has one, or the
    form to invite them (their cases only; never the employer's invoices or trust)."""
    matter = scope.matter
    assert matter is not None
    beneficiary = matter.beneficiary
    corporate = matter.client.kind == ClientKind.COMPANY and beneficiary is not None
    users = list(beneficiary.portal_users.order_by("username", "id")) if corporate else []
    form = None
    if corporate and not users:
        assert beneficiary is not None
        form = BeneficiaryInviteForm(
            initial={"email": beneficiary.email, "language": beneficiary.preferred_language},
            auto_id="beneficiary-invite-%s",
        )
    return {
        "matter": matter,
        "beneficiary": beneficiary,
        "corporate": corporate,
        "portal_users": users,
        "invite_form": form,
    }


PANELS = [
    PagePanel(
        key="portal.access",
        title="Client portal",
        template="portal/panels/access.html",
        capability="clients.view",
        context=_access_context,
        pages=("client",),
        order=90,
    ),
    PagePanel(
        key="portal.messages",
        title="Messages with the client",
        template="portal/panels/messages.html",
        capability="matters.view",
        context=_messages_context,
        pages=("matter",),
        order=95,
        wide=True,
    ),
    PagePanel(
        key="portal.beneficiary",
        title="Beneficiary's portal login",
        template="portal/panels/beneficiary.html",
        capability="matters.view",
        context=_beneficiary_context,
        pages=("matter",),
        order=96,
    ),
]
