"""The firm's full export: every CaseLedger record as CSV and as JSON Lines, the issued PDFs (and
every other stored file), the audit log, and a manifest with the SHA-256 of each file, as one
zip written as a stream.

Nothing is held in memory beyond one chunk of rows: each table is read ONCE, as raw rows in
primary-key order from Django's chunked cursor (server-side on PostgreSQL), with a conversion per
column decided up front (dates to ISO text, printed by PostgreSQL itself; decimals to strings;
keys, integers, text and JSON text as they are) instead of model instances or Django's per-value
converters; a table whose columns all come as they are is written from the rows as read. The
CSV goes into its zip member as it is read; the JSON Lines of the same rows (orjson, with each
JSON column's stored text embedded unparsed) go to a spooled temporary file (memory up to
``SPOOL``, then disk) that becomes the next member, since a zip takes one member at a time. A
JSON column's CSV cell is the JSON text the database keeps (jsonb's key order on PostgreSQL).

Three things run at once: the database reads the next batch (fetched on a thread while this one
is encoded), the main thread turns rows into CSV and JSON, and the zip's own thread deflates,
checksums and hashes (``_Zip``; zlib and hashlib release the GIL). The zip goes to an unseekable
sink that the caller drains after every chunk (``export_chunks`` is a generator of bytes: the
command writes them to a file, the page streams them; closing the generator early ends both
threads); members are deflated at level 1 (``LEVEL``: several times faster than the default 6,
about a fifth larger on CSV/JSON). Zip members written to an unseekable stream carry data
descriptors, which every unzip reads.

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

Left out: the tables triggers keep (``DERIVED_TABLES``), Django's sessions, login throttling (axes)
and one-time-password devices, Django's groups and permissions (unused: a user's access is their
``role``), and the users' password hashes (a re-imported firm sets new passwords). Encrypted columns
(A-numbers, passports, dates of birth, bank account numbers) are exported as stored: Fernet tokens
under the firm's FIELD_ENCRYPTION_KEYS.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import threading
import zipfile
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import orjson
from django.apps import apps
from django.db import connection as default_connection
from django.db import models, transaction

CHUNK = 2000
FORMAT = "caseledger-export/2"  # /1 lacked the link tables and the schema (migrations)
EXCLUDED_FIELDS = {("core", "user"): {"password"}}
# Tables the database's own triggers keep from other tables: not exported, an import's
# triggers rebuild them from the rows it restores (the invoice tally, payments 0008; the
# change counts of cached reads, core.changes: a restore's own changes start new counts).
DERIVED_TABLES = frozenset({"payments.invoicetally", "core.changecount"})
MANIFEST = "manifest.json"
AUDIT_LOG = "audit/audit-log.jsonl"
SPOOL = 32 * 1024 * 1024  # JSON Lines of one table kept in memory before spilling to disk
LEVEL = 1  # deflate level: CSV and JSON compress well even at the fastest level


class _Sink(io.RawIOBase):
    """An unseekable, write-only byte buffer: the zip's thread writes, the generator drains."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._lock = threading.Lock()
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        with self._lock:
            self._parts.append(data)
            self.written += len(data)
        return len(data)

    def drain(self) -> bytes:
        with self._lock:
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


class _Zip:
    """The zip, written on a thread of its own: deflate, CRC-32 and SHA-256 release the GIL, so
    they run beside the reading and encoding of the next rows. Members are written one at a
    time, in the order asked (one worker); at most ``AHEAD`` writes wait, which bounds memory.
    A write that fails raises in the caller at its next call."""

    AHEAD = 8

    def __init__(self) -> None:
        self.sink = _Sink()
        self.manifest: dict[str, dict[str, Any]] = {}
        self._zf = zipfile.ZipFile(
            self.sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
        )
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="export-zip")
        self._pending: deque[Future[None]] = deque()
        self._member: _Member | None = None

    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        self._pending.append(self._pool.submit(fn, *args))
        while len(self._pending) > self.AHEAD or (self._pending and self._pending[0].done()):
            self._pending.popleft().result()

    def open(self, name: str) -> None:
        self._submit(self._open, name)

    def write(self, data: bytes) -> None:
        self._submit(self._write, data)

    def close(self, rows: int) -> None:
        self._submit(self._close, rows)

    def member(self, name: str, data: bytes) -> None:
        """A whole one-row member (a stored file)."""
        self.open(name)
        self.write(data)
        self.close(1)

    def _open(self, name: str) -> None:
        self._member = _Member(self._zf, name)

    def _write(self, data: bytes) -> None:
        assert self._member is not None
        self._member.write(data)

    def _close(self, rows: int) -> None:
        assert self._member is not None
        self._member.rows = rows
        self.manifest[self._member.name] = self._member.close()
        self._member = None

    def wait(self) -> None:
        """Every write asked so far done (or its error raised)."""
        while self._pending:
            self._pending.popleft().result()

    def finish(self, manifest: bytes) -> None:
        """The manifest written last, then the zip's central directory."""
        self.wait()
        with self._zf.open(zip_info(MANIFEST), "w") as fh:
            fh.write(manifest)
        self._zf.close()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


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
            elif meta.managed and meta.label_lower not in DERIVED_TABLES:
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
    if internal == "BooleanField":  # SQLite keeps 0 and 1
        return None if vendor == "postgresql" else bool
    if internal == "JSONField":  # its text, as the database keeps it (``_Table.rows``)
        return None
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
        # Position of each exported column in the raw row (binary columns: None, the cell names
        # the file, by the row's key), the conversions, and the JSON columns (a JSON object in
        # JSON Lines, its text in the CSV).
        position = {f.attname: i for i, f in enumerate(selected)}
        if self.pk in position:
            self.key = position[self.pk]
        else:  # the key is not exported as such: read it after the columns
            self.key = len(selected)
            names = f"{names}, {key}"
        self.sql = f"SELECT {names} FROM {table} ORDER BY {key}"
        self.positions = [position.get(c) for c in self.columns]
        # The raw rows are the exported rows when every column is read as it is, in order.
        self.as_read = self.key < len(selected) and self.positions == list(range(len(selected)))
        self.converts = [
            (i, fn) for i, f in enumerate(selected) if (fn := _converter(f, connection)) is not None
        ]
        self.json_at = [
            self.positions.index(i)
            for i, f in enumerate(selected)
            if isinstance(f, models.JSONField)
        ]

    def rows(self, raw: list[tuple[Any, ...]]) -> tuple[list[Any], bytes]:
        """The CSV rows and the JSON Lines of a batch of raw rows. A JSON column's text goes
        into both as the database keeps it (a CSV cell; an object in the line, not parsed)."""
        converts = self.converts
        out: list[Any] = raw
        if converts:
            out = []
            for values in raw:
                row = list(values)
                for i, fn in converts:
                    value = row[i]
                    if value is not None:
                        row[i] = fn(value)
                out.append(row)
        if not self.as_read:
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
        columns = self.columns
        if not self.json_at:
            lines = [_dumps(dict(zip(columns, row, strict=True))) for row in out]
        else:
            json_at = self.json_at
            lines = []
            for row in out:
                cells = list(row)
                for n in json_at:
                    if cells[n] is not None:
                        cells[n] = orjson.Fragment(cells[n])
                lines.append(_dumps(dict(zip(columns, cells, strict=True))))
        return out, b"".join(lines)


