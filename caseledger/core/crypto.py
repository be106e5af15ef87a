"""Field encryption for personal data at rest (A-number, passport, date of birth, SSN/ITIN).

* ``EncryptedTextField`` / ``EncryptedDateField`` store a Fernet token; the plaintext never reaches
  the database. Encryption uses ``MultiFernet`` over ``settings.FIELD_ENCRYPTION_KEYS`` (newest
  first): new values are encrypted with the newest key, any configured key decrypts.
  ``manage.py rotate_field_keys`` re-encrypts every stored value with the newest key, after which
  an old key can be removed.
* ``lookup_hash(value)`` is an HMAC-SHA256 used for exact-match search (A-number). Its key must
  NOT change when encryption keys rotate, or every stored hash would stop matching. It comes from
  ``settings.FIELD_HASH_KEY`` when set (recommended in production), otherwise it is derived with
  HKDF from the OLDEST configured encryption key (the last in the list: the first one the install
  ever had). Adding a new key at the front therefore leaves it unchanged. Retiring that oldest key
  changes it; ``rotate_field_keys`` recomputes every hash from the decrypted value, so run it
  again after removing a key (or set FIELD_HASH_KEY before retiring the first key). See
  docs/adr/005-field-encryption.md.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

DECRYPT_FAILED = (
    "{field}: stored value cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS "
    "(was the key that encrypted it removed?)"
)
HASH_KEY_TOO_SHORT = "FIELD_HASH_KEY: must be at least 32 characters"


def _keys() -> tuple[str, ...]:
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ())
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS: no key configured; a comma-separated list of Fernet keys, "
            "newest first"
        )
    return keys


@cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _multifernet(_keys())


@cache
def _hash_key(explicit: str, oldest_key: str) -> bytes:
    if explicit:
        if len(explicit) < 32:
            raise ImproperlyConfigured(HASH_KEY_TOO_SHORT)
        return explicit.encode()
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"caseledger-field-lookup-v1"
    ).derive(oldest_key.encode())


def hash_key() -> bytes:
    """The HMAC key of ``lookup_hash``: FIELD_HASH_KEY, else derived from the oldest key."""
    return _hash_key(getattr(settings, "FIELD_HASH_KEY", "") or "", _keys()[-1])


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str, field: str = "value") -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(DECRYPT_FAILED.format(field=field)) from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key (MultiFernet.rotate keeps the timestamp)."""
    return fernet().rotate(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """Keyed hash of a normalized value for equality search; '' for an empty value."""
    if not value:
        return ""
    return hmac.new(hash_key(), value.encode(), hashlib.sha256).hexdigest()


def mask(value: str, visible: int = 4) -> str:
    """'A123456789' -> '••••••6789'; short values are masked completely."""
    if not value:
        return ""
    if len(value) <= visible:
        return "•" * len(value)
    return "•" * (len(value) - visible) + value[-visible:]


class EncryptedTextField(models.TextField):
    """A text value stored as a Fernet token. Empty string stays empty (nothing to protect).

    Only exact-match lookups make sense through a companion hash column; filtering on this
    column compares ciphertexts and never matches."""

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value, field=self.name)

    def to_python(self, value: Any) -> Any:
        if value is None or value == "":
            return value
        return str(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedDateField(models.Field):  # type: ignore[type-arg]
    """A date stored encrypted as its ISO text; Python side is ``datetime.date`` or None."""

    description = "Date encrypted at rest (Fernet)"
    _pyi_private_set_type: date | str | None
    _pyi_private_get_type: date | None

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> date | None:
        if not value:
            return None
        return date.fromisoformat(decrypt(value, field=self.name))

    def to_python(self, value: Any) -> date | None:
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return value
        return date.fromisoformat(str(value))

    def get_prep_value(self, value: Any) -> Any:
        value = self.to_python(value)
        if value is None:
            return None
        return encrypt(value.isoformat())

    def value_to_string(self, obj: models.Model) -> str:
        value: Any = self.value_from_object(obj)
        return value.isoformat() if value else ""


ENCRYPTED_FIELD_TYPES = (EncryptedTextField, EncryptedDateField)


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every (model, [encrypted field names]) in the project, for rotation."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        names = [
            f.name for f in model._meta.concrete_fields if isinstance(f, ENCRYPTED_FIELD_TYPES)
        ]
        if names:
            found.append((model, names))
    return found


def rotate_all(*, now: Any, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted value of every model with the newest key and recompute lookup
    hashes (models define ``refresh_lookup_hashes()``). Each batch is one transaction holding
    its rows locked; one audit event per model records the count (never a value)."""
    from django.db import transaction

    from caseledger.core import audit, locks

    counts: dict[str, int] = {}
    for model, names in encrypted_fields():
        label = model._meta.label_lower
        done = 0
        last_pk: Any = 0
        while True:
            with transaction.atomic():
                batch = locks.rows_after_lock(model=model, after_pk=last_pk, size=batch_size)
                if not batch:
                    break
                for obj in batch:
                    refresh = getattr(obj, "refresh_lookup_hashes", None)
                    values = {name: getattr(obj, name) for name in names}
                    if refresh is not None:
                        values.update(refresh())
                    model._default_manager.filter(pk=obj.pk).update(**values)
                last_pk = batch[-1].pk
                done += len(batch)
        with transaction.atomic():
            audit.record(
                actor=None,
                actor_label="rotate_field_keys",
                action="core.field_keys_rotated",
                at=now,
                after={"model": label, "rows": done, "fields": names},
            )
        counts[label] = done
    return counts
