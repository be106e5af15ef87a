"""The firm's full export: every CaseLedger record as CSV and as JSON Lines, the issued PDFs (and
every other stored file), the audit log, and a manifest with the SHA-256 of each file, as one
zip written as a stream.

Nothing is held in memory beyond one chunk of rows: each table is read ONCE, as raw rows in
primary-key order from Django's chunked cursor (server-side on PostgreSQL), with a conversion per
column decided up front (dates to ISO text, decimals to strings, JSON text to objects; keys,
integers and text as they are) instead of model instances or Django's per-value converters. The
CSV goes into its zip member as it is read; the JSON Lines of the same rows go to a spooled
temporary file (memory up to ``SPOOL``, then disk) that becomes the next member, since a zip
takes one member at a time. The zip itself goes to an unseekable sink that the caller drains
after every chunk (``export_chunks`` is a generator of bytes: the command writes them to a file,
the page streams them); members are deflated at level 1 (``LEVEL``: several times faster than
the default 6, about a fifth larger on CSV/JSON). Zip members written to an unseekable stream
carry data descriptors, which every unzip reads.

Layout::

    manifest.json                        {"files": {name: {"sha256", "bytes", "rows"}}, ...}
    data/<app>.<model>.csv               header = the model's column names (attname)
    data/<app>.<model>.jsonl             one JSON object per row, same keys
    files/<app>.<model>/<pk>.<field>.bin  binary columns, one file per row (the cell names it)
    pdfs/<invoice number>.pdf            the issued invoices' PDFs (also under files/)
    audit/audit-log.jsonl                the audit chain in order (core.AuditEvent)

``manifest.json`` also carries ``format`` (``FORMAT``: what ``manage.py import_firm`` accepts),
``tables`` (rows per table) and ``migrations`` (the newest applied migration of each CaseLedger
app: a re-import needs the same schema). Many-to-many link tables between CaseLedger models
(a client's portal users) are tables of their own (``data/clients.client_portal_users.csv``).
On PostgreSQL every table is read in one REPEATABLE READ, read-only transaction, so the files
are one consistent snapshot even while the firm keeps working (the audit chain head matches
the last event exported).

Left out: Django's sessions, login throttling (axes) and one-time-password devices, Django's
groups and permissions (unused: a user's access is their ``role``), and the users' password
hashes (a re-imported firm sets new passwords). Encrypted columns (A-numbers, passports, dates
of birth, bank account numbers) are exported as stored: Fernet tokens under the firm's
FIELD_ENCRYPTION_KEYS.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.apps import apps
from django.db import connection as default_connection
from django.db import models, transaction

CHUNK = 2000
FORMAT = "caseledger-export/2"  # /1 lacked the link tables and the schema (migrations)
EXCLUDED_FIELDS = {("core", "user"): {"password"}}
MANIFEST = "manifest.json"
AUDIT_LOG = "audit/audit-log.jsonl"
SPOOL = 32 * 1024 * 1024  # JSON Lines of one table kept in memory before spilling to disk
LEVEL = 1  # deflate level: CSV and JSON compress well even at the fastest level


class _Sink(io.RawIOBase):
    """An unseekable, write-only byte buffer the generator drains."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self._parts.append(data)
        self.written += len(data)
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def zip_info(name: str) -> zipfile.ZipInfo:
    """A deflated member with a fixed timestamp (the same records give the same bytes)."""
    info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = LEVEL  # type: ignore[attr-defined]  # zipfile's per-member level
    return info


class _Member:
    """A zip member being written, hashing what goes in."""

    def __init__(self, zf: zipfile.ZipFile, name: str) -> None:
        self.name = name
        self._fh: IO[bytes] = zf.open(zip_info(name), "w", force_zip64=True)
        self._sha = hashlib.sha256()
        self.bytes = 0
        self.rows = 0

    def write(self, data: bytes) -> None:
        self._fh.write(data)
        self._sha.update(data)
        self.bytes += len(data)

    def close(self) -> dict[str, Any]:
        self._fh.close()
        return {"sha256": self._sha.hexdigest(), "bytes": self.bytes, "rows": self.rows}


