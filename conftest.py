"""Shared test fixtures: users per role, logged-in clients, database guards' test plumbing."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import django.db.backends.sqlite3.base  # noqa: F401  (import order: avoids a circular import)
import pytest
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.test import Client as HttpClient

from caseledger.core.choices import Role

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def _sqlite_flush_with_guards() -> None:
    """Transactional tests empty every table between tests with DELETE; on SQLite that fires the
    append-only triggers. Drop them around the flush and put them back (PostgreSQL flushes with
    TRUNCATE, which row triggers do not see). Test plumbing only: production has no such path."""
    from caseledger.core.db import (
        APPEND_ONLY_TABLES,
        NO_DELETE_TABLES,
        append_only_create_sql,
        append_only_drop_sql,
        no_delete_create_sql,
        no_delete_drop_sql,
    )

    SQLiteOperations = SQLiteWrapper.ops_class
    original = SQLiteOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = original(self, style, tables, **kwargs)
        if not statements:
            return statements
        guarded = sorted(t for t in APPEND_ONLY_TABLES if t in tables)
        drops = [sql for t in guarded for sql in append_only_drop_sql("sqlite", t)]
        creates = [sql for t in guarded for sql in append_only_create_sql("sqlite", t)]
        kept = sorted(t for t in NO_DELETE_TABLES if t in tables)
        drops += [sql for t in kept for sql in no_delete_drop_sql("sqlite", t)]
        creates += [sql for t in kept for sql in no_delete_create_sql("sqlite", t)]
        return [*drops, *statements, *creates]

    SQLiteOperations.sql_flush = sql_flush  # type: ignore[method-assign]


_sqlite_flush_with_guards()


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


@pytest.fixture
def login(client: HttpClient) -> Callable[[Any], HttpClient]:
    def as_user(user: Any) -> HttpClient:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return as_user


@pytest.fixture
def require_postgres(django_db_blocker: Any) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
