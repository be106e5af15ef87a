"""A-numbers as USCIS writes them: 7, 8 or 9 digits, any separators, one person, one value."""

from __future__ import annotations

import hashlib
import hmac
import importlib

import pytest
from django.apps import apps as django_apps

from caseledger.clients import selectors, services
from caseledger.clients.exceptions import ClientError
from caseledger.clients.models import Beneficiary, Client
from caseledger.clients.tests.factories import make_beneficiary, make_company, make_person
from caseledger.core import crypto

MIGRATION = "caseledger.clients.migrations.0005_online_account_a_number_nine_digits"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"),
    [("A1234567", "A001234567"), ("A12345678", "A012345678"), ("A123456789", "A123456789")],
)
def test_seven_eight_and_nine_digits_are_stored_as_nine(typed, stored):
    client = make_person(a_number=typed)
    fresh = Client.objects.get(pk=client.pk)
    assert fresh.a_number == stored
    assert fresh.a_number_hash == crypto.lookup_hash(stored)


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["A12345678", "A012345678", "A-012-345-678", "a 012 345 678"])
def test_every_spelling_finds_the_same_person(users, typed):
    person = make_person(a_number="A012345678")
    found = selectors.client_list(user=users["PARTNER"], search=typed)
    assert [c.pk for c in found] == [person.pk]


@pytest.mark.django_db
def test_duplicate_check_finds_the_number_on_a_beneficiary_typed_differently():
    employer = make_company()
    make_beneficiary(client=employer, a_number="A-012-345-678")
    # the same person is now entered as a private client, the number written without the zero
    duplicates = selectors.client_possible_duplicates(name="Someone Else", a_number="A12345678")
    assert [c.pk for c in duplicates] == [employer.pk]
    person = make_person(a_number="A012345678")
    duplicates = selectors.client_possible_duplicates(name="X", a_number="A-12345678")
    assert [c.pk for c in duplicates] == [employer.pk, person.pk]
    assert selectors.client_possible_duplicates(name="X", a_number="A99999999") == []


@pytest.mark.django_db
def test_online_account_number_is_its_own_field(now):
    person = make_person(a_number="A12345678", uscis_online_account_number="0123-4567-8901")
    fresh = Client.objects.get(pk=person.pk)
    assert fresh.uscis_online_account_number == "012345678901"
    assert fresh.a_number == "A012345678"
    beneficiary = make_beneficiary(uscis_online_account_number="987654321098")
    assert Beneficiary.objects.get(pk=beneficiary.pk).uscis_online_account_number == (
        "987654321098"
    )
    with pytest.raises(ClientError, match=r"^uscis_online_account_number: must be 12 digits"):
        services.client_update(
            client=fresh, actor=None, now=now, uscis_online_account_number="12345"
        )
    with pytest.raises(ClientError, match=r"^uscis_online_account_number: only a person"):
        make_company(uscis_online_account_number="012345678901")


@pytest.mark.django_db
def test_data_migration_renormalises_and_rehashes_stored_numbers():
    person = make_person(a_number="A012345678")
    beneficiary = make_beneficiary(a_number="A123456789")
    # Rows written before the rule: eight digits, hashed as typed.
    old = "A12345678"
    Client.objects.filter(pk=person.pk).update(a_number=old, a_number_hash=crypto.lookup_hash(old))
    stale = Client.objects.get(pk=person.pk)
    assert stale.a_number == old
    migration = importlib.import_module(MIGRATION)
    migration.renormalize_a_numbers(django_apps, None)
    fresh = Client.objects.get(pk=person.pk)
    assert fresh.a_number == "A012345678"
    expected = hmac.new(crypto.hash_key(), b"A012345678", hashlib.sha256).hexdigest()
    assert fresh.a_number_hash == expected == crypto.lookup_hash("A012345678")
    untouched = Beneficiary.objects.get(pk=beneficiary.pk)
    assert untouched.a_number == "A123456789"
    # running it again changes nothing
    migration.renormalize_a_numbers(django_apps, None)
    assert Client.objects.get(pk=person.pk).a_number_hash == expected