def exported_models() -> list[type[models.Model]]:
    """Every concrete model of the CaseLedger apps, in app then model order, with the link
    tables of many-to-many fields between CaseLedger models (not those to Django's groups and
    permissions)."""
    out = []
    for config in apps.get_app_configs():
        if not config.name.startswith("caseledger."):
            continue
        for model in config.get_models(include_auto_created=True):
            meta = model._meta
            if meta.abstract or meta.proxy:
                continue
            if meta.auto_created:
                targets = [
                    f.related_model._meta.app_config.name
                    for f in meta.concrete_fields
                    if f.is_relation and f.related_model is not None
                ]
                if all(t.startswith("caseledger.") for t in targets):
                    out.append(model)
            elif meta.managed:
                out.append(model)
    return out


def schema_migrations(connection: Any) -> dict[str, str]:
    """The newest applied migration of each CaseLedger app (an export and the database it is
    imported into must agree)."""
    from django.db.migrations.recorder import MigrationRecorder

    labels = {c.label for c in apps.get_app_configs() if c.name.startswith("caseledger.")}
    newest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if app in labels and name > newest.get(app, ""):
            newest[app] = name
    return dict(sorted(newest.items()))


@contextmanager
def _snapshot(connection: Any) -> Iterator[None]:
    """PostgreSQL: every read in one REPEATABLE READ, read-only transaction (one snapshot).
    Inside a caller's transaction, or on SQLite (whose transactions here take the write lock
    at BEGIN), the reads run as they are."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _cell(value: Any) -> Any:
    """A JSON-ready value: dates ISO, decimals as strings, JSON fields as they are."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


Convert = Callable[[Any], Any]


def _sqlite_datetime(fallback: Convert) -> Convert:
    """SQLite keeps an aware datetime as its naive UTC value (Python's sqlite3 parses it back
    naive): its ISO form is the naive ``isoformat()`` plus ``+00:00``, what ``isoformat()`` of
    the aware value gives. Anything else goes through Django's converters."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.isoformat() + "+00:00"
        return fallback(value)

    return convert


def _sqlite_decimal(field: models.Field[Any, Any], connection: Any) -> Convert:
    """Django's SQLite decimal converter (a float or int quantized to the field's places)."""
    col = field.get_col(field.model._meta.db_table)
    converter = connection.ops.get_decimalfield_converter(col)

    def convert(value: Any) -> Any:
        return str(converter(value, col, connection))

    return convert


def _django(field: models.Field[Any, Any], connection: Any) -> Convert:
    """Django's own conversion of a raw column value (what ``values_list`` would give), then
    ``_cell``."""
    col = field.get_col(field.model._meta.db_table)
    converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)

    def convert(value: Any) -> Any:
        for converter in converters:
            value = converter(value, col, connection)
        value = _cell(value)
        if value is None or isinstance(value, str | int | float | dict | list):
            return value
        return str(value)

    return convert


def _converter(field: models.Field[Any, Any], connection: Any) -> Convert | None:
    """How one raw column value becomes its exported value (None: as it is). Applied only to
    values that are not NULL."""
    if connection.vendor == "postgresql" and _pg_text(field):
        return None  # printed by the database (``_pg_text``)
    while isinstance(field, models.ForeignKey):  # a key holds its target's type
        field = field.target_field
    internal = field.get_internal_type()
    vendor = connection.vendor
    if internal == "DateTimeField":
        return _sqlite_datetime(_django(field, connection)) if vendor == "sqlite" else _isoformat
    if internal == "DateField":
        return _isoformat
    if internal == "BooleanField":
        return bool
    if internal == "DecimalField":
        return str if vendor == "postgresql" else _sqlite_decimal(field, connection)
    if internal in _AS_IS:
        return None
    return _django(field, connection)


# PostgreSQL prints dates and times as the export writes them (what ``isoformat()`` gives for
# the value Django reads: aware datetimes in UTC, microseconds only when not zero), so those
# columns come as text, not parsed into Python objects to be printed again (a fifth of a large
# export's time went to that).
_PG_DATETIME = (
    "CASE WHEN MOD(EXTRACT(MICROSECONDS FROM {c})::bigint, 1000000) = 0 "
    "THEN to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') "
    "ELSE to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') END"
)
_PG_DATE = "to_char({c}, 'YYYY-MM-DD')"


def _pg_text(field: models.Field[Any, Any]) -> str | None:
    """The PostgreSQL expression printing ``field``'s column as the export writes it, if any."""
    if isinstance(field, models.ForeignKey):
        return None
    internal = field.get_internal_type()
    return {"DateTimeField": _PG_DATETIME, "DateField": _PG_DATE}.get(internal)


