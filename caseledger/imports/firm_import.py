"""Restore a firm from its full export (``manage.py import_firm PATH.zip``) into an empty,
migrated CaseLedger database.

The zip is checked before anything is written: its ``format`` must be ``export.FORMAT``, every
file must hash to its manifest entry (``export.manifest_check``), its schema (the newest
migration of each app) must be this database's, and every table of this release must be in it
with this release's columns. The database must hold no firm data: only the rows its migrations
seed (``SEEDED``: the firm row, the chart of accounts and its balance rows, case types and
their stages, deadline rules, fee payer rules, the default collection policy), which the
import overwrites with the exported ones.

Then, in ONE transaction, every row goes back with its primary key and every column as
exported (invoice numbers, journal entries and their postings, the audit chain's hashes, trust
ledgers, balance rows), read from the JSON Lines as a stream and inserted ``CHUNK`` rows at a
time. The database's guards stay on and are respected rather than bypassed:

* an issued or void invoice is inserted as APPROVED (its lines may only be inserted while it is
  editable) and set to its status once its lines are in;
* the closed periods go in last (postings, statement lines and matches dated in a closed period
  are refused);
* SQLite only: the trigger that lets postings join only the newest journal entry (writers are
  serialized there, so a live entry's postings always follow it) is lifted for the
  transaction and put back from its own stored SQL: an export from PostgreSQL may interleave
  the postings of concurrent entries.

Users get an unusable password (the export carries no password hashes): they set new ones
(password reset, or ``manage.py changepassword``). Encrypted columns are restored as stored, so
this install needs the exporting install's FIELD_ENCRYPTION_KEYS (and FIELD_HASH_KEY if set),
and the audit chain verifies only with its CASELEDGER_AUDIT_KEY: both are checked before the
commit. Foreign keys are checked at the end of the transaction (PostgreSQL: ``SET CONSTRAINTS
ALL IMMEDIATE``, which also runs the deferred balance triggers; SQLite: ``PRAGMA
foreign_key_check``), PostgreSQL's sequences are moved past the restored ids, and the import is
itself an audit event (``imports.firm_imported``) appended to the restored chain. Any failure
rolls everything back: nothing is half written.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.utils import DatabaseError
from django.utils.module_loading import import_string

from caseledger.core import audit
from caseledger.core.crypto import ENCRYPTED_FIELD_TYPES, decrypt
from caseledger.imports.exceptions import ImportRefused
from caseledger.imports.export import (
    EXCLUDED_FIELDS,
    FORMAT,
    MANIFEST,
    exported_models,
    manifest_check,
    schema_migrations,
)

CHUNK = 2000
# Tables a freshly migrated database already has rows in (its data migrations seed them).
SEEDED = frozenset(
    {
        "core.firm",
        "ledger.account",
        "ledger.accountbalance",
        "matters.casetype",
        "matters.stage",
        "matters.firmdeadlinerule",
        "billing.feepayerrule",
        "collections.collectionpolicy",
        "collections.policystage",
    }
)
LAST = ("ledger.closedperiod",)  # inserted after every posting, statement line and match
EDITABLE_STAND_IN = "APPROVED"  # an issued/void invoice's status while its lines go in
NEWEST_ENTRY_TRIGGER = "ledger_posting_newest_entry"  # SQLite (ledger migration 0004)

NOT_A_ZIP = "{path}: not a zip file ({error})"
NO_MANIFEST = "{path}: no manifest.json: not a CaseLedger export"
FORMAT_UNKNOWN = (
    "manifest.json: format {got!r} is not one this release imports ({want!r}); export the firm "
    "again with this release"
)
HASHES_DIFFER = "the zip does not match its manifest ({count} problem(s)): {first}"
SCHEMA_DIFFERS = (
    "manifest.json migrations: the export was made at {app} {theirs}, this database is at "
    "{ours}: import with the release that made the export (same migrations)"
)
TABLE_MISSING = "data/{label}.jsonl: missing from the export (this release has the table)"
TABLE_UNKNOWN = "data/{label}.jsonl: a table this release does not have"
COLUMNS_DIFFER = (
    "data/{label}.csv: columns differ from this release's (missing {missing}, unknown {extra})"
)
NOT_EMPTY = (
    "the database already has firm data ({tables}): import_firm restores only into an empty, "
    "migrated database (a new database: manage.py migrate, then import_firm)"
)
NOT_MIGRATED = "the database is not migrated ({error}): run manage.py migrate first"
AUDIT_KEY_UNKNOWN = (
    "core.auditevent {id}: signed with audit key {kid!r}, which this install does not have: "
    "set CASELEDGER_AUDIT_KEY to the exporting install's key(s)"
)
FIELD_KEY_WRONG = (
    "{label}.{column} (row {id}): this install's FIELD_ENCRYPTION_KEYS cannot decrypt it: set "
    "them (and FIELD_HASH_KEY, if the exporting install had one) to the exporting install's"
)
FOREIGN_KEYS_BROKEN = "{table} row {rowid}: refers to a missing {parent} row"
RESTORE_FAILED = "data/{label}.jsonl: the database refused a row: {error}"


@dataclass
class ImportResult:
    tables: dict[str, int] = field(default_factory=dict)
    verify_problems: list[tuple[str, str]] = field(default_factory=list)
    checks: int = 0
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(self.tables.values())


def _label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _open(path: Path | str | Any) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(NOT_A_ZIP.format(path=path, error=exc)) from exc
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        zf.close()
        raise ImportRefused(NO_MANIFEST.format(path=path)) from exc
    return zf, manifest


def check_export(path: Path | str | Any) -> dict[str, Any]:
    """The zip's manifest once the export checks out: known format, every file hashing to its
    entry, the same schema as this database, every table with this release's columns. Raises
    ImportRefused naming the first problem."""
    zf, manifest = _open(path)
    with zf:
        if manifest.get("format") != FORMAT:
            raise ImportRefused(FORMAT_UNKNOWN.format(got=manifest.get("format"), want=FORMAT))
        problems = manifest_check(path)
        if problems:
            raise ImportRefused(HASHES_DIFFER.format(count=len(problems), first=problems[0]))
        ours = schema_migrations(connection)
        if not ours:
            raise ImportRefused(NOT_MIGRATED.format(error="no migration applied"))
        theirs = manifest.get("migrations", {})
        for app in sorted(set(ours) | set(theirs)):
            if ours.get(app) != theirs.get(app):
                raise ImportRefused(
                    SCHEMA_DIFFERS.format(
                        app=app, theirs=theirs.get(app, "(none)"), ours=ours.get(app, "(none)")
                    )
                )
        names = set(zf.namelist())
        labels = {_label(m): m for m in exported_models()}
        for label in sorted(labels):
            if f"data/{label}.jsonl" not in names:
                raise ImportRefused(TABLE_MISSING.format(label=label))
        for name in sorted(names):
            if name.startswith("data/") and name.endswith(".jsonl"):
                label = name.removeprefix("data/").removesuffix(".jsonl")
                if label not in labels:
                    raise ImportRefused(TABLE_UNKNOWN.format(label=label))
        for label, model in labels.items():
            with zf.open(f"data/{label}.csv") as fh:
                header = io.TextIOWrapper(fh, encoding="utf-8").readline().rstrip("\n")
            got = header.split(",")
            want = [f.attname for f in _exported_fields(model)]
            if got != want:
                raise ImportRefused(
                    COLUMNS_DIFFER.format(
                        label=label,
                        missing=sorted(set(want) - set(got)) or "none",
                        extra=sorted(set(got) - set(want)) or "none",
                    )
                )
    return manifest


def check_empty() -> None:
    """Refuse a database with firm data: any row outside the tables its migrations seed."""
    found = []
    try:
        for model in exported_models():
            label = _label(model)
            if label not in SEEDED and model._default_manager.exists():
                found.append(label)
    except DatabaseError as exc:
        raise ImportRefused(NOT_MIGRATED.format(error=str(exc).strip())) from exc
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise ImportRefused(NOT_EMPTY.format(tables=shown))


def _exported_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    meta = model._meta
    skip = EXCLUDED_FIELDS.get((meta.app_label, str(meta.model_name)), set())
    return [f for f in meta.concrete_fields if f.name not in skip]


class _Writer:
    """How one table's exported rows become INSERT (or, for seeded rows, UPDATE) parameters."""

    def __init__(self, model: type[models.Model], zf: zipfile.ZipFile) -> None:
        self.model = model
        self.label = _label(model)
        self.zf = zf
        meta = model._meta
        assert meta.pk is not None
        self.pk = meta.pk
        # Generated columns are the database's to compute.
        fields = [f for f in meta.concrete_fields if not f.generated]
        exported = {f.name for f in _exported_fields(model)}
        # Per column: (attname, kind, field); kind "missing" (a user's password hash: never
        # exported), "raw" (an encrypted column's stored token), "file" (a binary column: the
        # cell names its file in the zip) or "value" (the field's own conversion).
        self.columns = [
            (
                f.attname,
                "missing"
                if f.name not in exported
                else "raw"
                if isinstance(f, ENCRYPTED_FIELD_TYPES)
                else "file"
                if isinstance(f, models.BinaryField)
                else "value",
                f,
            )
            for f in fields
        ]
        quote = connection.ops.quote_name
        self.db_table = quote(meta.db_table)
        columns = [quote(str(f.column)) for f in fields]
        marks = ", ".join(["%s"] * len(columns))
        self.insert = f"INSERT INTO {self.db_table} ({', '.join(columns)}) VALUES ({marks})"
        self.pk_at = fields.index(self.pk)
        others = [quote(str(f.column)) for f in fields if f is not self.pk]
        self.update = (
            f"UPDATE {self.db_table} SET {', '.join(f'{c} = %s' for c in others)} "
            f"WHERE {quote(str(self.pk.column))} = %s"
        )
        self.delete = f"DELETE FROM {self.db_table} WHERE {quote(str(self.pk.column))} = %s"
        self.encrypted = [f for f in fields if isinstance(f, ENCRYPTED_FIELD_TYPES)]
        self.unusable_password = (
            make_password(None) if any(k == "missing" for _, k, _ in self.columns) else None
        )

    def params(self, row: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for attname, kind, f in self.columns:
            if kind == "missing":
                out.append(self.unusable_password)
                continue
            value = row[attname]
            if value is None or kind == "raw":
                out.append(value)
            elif kind == "file":
                out.append(self.zf.read(value))
            else:
                out.append(f.get_db_prep_save(f.to_python(value), connection))
        return out

    def check_keys(self, row: dict[str, Any]) -> None:
        for f in self.encrypted:
            value = row[f.attname]
            if value:
                try:
                    decrypt(value, field=f.name)
                except ImproperlyConfigured as exc:
                    raise ImportRefused(
                        FIELD_KEY_WRONG.format(
                            label=self.label, column=f.attname, id=row[self.pk.attname]
                        )
                    ) from exc
        if self.encrypted:
            self.encrypted = [f for f in self.encrypted if not row[f.attname]]


def _rows(zf: zipfile.ZipFile, label: str) -> Iterator[list[dict[str, Any]]]:
    """The exported rows of one table, CHUNK at a time, read as a stream."""
    with zf.open(f"data/{label}.jsonl") as fh:
        batch: list[dict[str, Any]] = []
        for line in io.TextIOWrapper(fh, encoding="utf-8"):
            batch.append(json.loads(line))
            if len(batch) == CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch


def _restore_table(writer: _Writer, cursor: Any) -> int:
    """Insert (seeded tables: upsert, dropping seeded rows the export does not have) one
    table's rows; returns how many. Issued and void invoices go in as APPROVED (the caller
    sets their status once the lines are in)."""
    model = writer.model
    seeded = writer.label in SEEDED
    existing = set(model._default_manager.values_list("pk", flat=True)) if seeded else set()
    is_invoice = writer.label == "billing.invoice"
    audit_keys = settings.AUDIT_KEYS if writer.label == "core.auditevent" else None
    pk = writer.pk.attname
    count = 0
    for batch in _rows(writer.zf, writer.label):
        inserts, updates = [], []
        for row in batch:
            if writer.encrypted:
                writer.check_keys(row)
            if audit_keys is not None and row["key_id"] not in audit_keys:
                raise ImportRefused(AUDIT_KEY_UNKNOWN.format(id=row["id"], kid=row["key_id"]))
            if is_invoice and row["status"] in ("ISSUED", "VOID"):
                row = {**row, "status": EDITABLE_STAND_IN}
            params = writer.params(row)
            if row[pk] in existing:
                existing.discard(row[pk])
                at = writer.pk_at
                updates.append([*params[:at], *params[at + 1 :], params[at]])
            else:
                inserts.append(params)
        try:
            if inserts:
                cursor.executemany(writer.insert, inserts)
            if updates:
                cursor.executemany(writer.update, updates)
        except DatabaseError as exc:
            raise ImportRefused(RESTORE_FAILED.format(label=writer.label, error=exc)) from exc
        count += len(batch)
    try:
        if existing:
            cursor.executemany(writer.delete, [[key] for key in sorted(existing)])
    except DatabaseError as exc:
        raise ImportRefused(RESTORE_FAILED.format(label=writer.label, error=exc)) from exc
    return count


def _invoice_statuses(zf: zipfile.ZipFile, cursor: Any) -> None:
    """Issued and void invoices get their status once their lines are in."""
    table = connection.ops.quote_name("billing_invoice")
    for batch in _rows(zf, "billing.invoice"):
        rows = [[r["status"], r["id"]] for r in batch if r["status"] in ("ISSUED", "VOID")]
        if rows:
            cursor.executemany(f"UPDATE {table} SET status = %s WHERE id = %s", rows)


def _foreign_keys_checked(cursor: Any) -> None:
    """Inside the transaction: every foreign key points at a row (deferred constraints now)."""
    try:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            return
        cursor.execute("PRAGMA foreign_key_check")
        broken = cursor.fetchall()
    except DatabaseError as exc:
        raise ImportRefused(RESTORE_FAILED.format(label="(constraints)", error=exc)) from exc
    if broken:
        table, rowid, parent, _ = broken[0]
        raise ImportRefused(FOREIGN_KEYS_BROKEN.format(table=table, rowid=rowid, parent=parent))


def _lift_newest_entry_trigger(cursor: Any) -> str | None:
    """SQLite: drop the newest-entry posting trigger for this transaction; its SQL, to put it
    back (None: not installed, or not SQLite)."""
    if connection.vendor != "sqlite":
        return None
    cursor.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
        [NEWEST_ENTRY_TRIGGER],
    )
    found = cursor.fetchone()
    if found is None:
        return None
    cursor.execute(f"DROP TRIGGER {NEWEST_ENTRY_TRIGGER}")
    return str(found[0])


