"""Immutability of issued invoices, enforced by the database (SQLite and PostgreSQL): the
migration operation ``InvoiceGuards(columns)`` (billing migrations 0003 and 0008).

FROZEN API, like ``core.migration_ops``: migrations import it, so never change the SQL it emits
for given columns, nor remove it; a changed guard is a new operation used by a new migration.
Each migration passes the frozen column list of its own schema.

Once an invoice has left the editable statuses (DRAFT, IN_REVIEW, APPROVED), an UPDATE may only
change ``status`` (never back to an editable status, never out of VOID) and the void columns; every
frozen column below is compared OLD/NEW and a change is refused. Its lines can be neither inserted,
updated nor deleted, and the invoice cannot be deleted. The same guard catches a raw SQL UPDATE, an
admin action or a bug in a service.

Columns added later by other apps (payments, credits) are not frozen unless a migration lists
them.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

EDITABLE = ("DRAFT", "IN_REVIEW", "APPROVED")

INVOICE_IMMUTABLE_MESSAGE = "billing_invoice: an issued invoice is immutable"
LINE_IMMUTABLE_MESSAGE = "billing_invoiceline: lines of an issued invoice are immutable"

_EDITABLE_SQL = ", ".join(f"'{s}'" for s in EDITABLE)

# The bill-to snapshot of an issued invoice may change once, and only to the retention purge's
# redaction: the client's pseudonym as the name, no address, no email (imports.retention).
BILL_TO_COLUMNS = ("bill_to_name", "bill_to_address", "bill_to_email")
BILL_TO_REDACTED = (
    "NEW.bill_to_name LIKE 'Purged client %' AND NEW.bill_to_address = '' "
    "AND NEW.bill_to_email = ''"
)


def _changed(columns: tuple[str, ...], differs: str, redactable: bool) -> str:
    """SQL true when a frozen column changes (the bill-to redaction excepted if
    ``redactable``; without it the condition is the one the older migrations installed)."""
    kept = [c for c in columns if not (redactable and c in BILL_TO_COLUMNS)]
    parts = [f"OLD.{c} {differs} NEW.{c}" for c in kept]
    if redactable:
        moved = " OR ".join(f"OLD.{c} {differs} NEW.{c}" for c in BILL_TO_COLUMNS)
        parts.append(f"(({moved}) AND NOT ({BILL_TO_REDACTED}))")
    return " OR ".join(parts)


def _sqlite_create(columns: tuple[str, ...], redactable: bool = False) -> list[str]:
    changed = _changed(columns, "IS NOT", redactable)
    line_of = "(SELECT status FROM billing_invoice WHERE id = {ref}.invoice_id)"
    return [
        "CREATE TRIGGER IF NOT EXISTS billing_invoice_frozen BEFORE UPDATE ON billing_invoice "
        f"WHEN OLD.status NOT IN ({_EDITABLE_SQL}) AND (NEW.status IN ({_EDITABLE_SQL}) "
        f"OR (OLD.status = 'VOID' AND NEW.status <> 'VOID') OR {changed}) "
        f"BEGIN SELECT RAISE(ABORT, '{INVOICE_IMMUTABLE_MESSAGE}'); END;",
        "CREATE TRIGGER IF NOT EXISTS billing_invoice_no_delete BEFORE DELETE ON billing_invoice "
        f"WHEN OLD.status NOT IN ({_EDITABLE_SQL}) "
        f"BEGIN SELECT RAISE(ABORT, '{INVOICE_IMMUTABLE_MESSAGE}'); END;",
        "CREATE TRIGGER IF NOT EXISTS billing_invoiceline_no_insert BEFORE INSERT ON "
        f"billing_invoiceline WHEN {line_of.format(ref='NEW')} NOT IN ({_EDITABLE_SQL}) "
        f"BEGIN SELECT RAISE(ABORT, '{LINE_IMMUTABLE_MESSAGE}'); END;",
        "CREATE TRIGGER IF NOT EXISTS billing_invoiceline_no_update BEFORE UPDATE ON "
        f"billing_invoiceline WHEN {line_of.format(ref='OLD')} NOT IN ({_EDITABLE_SQL}) "
        f"OR {line_of.format(ref='NEW')} NOT IN ({_EDITABLE_SQL}) "
        f"BEGIN SELECT RAISE(ABORT, '{LINE_IMMUTABLE_MESSAGE}'); END;",
        "CREATE TRIGGER IF NOT EXISTS billing_invoiceline_no_delete BEFORE DELETE ON "
        f"billing_invoiceline WHEN {line_of.format(ref='OLD')} NOT IN ({_EDITABLE_SQL}) "
        f"BEGIN SELECT RAISE(ABORT, '{LINE_IMMUTABLE_MESSAGE}'); END;",
    ]


def _sqlite_drop() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {name};"
        for name in (
            "billing_invoice_frozen",
            "billing_invoice_no_delete",
            "billing_invoiceline_no_insert",
            "billing_invoiceline_no_update",
            "billing_invoiceline_no_delete",
        )
    ]


def _postgres_create(columns: tuple[str, ...], redactable: bool = False) -> list[str]:
    changed = _changed(columns, "IS DISTINCT FROM", redactable)
    return [
        "CREATE OR REPLACE FUNCTION billing_invoice_guard() RETURNS trigger AS $$ BEGIN "
        f"IF OLD.status IN ({_EDITABLE_SQL}) THEN "
        "  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; "
        "IF TG_OP = 'DELETE' OR NEW.status IN "
        f"({_EDITABLE_SQL}) OR (OLD.status = 'VOID' AND NEW.status <> 'VOID') OR {changed} THEN "
        f"  RAISE EXCEPTION '{INVOICE_IMMUTABLE_MESSAGE} (id %)', OLD.id "
        "  USING ERRCODE = 'integrity_constraint_violation'; END IF; "
        "RETURN NEW; END; $$ LANGUAGE plpgsql;",
        "DROP TRIGGER IF EXISTS billing_invoice_guard ON billing_invoice;",
        "CREATE TRIGGER billing_invoice_guard BEFORE UPDATE OR DELETE ON billing_invoice "
        "FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();",
        "CREATE OR REPLACE FUNCTION billing_invoiceline_guard() RETURNS trigger AS $$ "
        "DECLARE st text; BEGIN "
        "IF TG_OP <> 'INSERT' THEN "
        "  SELECT status INTO st FROM billing_invoice WHERE id = OLD.invoice_id; "
        f"  IF st NOT IN ({_EDITABLE_SQL}) THEN "
        f"    RAISE EXCEPTION '{LINE_IMMUTABLE_MESSAGE} (line %)', OLD.id "
        "    USING ERRCODE = 'integrity_constraint_violation'; END IF; END IF; "
        "IF TG_OP <> 'DELETE' THEN "
        "  SELECT status INTO st FROM billing_invoice WHERE id = NEW.invoice_id; "
        f"  IF st NOT IN ({_EDITABLE_SQL}) THEN "
        f"    RAISE EXCEPTION '{LINE_IMMUTABLE_MESSAGE} (invoice %)', NEW.invoice_id "
        "    USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END IF; "
        "RETURN OLD; END; $$ LANGUAGE plpgsql;",
        "DROP TRIGGER IF EXISTS billing_invoiceline_guard ON billing_invoiceline;",
        "CREATE TRIGGER billing_invoiceline_guard BEFORE INSERT OR UPDATE OR DELETE ON "
        "billing_invoiceline FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_guard();",
    ]


def _postgres_drop() -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS billing_invoice_guard ON billing_invoice;",
        "DROP TRIGGER IF EXISTS billing_invoiceline_guard ON billing_invoiceline;",
    ]


def guard_create_sql(vendor: str, columns: tuple[str, ...], redactable: bool = False) -> list[str]:
    if vendor == "sqlite":
        return _sqlite_create(columns, redactable)
    if vendor == "postgresql":
        return _postgres_create(columns, redactable)
    raise NotImplementedError(f"invoice guards for database vendor {vendor!r}")


def guard_drop_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return _sqlite_drop()
    if vendor == "postgresql":
        return _postgres_drop()
    raise NotImplementedError(f"invoice guards for database vendor {vendor!r}")


class InvoiceGuards(migrations.RunPython):
    """Migration operation (re)installing the guards over the frozen ``columns``; a migration
    adding a frozen column runs it again with the longer list."""

    def __init__(self, columns: tuple[str, ...], redactable: bool = False) -> None:
        def forwards(apps: Any, schema_editor: Any) -> None:
            vendor = schema_editor.connection.vendor
            for sql in guard_drop_sql(vendor) + guard_create_sql(vendor, columns, redactable):
                schema_editor.execute(sql, params=None)

        def backwards(apps: Any, schema_editor: Any) -> None:
            for sql in guard_drop_sql(schema_editor.connection.vendor):
                schema_editor.execute(sql, params=None)

        super().__init__(forwards, backwards)

    def describe(self) -> str:
        return "Immutability triggers on billing_invoice and billing_invoiceline"