def _raw_batches(connection: Any, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``sql`` in batches of CHUNK, from a server-side cursor on PostgreSQL, where
    the next batch is fetched on a second thread while the caller works on this one (the
    database formats it meanwhile; psycopg waits without the GIL)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        if connection.vendor != "postgresql":
            while batch := cursor.fetchmany(CHUNK):
                yield batch
            return
        with ThreadPoolExecutor(1, thread_name_prefix="export-fetch") as pool:
            ahead = pool.submit(cursor.fetchmany, CHUNK)
            while batch := ahead.result():
                ahead = pool.submit(cursor.fetchmany, CHUNK)
                yield batch


def _dumps(record: dict[str, Any]) -> bytes:
    """One JSON Lines line (orjson: several times faster than ``json``; UTF-8, not escaped)."""
    return orjson.dumps(record, default=str, option=orjson.OPT_APPEND_NEWLINE)


def export_chunks(*, now: datetime) -> Generator[bytes, None, None]:
    """The export zip, chunk by chunk (see the module docstring)."""
    with _snapshot(default_connection):
        yield from _export(now)


def _export(now: datetime) -> Iterator[bytes]:
    out = _Zip()
    try:
        yield from _write_export(out, now)
    finally:
        out.shutdown()


def _write_export(out: _Zip, now: datetime) -> Iterator[bytes]:
    from django.db import connections, router

    from caseledger.billing.models import InvoicePdf
    from caseledger.core.models import AuditEvent

    tables: dict[str, int] = {}
    for model in exported_models():
        connection = connections[router.db_for_read(model)]
        table = _Table(model, connection)
        # One read of the table: the CSV goes into the zip as it is read, the JSON Lines into a
        # spooled temporary file (memory up to SPOOL bytes, then disk) that follows it (a zip
        # takes one member at a time).
        out.open(f"data/{table.label}.csv")
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(table.columns)
        rows = 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
            for raw in _raw_batches(connection, table.sql):
                csv_rows, lines = table.rows(raw)
                writer.writerows(csv_rows)
                out.write(text.getvalue().encode())
                text.seek(0)
                text.truncate()
                spool.write(lines)
                rows += len(raw)
                yield out.sink.drain()
            out.write(text.getvalue().encode())
            out.close(rows)
            tables[table.label] = rows
            yield out.sink.drain()
            # The audit log is the audit events' JSON Lines again, in chain order (the same
            # columns, primary-key order): written from the same spool, not read twice.
            names = [f"data/{table.label}.jsonl"]
            if model is AuditEvent:
                names.append(AUDIT_LOG)
            for name in names:
                out.open(name)
                spool.seek(0)
                for block in iter(lambda: spool.read(1 << 20), b""):
                    out.write(block)
                    yield out.sink.drain()
                out.close(rows)
                yield out.sink.drain()
            out.wait()  # the spool is read before it goes
        for name in table.binary:
            blobs = model._default_manager.order_by(table.pk).values_list(table.pk, name)
            for key, content in blobs.iterator(100):
                out.member(f"files/{table.label}/{key}.{name}.bin", bytes(content or b""))
                yield out.sink.drain()
    # The issued PDFs under their invoice numbers.
    pdfs = InvoicePdf.objects.order_by("id").values_list("invoice__number", "invoice_id", "content")
    for number, invoice_id, content in pdfs.iterator(chunk_size=200):
        out.member(f"pdfs/{number or invoice_id}.pdf", bytes(content))
        yield out.sink.drain()
    out.wait()
    body = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "migrations": schema_migrations(default_connection),
        "tables": tables,
        "files": out.manifest,
    }
    out.finish(json.dumps(body, indent=1, sort_keys=True).encode())
    yield out.sink.drain()


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
