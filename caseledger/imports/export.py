"""The firm's full export: every CaseLedger record as CSV and as JSON Lines, the issued PDFs (and
every other stored file), the audit log, and a manifest with the SHA-256 of each file, as one
zip written as a stream.

Nothing is held in memory beyond one chunk of rows: each table is read with ``.iterator()``
(server-side cursor on PostgreSQL), each row is written into the zip member as it is read, and
the zip itself goes to an unseekable sink that the caller drains after every chunk
(``export_chunks`` is a generator of bytes: the command writes them to a file, the page streams
them). Zip members written to an unseekable stream carry data descriptors, which every unzip
reads.

Layout::

    manifest.json                        {"files": {name: {"sha256", "bytes", "rows"}}, ...}
    data/<app>.<model>.csv               header = the model's column names (attname)
    data/<app>.<model>.jsonl             one JSON object per row, same keys
    files/<app>.<model>/<pk>.<field>.bin  binary columns, one file per row (the cell names it)
    pdfs/<invoice number>.pdf            the issued invoices' PDFs (also under files/)
    audit/audit-log.jsonl                the audit chain in order (core.AuditEvent)

Left out: Django's sessions, login throttling (axes) and one-time-password devices, and the
users' password hashes (a re-imported firm sets new passwords).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.apps import apps
from django.db import models

CHUNK = 2000
EXCLUDED_FIELDS = {("core", "user"): {"password"}}
MANIFEST = "manifest.json"


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
    """Every concrete model of the CaseLedger apps, in app then model order."""
    out = []
    for config in apps.get_app_configs():
        if not config.name.startswith("caseledger."):
            continue
        for model in config.get_models():
            if not model._meta.abstract and not model._meta.proxy and model._meta.managed:
                out.append(model)
    return out


def _cell(value: Any) -> Any:
    """A JSON-ready value: dates ISO, decimals as strings, JSON fields as they are."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _csv_cell(value: Any) -> Any:
    value = _cell(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if value is None:
        return ""
    return value


def export_chunks(*, now: datetime) -> Iterator[bytes]:
    """The export zip, chunk by chunk (see the module docstring)."""
    from caseledger.billing.models import InvoicePdf
    from caseledger.core.models import AuditEvent

    sink = _Sink()
    manifest: dict[str, dict[str, Any]] = {}
    zf = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
    tables: dict[str, int] = {}
    for model in exported_models():
        meta = model._meta
        label = f"{meta.app_label}.{meta.model_name}"
        skip = EXCLUDED_FIELDS.get((meta.app_label, str(meta.model_name)), set())
        fields = [f for f in meta.concrete_fields if f.name not in skip]
        columns = [f.attname for f in fields]
        binary = [f.attname for f in fields if isinstance(f, models.BinaryField)]
        pk = meta.pk.attname if meta.pk is not None else "id"
        # A zip takes one member at a time: the CSV, then the JSON Lines, then the files, each
        # its own pass over the table (a read per pass, never the table in memory).
        for fmt in ("csv", "jsonl"):
            member = _Member(zf, f"data/{label}.{fmt}")
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            if fmt == "csv":
                writer.writerow(columns)
            qs = model._default_manager.order_by(pk)
            # Binary columns are exported as files; the cell names the file.
            rows = qs.values_list(*[c for c in columns if c not in binary], pk).iterator(CHUNK)
            for values in rows:
                key = values[-1]
                plain = dict(zip([c for c in columns if c not in binary], values[:-1], strict=True))
                record = {
                    c: (f"files/{label}/{key}.{c}.bin" if c in binary else plain[c])
                    for c in columns
                }
                if fmt == "csv":
                    writer.writerow([_csv_cell(record[c]) for c in columns])
                else:
                    text.write(json.dumps({k: _cell(v) for k, v in record.items()}, default=str))
                    text.write("\n")
                member.rows += 1
                if member.rows % CHUNK == 0:
                    member.write(text.getvalue().encode())
                    text.seek(0)
                    text.truncate()
                    yield sink.drain()
            member.write(text.getvalue().encode())
            manifest[member.name] = member.close()
            tables[label] = member.rows
            yield sink.drain()
        for name in binary:
            blobs = model._default_manager.order_by(pk).values_list(pk, name).iterator(100)
            for key, content in blobs:
                blob = _Member(zf, f"files/{label}/{key}.{name}.bin")
                blob.write(bytes(content or b""))
                blob.rows = 1
                manifest[blob.name] = blob.close()
                yield sink.drain()
    # The issued PDFs under their invoice numbers.
    pdfs = (
        InvoicePdf.objects.select_related("invoice")
        .only("content", "invoice__number")
        .order_by("id")
        .iterator(chunk_size=200)
    )
    for pdf in pdfs:
        name = f"pdfs/{pdf.invoice.number or pdf.invoice_id}.pdf"
        member = _Member(zf, name)
        member.write(bytes(pdf.content))
        member.rows = 1
        manifest[name] = member.close()
        yield sink.drain()
    # The audit log, in chain order.
    audit = _Member(zf, "audit/audit-log.jsonl")
    columns = [f.attname for f in AuditEvent._meta.concrete_fields]
    for values in AuditEvent.objects.order_by("id").values_list(*columns).iterator(CHUNK):
        audit.write(
            (
                json.dumps({c: _cell(v) for c, v in zip(columns, values, strict=True)}, default=str)
                + "\n"
            ).encode()
        )
        audit.rows += 1
        if audit.rows % CHUNK == 0:
            yield sink.drain()
    manifest[audit.name] = audit.close()
    body = {
        "format": "caseledger-export/1",
        "created_at": now.isoformat(),
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
            after={"target": target, "format": "caseledger-export/1"},
        )
