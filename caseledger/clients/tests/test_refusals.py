"""Every refusal of the clients services that no other test checked by its text: each is raised
with the message naming the field and the rule, and a refused call leaves clients, contacts,
beneficiaries and audit events as they were (``scripts/refusal_coverage.py`` lists them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.clients import services
from caseledger.clients.exceptions import ClientError
from caseledger.clients.models import Beneficiary, Client, Contact
from caseledger.clients.tests.factories import make_beneficiary, make_company, make_person
from caseledger.core.choices import Role
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _state() -> dict[str, Any]:
    return {
        "clients": list(Client.objects.values().order_by("id")),
        "contacts": list(Contact.objects.values().order_by("id")),
        "beneficiaries": list(Beneficiary.objects.values().order_by("id")),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., error=ClientError, **kwargs)``: the call raises ``error``
    matching ``match`` and changes nothing."""

    def check(
        call: Callable[..., Any],
        *,
        match: str,
        error: type[Exception] = ClientError,
        **kwargs: Any,
    ) -> None:
        before = _state()
        with pytest.raises(error, match=match):
            call(**kwargs)
        assert _state() == before

    return check


def test_client_create_refuses_each_bad_field_naming_it(users, now, refused):
    args = {"actor": users["ADMIN"], "now": now, "name": "Acme Corp"}
    company = {**args, "kind": "COMPANY", "client_type": "CORPORATE"}
    refused(
        services.client_create,
        match=r"^name: required$",
        **{**company, "name": "  "},
    )
    refused(
        services.client_create,
        match=r"^kind: must be PERSON or COMPANY \(got 'ROBOT'\)$",
        **{**company, "kind": "ROBOT"},
    )
    refused(
        services.client_create,
        match=r"^client_type: must be PRIVATE or CORPORATE \(got 'PUBLIC'\)$",
        **{**company, "client_type": "PUBLIC"},
    )
    refused(
        services.client_create,
        match=r"^intake_source: must be one of REFERRAL, WEBSITE, .* or empty \(got 'RADIO'\)$",
        intake_source="RADIO",
        **company,
    )
    refused(
        services.client_create,
        match=r"^payment_terms_days: must be between 0 and 365 days \(got 366\)$",
        payment_terms_days=366,
        **company,
    )
    refused(
        services.client_create,
        match=r"^preferred_language: must be one of en, es, zh, hi.* \(got 'xx'\)$",
        preferred_language="xx",
        **company,
    )
    refused(
        services.client_create,
        match=r"^employee_band: must be one of .+ or empty \(got 'HUGE'\)$",
        employee_band="HUGE",
        **company,
    )
    refused(
        services.client_create,
        match=r"^acwia_exemption: must be one of .+ or empty \(got 'CHURCH'\)$",
        acwia_exemption="CHURCH",
        **company,
    )
    refused(
        services.client_create,
        match=r"^responsible_partner: attorney is not a partner$",
        responsible_partner=users["ATTORNEY"],
        **company,
    )
    refused(
        services.client_create,
        match=r"^date_of_birth: cannot be before 1900-01-01 \(got 1899-12-31\)$",
        kind="PERSON",
        client_type="PRIVATE",
        date_of_birth=date(1899, 12, 31),
        **{**args, "name": "Ana Ribeiro"},
    )


def test_contacts_refuse_no_name_and_an_unknown_role(users, now, refused):
    client = make_company()
    args = {"client": client, "actor": users["ADMIN"], "now": now}
    refused(services.contact_add, match=r"^name: required$", name=" ", **args)
    refused(
        services.contact_add,
        match=r"^role: must be one of BILLING, HR, SIGNATORY, PRIMARY.* \(got 'CEO'\)$",
        name="Jane Roe",
        role="CEO",
        **args,
    )


def test_beneficiaries_refuse_no_name_an_unknown_relationship_and_language(users, now, refused):
    args = {"client": make_company(), "actor": users["ADMIN"], "now": now}
    refused(
        services.beneficiary_create,
        match=r"^name: required$",
        name="",
        relationship="EMPLOYEE",
        **args,
    )
    refused(
        services.beneficiary_create,
        match=r"^relationship: must be one of EMPLOYEE, SPOUSE, .* \(got 'COUSIN'\)$",
        name="Rahul Mehta",
        relationship="COUSIN",
        **args,
    )
    refused(
        services.beneficiary_create,
        match=r"^preferred_language: must be one of en, es, .* \(got 'klingon'\)$",
        name="Rahul Mehta",
        relationship="EMPLOYEE",
        preferred_language="klingon",
        **args,
    )


def test_account_access_refuses_a_stranger_and_a_person_clients_beneficiary(
    users, make_user, now, refused
):
    company = make_company(name="Acme Corp")
    employee = make_beneficiary(client=company, name="Rahul Mehta")
    outsider = make_user(role=Role.CLIENT)
    refused(
        services.beneficiary_account_access_set,
        match=(
            r"^beneficiary: only a portal contact of Acme Corp or the firm grants or revokes "
            r"Rahul Mehta's access to its invoices and trust$"
        ),
        error=NotPermitted,
        beneficiary=employee,
        granted=True,
        actor=outsider,
        now=now,
    )
    person = make_person(name="Lucía Gómez")
    spouse = make_beneficiary(client=person, name="Mateo Gómez", relationship="SPOUSE")
    refused(
        services.beneficiary_account_access_set,
        match=(
            r"^beneficiary: Mateo Gómez is a beneficiary of Lucía Gómez, a person client; only a "
            r"company client grants a beneficiary its invoices and trust$"
        ),
        beneficiary=spouse,
        granted=True,
        actor=users["ADMIN"],
        now=now,
    )


def test_revealing_a_client_without_identifiers_is_refused(users, now, refused):
    refused(
        services.pii_reveal,
        match=r"^fields: nothing to reveal$",
        obj=make_person(),
        actor=users["PARTNER"],
        now=now,
    )