def _select(field: models.Field[Any, Any], column: str, connection: Any) -> str:
    template = _pg_text(field) if connection.vendor == "postgresql" else None
    return template.format(c=column) if template else column


def _isoformat(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else _cell(value)


_AS_IS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "URLField",
}


class _Table:
    """One table's columns and how its raw rows become CSV and JSON rows."""

    def __init__(self, model: type[models.Model], connection: Any) -> None:
        meta = model._meta
        self.label = f"{meta.app_label}.{meta.model_name}"
        skip = EXCLUDED_FIELDS.get((meta.app_label, str(meta.model_name)), set())
        fields = [f for f in meta.concrete_fields if f.name not in skip]
        self.columns = [f.attname for f in fields]
        self.binary = [f.attname for f in fields if isinstance(f, models.BinaryField)]
        pk = meta.pk
        self.pk = pk.attname if pk is not None else "id"
        selected = [f for f in fields if not isinstance(f, models.BinaryField)]
        quote = connection.ops.quote_name
        table = quote(meta.db_table)
        names = ", ".join(_select(f, f"{table}.{quote(f.column)}", connection) for f in selected)
        pk_column = pk.column if pk is not None else "id"
        key = f"{table}.{quote(pk_column)}"
        self.sql = f"SELECT {names}, {key} FROM {table} ORDER BY {key}"
        # Position of each exported column in the raw row (binary columns: None, the cell names
        # the file), the conversions, and the JSON columns (a JSON object in JSON Lines, its
        # text in the CSV).
        position = {f.attname: i for i, f in enumerate(selected)}
        self.key = len(selected)
        self.positions = [position.get(c) for c in self.columns]
        self.converts = [
            (i, fn) for i, f in enumerate(selected) if (fn := _converter(f, connection)) is not None
        ]
        self.json = [i for i, f in enumerate(selected) if isinstance(f, models.JSONField)]

    def rows(self, raw: list[tuple[Any, ...]]) -> tuple[list[list[Any]], list[list[Any]]]:
        """The CSV rows and the JSON rows (the same list when the table has no JSON column)
        of a batch of raw rows."""
        converts = self.converts
        out = []
        for values in raw:
            row = list(values)
            for i, fn in converts:
                value = row[i]
                if value is not None:
                    row[i] = fn(value)
            out.append(row)
        if self.json:
            for row in out:
                for i in self.json:
                    value = row[i]
                    if isinstance(value, str):
                        row[i] = json.loads(value)
        if self.binary or self.positions != list(range(len(self.columns))):
            label = self.label
            key = self.key
            positions = self.positions
            columns = self.columns
            out = [
                [
                    row[p] if p is not None else f"files/{label}/{row[key]}.{columns[n]}.bin"
                    for n, p in enumerate(positions)
                ]
                for row in out
            ]
        else:
            out = [row[: self.key] for row in out]
        if not self.json:
            return out, out
        json_at = [self.positions.index(i) for i in self.json]
        csv_rows = []
        for row in out:
            cells = list(row)
            for n in json_at:
                if cells[n] is not None:
                    cells[n] = json.dumps(cells[n], sort_keys=True, default=str)
            csv_rows.append(cells)
        return csv_rows, out


