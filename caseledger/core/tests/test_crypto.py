from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from caseledger import config
from caseledger.clients.models import Client
from caseledger.clients.tests.factories import make_beneficiary, make_person
from caseledger.core import crypto
from caseledger.core.models import AuditEvent

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cur.fetchone()[0]


def test_round_trip_and_fresh_ciphertext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt("A123456789")
    assert "123456789" not in token
    assert crypto.decrypt(token) == "A123456789"
    assert crypto.encrypt("A123456789") != token  # random IV: equal values do not look equal


def test_lookup_hash_survives_adding_a_newer_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    before = crypto.lookup_hash("A123456789")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert crypto.lookup_hash("A123456789") == before
    settings.FIELD_HASH_KEY = "x" * 40
    assert crypto.lookup_hash("A123456789") != before


def test_short_hash_key_refused(settings):
    settings.FIELD_HASH_KEY = "short"
    with pytest.raises(ImproperlyConfigured) as exc:
        crypto.lookup_hash("A123456789")
    assert str(exc.value) == crypto.HASH_KEY_TOO_SHORT


@pytest.mark.django_db
def test_database_holds_no_plaintext_a_number(settings):
    client = make_person(
        a_number="A123456789",
        date_of_birth=date(1988, 4, 3),
        passport_number="Z1234567",
        passport_country="IN",
        ssn_itin="912-70-1234",
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT a_number, a_number_hash, passport_number, date_of_birth, ssn_itin "
            "FROM clients_client WHERE id = %s",
            [client.pk],
        )
        row = cur.fetchone()
    joined = "|".join(str(v) for v in row)
    for plaintext in ("123456789", "Z1234567", "1988-04-03", "912-70-1234", "9127"):
        assert plaintext not in joined
    # The ORM reads it back decrypted; search by the keyed hash finds it.
    fresh = Client.objects.get(pk=client.pk)
    assert fresh.a_number == "A123456789"
    assert fresh.date_of_birth == date(1988, 4, 3)
    assert Client.objects.filter(a_number_hash=crypto.lookup_hash("A123456789")).get() == client
    # No plaintext in the audit log either.
    for event in AuditEvent.objects.all():
        assert "123456789" not in str(event.after)
        assert "Z1234567" not in str(event.after)


@pytest.mark.django_db
def test_rotation_keeps_old_data_readable_then_reencrypts(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    client = make_person(a_number="A12345678", date_of_birth=date(1990, 1, 2))
    beneficiary = make_beneficiary(
        a_number="A87654321", passport_number="P998877", passport_country="MX"
    )
    old_token = _raw("clients_client", "a_number", client.pk)
    old_hash = Client.objects.get(pk=client.pk).a_number_hash

    # A new key goes in front: old rows are still readable.
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert Client.objects.get(pk=client.pk).a_number == "A012345678"

    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    new_token = _raw("clients_client", "a_number", client.pk)
    assert new_token != old_token
    Fernet(NEW.encode()).decrypt(new_token.encode())  # encrypted with the newest key
    Fernet(NEW.encode()).decrypt(
        _raw("clients_beneficiary", "passport_number", beneficiary.pk).encode()
    )
    Fernet(NEW.encode()).decrypt(_raw("clients_client", "date_of_birth", client.pk).encode())
    # The old key can go now; everything still reads, the lookup hash did not move.
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    settings.FIELD_HASH_KEY = ""
    fresh = Client.objects.get(pk=client.pk)
    assert fresh.a_number == "A012345678"
    assert fresh.date_of_birth == date(1990, 1, 2)
    assert AuditEvent.objects.filter(action="core.field_keys_rotated").count() >= 2
    # Retiring the oldest key moves the derived hash key: a second run rehashes (documented).
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    rehashed = Client.objects.get(pk=client.pk).a_number_hash
    assert rehashed == crypto.lookup_hash("A012345678")
    assert rehashed != old_hash


@pytest.mark.django_db
def test_unreadable_value_names_the_field(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    client = make_person(a_number="A12345678")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(ImproperlyConfigured) as exc:
        Client.objects.get(pk=client.pk)
    assert str(exc.value) == crypto.DECRYPT_FAILED.format(field="a_number")


def test_invalid_key_fails_at_start_up_in_development(tmp_path):
    with pytest.raises(ImproperlyConfigured) as exc:
        config.field_encryption_keys({"FIELD_ENCRYPTION_KEYS": "not-a-key"}, False, tmp_path)
    assert str(exc.value) == "FIELD_ENCRYPTION_KEYS: key 1 is not a valid Fernet key"
    with pytest.raises(ImproperlyConfigured) as exc:
        config.field_encryption_keys({"FIELD_ENCRYPTION_KEYS": f"{NEW}, nope"}, False, tmp_path)
    assert str(exc.value) == "FIELD_ENCRYPTION_KEYS: key 2 is not a valid Fernet key"
    with pytest.raises(ImproperlyConfigured) as exc:
        config.field_encryption_keys({}, True, tmp_path)
    assert str(exc.value) == config.FIELD_KEYS_MISSING
    with pytest.raises(ImproperlyConfigured) as exc:
        config.field_hash_key({"FIELD_HASH_KEY": "short"})
    assert str(exc.value) == config.FIELD_HASH_KEY_INVALID


def test_manage_py_reports_invalid_key_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "FIELD_ENCRYPTION_KEYS": "broken", "CASELEDGER_VAR_DIR": str(tmp_path)}
    env.pop("PYTEST_CURRENT_TEST", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "CaseLedger configuration error: FIELD_ENCRYPTION_KEYS: key 1 is not a valid Fernet key"
    )
