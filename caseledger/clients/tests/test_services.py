from __future__ import annotations

from datetime import date

import pytest

from caseledger.clients import selectors, services
from caseledger.clients.exceptions import ClientError
from caseledger.clients.models import Client
from caseledger.clients.tests.factories import make_beneficiary, make_company, make_person
from caseledger.core.exceptions import NotPermitted
from caseledger.core.models import AuditEvent


@pytest.mark.django_db
def test_create_person_with_pii_and_billing_preferences(users, now):
    client = services.client_create(
        actor=users["PARALEGAL"],
        now=now,
        name="Mei Lin",
        kind="PERSON",
        client_type="PRIVATE",
        email="Mei.Lin@Mail.example",
        a_number="a-123-456-789",
        date_of_birth=date(1991, 7, 9),
        payment_terms_days=15,
        preferred_language="zh",
        responsible_partner=users["PARTNER"],
    )
    client = Client.objects.get(pk=client.pk)
    assert client.email == "mei.lin@mail.example"
    assert client.a_number == "A123456789"
    assert client.a_number_masked == "•••••••789"
    assert client.payment_terms_days == 15
    event = AuditEvent.objects.get(action="clients.client_created")
    assert event.after["a_number"] == "(changed)"
    assert "123456789" not in str(event.after)


@pytest.mark.django_db
def test_company_cannot_hold_personal_identifiers(now):
    with pytest.raises(ClientError) as exc:
        services.client_create(
            actor=None,
            now=now,
            name="Acme Robotics Inc.",
            kind="COMPANY",
            client_type="CORPORATE",
            a_number="A12345678",
        )
    assert exc.value.message == (
        "a_number: only a person has personal identifiers; record them on the beneficiary, not on "
        "company Acme Robotics Inc."
    )
    assert Client.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("payment_terms_days", 400, "payment_terms_days: must be between 0 and 365 days (got 400)"),
        (
            "preferred_language",
            "xx",
            "preferred_language: must be one of en, es, zh, hi, pt, fr, ar, ru, vi, ko (got 'xx')",
        ),
        (
            "a_number",
            "A12",
            "a_number: must be 'A' followed by 7, 8 or 9 digits, e.g. A012345678 (got 'A12')",
        ),
        (
            "date_of_birth",
            date(2030, 1, 1),
            "date_of_birth: cannot be in the future (got 2030-01-01)",
        ),
        (
            "country",
            "XQ",
            "country: must be an ISO 3166 alpha-2 country code such as IN or MX (got 'XQ')",
        ),
    ],
)
def test_bad_input_messages(now, field, value, message):
    with pytest.raises(ClientError) as exc:
        services.client_create(
            actor=None,
            now=now,
            name="Jo Doe",
            kind="PERSON",
            client_type="PRIVATE",
            **{field: value},
        )
    assert exc.value.message == message
    assert exc.value.field == field


@pytest.mark.django_db
def test_responsible_partner_must_be_partner(users, now):
    with pytest.raises(ClientError) as exc:
        make_company(responsible_partner=users["ATTORNEY"])
    assert exc.value.field == "responsible_partner"


@pytest.mark.django_db
def test_duplicate_candidates_by_name_and_birth_date_or_email(now):
    existing = make_person(
        name="Carlos  Mendoza", date_of_birth=date(1985, 2, 1), email="cm@mail.example"
    )
    assert selectors.client_possible_duplicates(
        name="carlos mendoza", date_of_birth=date(1985, 2, 1)
    ) == [existing]
    assert (
        selectors.client_possible_duplicates(name="Carlos Mendoza", date_of_birth=date(1985, 2, 2))
        == []
    )
    assert selectors.client_possible_duplicates(name="Someone Else", email="CM@mail.example") == [
        existing
    ]
    assert (
        selectors.client_possible_duplicates(
            name="Carlos Mendoza", email="cm@mail.example", exclude_id=existing.pk
        )
        == []
    )


@pytest.mark.django_db
def test_update_records_changes_without_plaintext(users, now):
    client = make_person(a_number="A12345678")
    services.client_update(
        client=client, actor=users["PARTNER"], now=now, a_number="A87654321", city="Austin"
    )
    event = AuditEvent.objects.get(action="clients.client_updated")
    assert event.before == {"a_number": "(set)", "city": ""}
    assert event.after == {"a_number": "(changed)", "city": "Austin"}
    assert Client.objects.get(pk=client.pk).a_number == "A087654321"


@pytest.mark.django_db
def test_reveal_is_audited_and_limited_by_role(users, now):
    client = make_person(a_number="A12345678", ssn_itin="912701234")
    values = services.pii_reveal(obj=client, actor=users["PARTNER"], now=now)
    assert values == {"a_number": "A012345678", "ssn_itin": "912-70-1234"}
    event = AuditEvent.objects.get(action="clients.pii_revealed")
    assert event.after == {"fields": ["a_number", "ssn_itin"]}
    assert event.actor == users["PARTNER"]
    for role in ("PARALEGAL", "BILLING", "OPERATIONS"):
        with pytest.raises(NotPermitted):
            services.pii_reveal(obj=client, actor=users[role], now=now)
    # An attorney outside the client's team is refused too (object scope).
    with pytest.raises(NotPermitted):
        services.pii_reveal(obj=client, actor=users["ATTORNEY"], now=now)
    assert AuditEvent.objects.filter(action="clients.pii_revealed").count() == 1


@pytest.mark.django_db
def test_beneficiary_and_contacts(users, now):
    company = make_company(email="hr@northwind.example")
    assert selectors.client_billing_email(company) == "hr@northwind.example"
    services.contact_add(
        client=company,
        actor=None,
        now=now,
        name="Dana Ortiz",
        role="HR",
        email="dana@northwind.example",
    )
    services.contact_add(
        client=company,
        actor=None,
        now=now,
        name="Accounts",
        role="BILLING",
        email="AP@northwind.example",
    )
    assert selectors.client_billing_email(company) == "ap@northwind.example"
    beneficiary = make_beneficiary(
        client=company, passport_number="x1234567", passport_country="in"
    )
    assert (beneficiary.passport_number, beneficiary.passport_country) == ("X1234567", "IN")
    with pytest.raises(ClientError) as exc:
        services.contact_add(client=company, actor=None, now=now, name="X", role="BOSS")
    assert exc.value.field == "role"
