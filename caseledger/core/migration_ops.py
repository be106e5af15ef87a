"""Migration operations installing the database guards (triggers), for SQLite and PostgreSQL.

FROZEN API: migrations import this module, so what it emits is part of every past migration.
Never change the SQL an existing operation or function produces, nor remove one; a guard that
must change gets a new operation (``AppendOnlyV2``...) used by a new migration, which may drop
and reinstall the old triggers. Live code may read these functions (the test plumbing does) but
no migration imports anything else of ``caseledger`` (``core/tests/test_migrations_frozen.py``;
docs/adr/019-frozen-migrations.md).

Operations:
* ``AppendOnly(table)``: UPDATE and DELETE refused (and TRUNCATE on PostgreSQL);
* ``NoTruncate(table)``: TRUNCATE refused (PostgreSQL; nothing on SQLite, which has none);
* ``NoDelete(table)``: DELETE refused (rows may change).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def append_only_create_sql(
    vendor: str, table: str, allow: dict[str, dict[str, str]] | None = None
) -> list[str]:
    """The triggers of ``table``; ``allow`` ({"UPDATE"|"DELETE": {vendor: SQL condition over
    OLD/NEW}}) lets the changes its conditions describe through (``AppendOnlyExcept``: the
    retention purge's redaction of personal data). Without it, the plain triggers the older
    migrations installed."""
    if allow and vendor == "sqlite":
        unless = {
            op: f"WHEN NOT ({cond[vendor]}) " if op in allow else ""
            for op, cond in (
                ("UPDATE", allow.get("UPDATE", {})),
                ("DELETE", allow.get("DELETE", {})),
            )
        }
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"{unless['UPDATE']}"
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"{unless['DELETE']}"
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END;",
        ]
    if allow and vendor == "postgresql":
        checks = "".join(
            f"IF TG_OP = '{op}' AND ({allow[op][vendor]}) THEN RETURN {ret}; END IF; "
            for op, ret in (("UPDATE", "NEW"), ("DELETE", "OLD"))
            if op in allow
        )
        return [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
            f"{checks}"
            "RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'integrity_constraint_violation'; END; $$ LANGUAGE plpgsql;",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only();",
            *no_truncate_create_sql(vendor, table),
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END;",
        ]
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION caseledger_refuse_change() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'integrity_constraint_violation'; END; $$ LANGUAGE plpgsql;",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION caseledger_refuse_change();",
            *no_truncate_create_sql(vendor, table),
        ]
    raise NotImplementedError(f"append-only triggers for database vendor {vendor!r}")


def append_only_drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update;",
            f"DROP TRIGGER IF EXISTS {table}_no_delete;",
        ]
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            *no_truncate_drop_sql(vendor, table),
        ]
    raise NotImplementedError(f"append-only triggers for database vendor {vendor!r}")


class AppendOnly(migrations.RunPython):
    """Migration operation installing the append-only triggers on ``table``."""

    def __init__(self, table: str) -> None:
        self.table = table

        # params=None: the PL/pgSQL body uses % placeholders of its own, which the driver
        # must not try to fill.
        def forwards(apps: Any, schema_editor: Any) -> None:
            for sql in append_only_create_sql(schema_editor.connection.vendor, table, {}):
                schema_editor.execute(sql, params=None)

        def backwards(apps: Any, schema_editor: Any) -> None:
            for sql in append_only_drop_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(sql, params=None)

        super().__init__(forwards, backwards)

    def describe(self) -> str:
        return f"Append-only triggers on {self.table}"


class AppendOnlyExcept(migrations.RunPython):
    """Migration operation reinstalling the append-only triggers of ``table`` with the
    exceptions given: ``update``/``delete`` map a vendor to the SQL condition (over OLD/NEW)
    under which that change is let through. Backwards: the plain triggers again."""

    def __init__(
        self,
        table: str,
        *,
        update: dict[str, str] | None = None,
        delete: dict[str, str] | None = None,
    ) -> None:
        allow = {op: cond for op, cond in (("UPDATE", update), ("DELETE", delete)) if cond}
        self.table = table

        def install(schema_editor: Any, exceptions: dict[str, dict[str, str]]) -> None:
            vendor = schema_editor.connection.vendor
            for sql in append_only_drop_sql(vendor, table):
                schema_editor.execute(sql, params=None)
            for sql in append_only_create_sql(vendor, table, exceptions):
                schema_editor.execute(sql, params=None)

        def forwards(apps: Any, schema_editor: Any) -> None:
            install(schema_editor, allow)

        def backwards(apps: Any, schema_editor: Any) -> None:
            install(schema_editor, {})

        super().__init__(forwards, backwards)

    def describe(self) -> str:
        return f"Append-only triggers on {self.table}, with their redaction exceptions"


def no_truncate_create_sql(vendor: str, table: str) -> list[str]:
    """A BEFORE TRUNCATE statement trigger (PostgreSQL). Row triggers do not see TRUNCATE, so
    without it ``TRUNCATE core_auditevent`` empties an append-only table. SQLite has no
    TRUNCATE (its "truncate optimisation" of ``DELETE FROM t`` is disabled by any DELETE
    trigger, and every append-only table has one): nothing to install there."""
    if vendor == "sqlite":
        return []
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION caseledger_refuse_truncate() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME "
            "USING ERRCODE = 'integrity_constraint_violation'; END; $$ LANGUAGE plpgsql;",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION caseledger_refuse_truncate();",
        ]
    raise NotImplementedError(f"no-truncate triggers for database vendor {vendor!r}")


def no_truncate_drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return []
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"]
    raise NotImplementedError(f"no-truncate triggers for database vendor {vendor!r}")


class NoTruncate(migrations.RunPython):
    """Migration operation refusing TRUNCATE on ``table`` (PostgreSQL; a no-op on SQLite)."""

    def __init__(self, table: str) -> None:
        self.table = table

        def forwards(apps: Any, schema_editor: Any) -> None:
            for sql in no_truncate_create_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(sql, params=None)

        def backwards(apps: Any, schema_editor: Any) -> None:
            for sql in no_truncate_drop_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(sql, params=None)

        super().__init__(forwards, backwards)

    def describe(self) -> str:
        return f"No-truncate trigger on {self.table}"


def no_delete_create_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are never deleted: DELETE refused'); END;",
        ]
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION caseledger_refuse_delete() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are never deleted: DELETE refused', TG_TABLE_NAME "
            "USING ERRCODE = 'integrity_constraint_violation'; END; $$ LANGUAGE plpgsql;",
            f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table};",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION caseledger_refuse_delete();",
        ]
    raise NotImplementedError(f"no-delete triggers for database vendor {vendor!r}")


def no_delete_drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_delete;"]
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table};"]
    raise NotImplementedError(f"no-delete triggers for database vendor {vendor!r}")


class NoDelete(migrations.RunPython):
    """Migration operation installing a trigger that refuses DELETE on ``table``."""

    def __init__(self, table: str) -> None:
        self.table = table

        def forwards(apps: Any, schema_editor: Any) -> None:
            for sql in no_delete_create_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(sql, params=None)

        def backwards(apps: Any, schema_editor: Any) -> None:
            for sql in no_delete_drop_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(sql, params=None)

        super().__init__(forwards, backwards)

    def describe(self) -> str:
        return f"No-delete trigger on {self.table}"