def _raw_batches(connection: Any, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``sql`` in batches of CHUNK, from a server-side cursor on PostgreSQL."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while batch := cursor.fetchmany(CHUNK):
            yield batch


_ENCODE = json.JSONEncoder(default=str).encode


def export_chunks(*, now: datetime) -> Iterator[bytes]:
    """The export zip, chunk by chunk (see the module docstring)."""
    with _snapshot(default_connection):
        yield from _export(now)


def _export(now: datetime) -> Iterator[bytes]:
    from django.db import connections, router

    from caseledger.billing.models import InvoicePdf
    from caseledger.core.models import AuditEvent

    sink = _Sink()
    manifest: dict[str, dict[str, Any]] = {}
    zf = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
    tables: dict[str, int] = {}
    for model in exported_models():
        connection = connections[router.db_for_read(model)]
        table = _Table(model, connection)
        # One read of the table: the CSV goes into the zip as it is read, the JSON Lines into a
        # spooled temporary file (memory up to SPOOL bytes, then disk) that follows it (a zip
        # takes one member at a time).
        member = _Member(zf, f"data/{table.label}.csv")
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(table.columns)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
            columns = table.columns
            for raw in _raw_batches(connection, table.sql):
                csv_rows, json_rows = table.rows(raw)
                writer.writerows(csv_rows)
                member.write(text.getvalue().encode())
                text.seek(0)
                text.truncate()
                spool.write(
                    "".join(
                        [_ENCODE(dict(zip(columns, row, strict=True))) + "\n" for row in json_rows]
                    ).encode()
                )
                member.rows += len(raw)
                yield sink.drain()
            member.write(text.getvalue().encode())
            manifest[member.name] = member.close()
            tables[table.label] = member.rows
            yield sink.drain()
            rows = member.rows
            # The audit log is the audit events' JSON Lines again, in chain order (the same
            # columns, primary-key order): written from the same spool, not read twice.
            names = [f"data/{table.label}.jsonl"]
            if model is AuditEvent:
                names.append(AUDIT_LOG)
            for name in names:
                member = _Member(zf, name)
                spool.seek(0)
                for block in iter(lambda: spool.read(1 << 20), b""):
                    member.write(block)
                    yield sink.drain()
                member.rows = rows
                manifest[member.name] = member.close()
                yield sink.drain()
        for name in table.binary:
            blobs = model._default_manager.order_by(table.pk).values_list(table.pk, name)
            for key, content in blobs.iterator(100):
                blob = _Member(zf, f"files/{table.label}/{key}.{name}.bin")
                blob.write(bytes(content or b""))
                blob.rows = 1
                manifest[blob.name] = blob.close()
                yield sink.drain()
    # The issued PDFs under their invoice numbers.
    pdfs = InvoicePdf.objects.order_by("id").values_list("invoice__number", "invoice_id", "content")
    for number, invoice_id, content in pdfs.iterator(chunk_size=200):
        name = f"pdfs/{number or invoice_id}.pdf"
        member = _Member(zf, name)
        member.write(bytes(content))
        member.rows = 1
        manifest[name] = member.close()
        yield sink.drain()
    body = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "migrations": schema_migrations(default_connection),
        "tables": tables,
        "files": manifest,
    }
    with zf.open(zip_info(MANIFEST), "w") as fh:
        fh.write(json.dumps(body, indent=1, sort_keys=True).encode())
    zf.close()
    yield sink.drain()


MANIFEST_MISSING = "manifest: {name} is listed but not in the zip"
MANIFEST_EXTRA = "manifest: {name} is in the zip but not listed"
MANIFEST_HASH = "manifest: {name} has SHA-256 {got}, the manifest says {want}"


def manifest_check(path_or_file: Any) -> list[str]:
    """Problems of an export zip against its manifest (empty: every file is listed and hashes
    to its manifest entry). Reads each member as a stream."""
    problems: list[str] = []
    with zipfile.ZipFile(path_or_file) as zf:
        manifest = json.loads(zf.read(MANIFEST))["files"]
        names = set(zf.namelist()) - {MANIFEST}
        for name in sorted(set(manifest) - names):
            problems.append(MANIFEST_MISSING.format(name=name))
        for name in sorted(names - set(manifest)):
            problems.append(MANIFEST_EXTRA.format(name=name))
        for name in sorted(names & set(manifest)):
            sha = hashlib.sha256()
            with zf.open(name) as fh:
                for block in iter(lambda: fh.read(1 << 16), b""):
                    sha.update(block)
            if sha.hexdigest() != manifest[name]["sha256"]:
                problems.append(
                    MANIFEST_HASH.format(
                        name=name, got=sha.hexdigest(), want=manifest[name]["sha256"]
                    )
                )
    return problems


def export_recorded(*, actor: Any, now: datetime, target: str) -> None:
    """The audit event of one export (written before the zip, so the export contains it)."""
    from django.db import transaction

    from caseledger.core import audit

    with transaction.atomic():
        audit.record(
            actor=actor,
            action="imports.firm_exported",
            at=now,
            after={"target": target, "format": FORMAT},
        )