def import_firm(path: Path | str, *, now: Any) -> ImportResult:
    """Restore the export at ``path`` (see the module docstring); then run every check of
    ``manage.py verify`` on the result. Raises ImportRefused before writing anything, or
    with everything rolled back."""
    started = time.perf_counter()
    manifest = check_export(path)
    result = ImportResult()
    by_label = {_label(m): m for m in exported_models()}
    order = [label for label in by_label if label not in LAST] + list(LAST)
    with zipfile.ZipFile(path) as zf, transaction.atomic():
        check_empty()
        with connection.cursor() as cursor:
            trigger = _lift_newest_entry_trigger(cursor)
            for label in order:
                if label == LAST[0]:
                    _invoice_statuses(zf, cursor)
                result.tables[label] = _restore_table(_Writer(by_label[label], zf), cursor)
            if trigger is not None:
                cursor.execute(trigger)
            _foreign_keys_checked(cursor)
            for sql in connection.ops.sequence_reset_sql(no_style(), list(by_label.values())):
                cursor.execute(sql)
        audit.record(
            actor=None,
            action="imports.firm_imported",
            at=now,
            after={
                "format": manifest["format"],
                "exported_at": manifest.get("created_at"),
                "records": result.records,
            },
            actor_label="import_firm",
        )
    checks: dict[str, str] = settings.VERIFY_CHECKS
    result.checks = len(checks)
    for name, dotted in checks.items():
        result.verify_problems += [(name, line) for line in import_string(dotted)()]
    result.seconds = time.perf_counter() - started
    return result
