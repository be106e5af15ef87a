"""Shared test fixtures: users per role, logged-in clients, database guards' test plumbing."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import django.db.backends.sqlite3.base  # noqa: F401  (before .operations: avoids a circular import)
import pytest
from django.test import Client as HttpClient

from caseledger.core.choices import Role

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _sqlite_flush_with_guards() -> None:
    """Transactional tests empty every table between tests with DELETE; on SQLite that fires the
    guard triggers (append-only tables, no-delete tables, issued invoices). Drop the triggers of
    the flushed tables around the flush and put the same ones back, read from the schema itself
    (PostgreSQL flushes with TRUNCATE, which row triggers do not see). Test plumbing only:
    production has no such path."""
    # The backend's base module first: importing operations on its own is circular in Django.
    from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

    SQLiteOperations = SQLiteWrapper.ops_class
    original = SQLiteOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = original(self, style, tables, **kwargs)
        if not statements:
            return statements
        with self.connection.cursor() as cur:
            cur.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = sorted((name, sql) for name, table, sql in cur.fetchall() if table in tables)
        drops = [f"DROP TRIGGER IF EXISTS {name};" for name, _ in triggers]
        creates = [f"{sql};" for _, sql in triggers]
        return [*drops, *statements, *creates]

    SQLiteOperations.sql_flush = sql_flush  # type: ignore[method-assign]

    # PostgreSQL flushes with TRUNCATE, which the no-truncate statement triggers refuse: the
    # flush (one transaction) runs with triggers off (the test role is a superuser).
    from django.db.backends.postgresql.operations import DatabaseOperations as PGOperations

    pg_original = PGOperations.sql_flush

    def pg_sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = pg_original(self, style, tables, **kwargs)
        if not statements:
            return statements
        return ["SET LOCAL session_replication_role = replica", *statements]

    PGOperations.sql_flush = pg_sql_flush  # type: ignore[method-assign]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: Any) -> None:
    # After pytest-django has set Django up: importing the SQLite backend earlier, while the
    # PostgreSQL backend is loading, is a circular import.
    _sqlite_flush_with_guards()


@pytest.fixture(autouse=True)
def _audit_anchor_file(tmp_path: Any, settings: Any) -> None:
    """Each test anchors the audit chain in a file of its own, and stores uploaded files (matter
    documents) in a folder of its own (never the install's var/)."""
    settings.AUDIT_ANCHOR_PATH = tmp_path / "audit-anchors.jsonl"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    from caseledger.core.models import User

    counter = {"n": 0}

    def make(role: str = Role.PARALEGAL, username: str | None = None, **extra: Any) -> Any:
        counter["n"] += 1
        name = username or f"{role.lower()}{counter['n']}"
        user = User(username=name, role=role, email=f"{name}@example.com", **extra)
        user.set_password("correct horse battery staple")
        user.save()
        return user

    return make


@pytest.fixture
def users(make_user: Callable[..., Any]) -> dict[str, Any]:
    """One user per role, keyed by role value."""
    return {role.value: make_user(role=role, username=role.value.lower()) for role in Role}


def verify_two_factor(client: HttpClient, user: Any) -> Any:
    """Give ``client``'s session a completed TOTP step for ``user`` (creating a confirmed
    device when the user has none), as if they had typed a valid code at login."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def login(client: HttpClient) -> Callable[..., HttpClient]:
    """Log ``user`` in on the test client. When the firm requires two-factor for the user's
    role, the session also gets a completed TOTP step (pass ``two_factor=False`` to test the
    gate itself)."""

    def as_user(user: Any, two_factor: bool = True) -> HttpClient:
        from caseledger.core.selectors import two_factor_required

        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        if two_factor and two_factor_required(user):
            verify_two_factor(client, user)
        return client

    return as_user


@pytest.fixture
def require_postgres(django_db_blocker: Any) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
