"""PostgreSQL roles (docs/adr/002-hash-chained-audit-log.md, "Database roles").

The tables belong to the owner role migrations run as (DATABASE_OWNER_URL). The application
connects as another role (DATABASE_URL) with ordinary rights on every table except:

* append-only tables (those carrying an ``*_append_only`` trigger: audit events, journal
  entries and postings, stored PDFs, aging facts, stage events): SELECT and INSERT only, but
  for the retention purge's redaction (``REDACTION_GRANTS``, which the triggers narrow);
* tables whose rows are never deleted (``*_no_delete`` trigger: accounts, the audit chain head):
  no DELETE;
* no TRUNCATE anywhere, and it owns nothing, so it cannot drop or disable a trigger.

``roles_apply`` is idempotent: run it (``manage.py db_roles``) after every migrate, which creates
new tables only the owner can reach until granted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

APPEND_ONLY_TRIGGER = "%\\_append\\_only"
# Append-only tables the retention purge redacts: the payload columns of audit events, and the
# stored PDF of an invoice whose bill-to was redacted.
REDACTION_GRANTS = {
    "core_auditevent": "UPDATE (before, after, object_repr)",
    "billing_invoicepdf": "DELETE",
}
NO_DELETE_TRIGGER = "%\\_no\\_delete"


@dataclass(frozen=True)
class RoleReport:
    role: str
    tables: int
    append_only: list[str]
    no_delete: list[str]


def _tables_with_trigger(cur: object, pattern: str) -> list[str]:
    cur.execute(  # type: ignore[attr-defined]
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND t.tgname LIKE %s ORDER BY c.relname",
        [pattern],
    )
    return [row[0] for row in cur.fetchall()]  # type: ignore[attr-defined]


def roles_apply(*, app_role: str, password: str | None) -> RoleReport:
    """Create the application role (if missing) and set its grants on this database."""
    if connection.vendor != "postgresql":
        raise RuntimeError("db_roles: PostgreSQL only (SQLite has no roles)")
    qn = connection.ops.quote_name
    role = qn(app_role)
    with connection.cursor() as cur:
        cur.execute("SELECT current_user, current_database()")
        owner, database = cur.fetchone()
        if owner == app_role:
            raise RuntimeError(
                f"db_roles: the application role {app_role!r} is the role running migrations; "
                "set DATABASE_OWNER_URL to the owner and DATABASE_URL to another role"
            )
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        if cur.fetchone() is None:
            cur.execute(
                f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
                + (" PASSWORD %s" if password else ""),
                [password] if password else None,
            )
        elif password:
            cur.execute(f"ALTER ROLE {role} PASSWORD %s", [password])
        cur.execute(f"GRANT CONNECT ON DATABASE {qn(database)} TO {role}")
        cur.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cur.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        cur.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cur.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        append_only = _tables_with_trigger(cur, APPEND_ONLY_TRIGGER)
        no_delete = [
            t for t in _tables_with_trigger(cur, NO_DELETE_TRIGGER) if t not in append_only
        ]
        for table in append_only:
            cur.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {qn(table)} FROM {role}")
        for table in no_delete:
            cur.execute(f"REVOKE DELETE, TRUNCATE ON {qn(table)} FROM {role}")
        # The redaction the retention purge makes (core 0009 and billing 0015, AppendOnlyExcept; the
        # triggers still refuse any other change).
        for table, privilege in REDACTION_GRANTS.items():
            if table in append_only:
                cur.execute(f"GRANT {privilege} ON {qn(table)} TO {role}")
        cur.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()")
        tables = int(cur.fetchone()[0])
    return RoleReport(app_role, tables, append_only, no_delete)
