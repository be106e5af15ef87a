"""The full export: every record as CSV and JSON Lines, the PDFs, the audit log, and a manifest
whose SHA-256 per file checks out; written as a stream."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from django.core.management import call_command
from django.db.models import BinaryField, JSONField

from caseledger.billing.models import Invoice, InvoicePdf
from caseledger.billing.tests.factories import build_world, issued_invoice
from caseledger.core.models import AuditEvent
from caseledger.imports.export import (
    EXCLUDED_FIELDS,
    export_chunks,
    exported_models,
    manifest_check,
)

pytestmark = pytest.mark.django_db


def test_export_firm_manifest_checks_out(users: dict[str, Any], now: Any, tmp_path: Path) -> None:
    world = build_world(users)
    invoice = issued_invoice(world)
    assert InvoicePdf.objects.filter(invoice=invoice).exists()
    out = tmp_path / "firm.zip"
    stdout = StringIO()
    call_command("export_firm", str(out), stdout=stdout)
    line = json.loads(stdout.getvalue())
    assert line["bytes"] == out.stat().st_size
    assert manifest_check(out) == []
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
        for model in exported_models():
            label = f"{model._meta.app_label}.{model._meta.model_name}"
            assert {f"data/{label}.csv", f"data/{label}.jsonl"} <= names
            assert manifest["tables"][label] == model._default_manager.count(), label
        rows = list(csv.DictReader(io.StringIO(zf.read("data/billing.invoice.csv").decode())))
        assert [r["number"] for r in rows] == [invoice.number]
        users_rows = zf.read("data/core.user.jsonl").decode().splitlines()
        assert users_rows
        assert all("password" not in json.loads(r) for r in users_rows)
        pdf = zf.read(f"pdfs/{invoice.number}.pdf")
        assert pdf == bytes(InvoicePdf.objects.get(invoice=invoice).content)
        assert pdf.startswith(b"%PDF")
        audit = zf.read("audit/audit-log.jsonl").decode().splitlines()
        assert len(audit) == AuditEvent.objects.count()
        assert json.loads(audit[-1])["action"] == "imports.firm_exported"
        assert Invoice.objects.count() == manifest["tables"]["billing.invoice"]
        for model in exported_models():
            _assert_rows_as_the_orm_reads_them(zf, model)

    # A changed byte in any file is caught by the manifest.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "data/billing.invoice.csv":
                data = data.replace(invoice.number.encode(), b"X" * len(invoice.number))
            dst.writestr(item.filename, data)
    problems = manifest_check(tampered)
    assert len(problems) == 1
    assert problems[0].startswith("manifest: data/billing.invoice.csv")


def test_export_is_streamed_in_chunks(users: dict[str, Any], now: Any) -> None:
    build_world(users)
    chunks = list(export_chunks(now=now))
    assert len(chunks) > len(exported_models())  # at least one chunk per table, then the rest
    assert max(len(c) for c in chunks) < sum(len(c) for c in chunks)
    assert manifest_check(io.BytesIO(b"".join(chunks))) == []


def _orm_cell(value: Any) -> Any:
    """What the ORM's value becomes in the export: ISO dates, decimals as text, the rest as is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _assert_rows_as_the_orm_reads_them(zf: zipfile.ZipFile, model: Any) -> None:
    """The export reads raw rows with its own conversion per column; every cell of both files
    must equal the value Django's ORM reads, formatted (CSV: NULL empty; a JSON column's cell
    is the JSON text the database keeps, so it is compared parsed)."""
    meta = model._meta
    label = f"{meta.app_label}.{meta.model_name}"
    skip = EXCLUDED_FIELDS.get((meta.app_label, meta.model_name), set())
    fields = [f for f in meta.concrete_fields if f.name not in skip]
    plain = [f.attname for f in fields if not isinstance(f, BinaryField)]
    expected = []
    for values in model._default_manager.order_by("pk").values_list(*plain, "pk"):
        record = dict(zip(plain, values[:-1], strict=True))
        expected.append(
            {
                f.attname: (
                    f"files/{label}/{values[-1]}.{f.attname}.bin"
                    if isinstance(f, BinaryField)
                    else _orm_cell(record[f.attname])
                )
                for f in fields
            }
        )
    lines = zf.read(f"data/{label}.jsonl").decode().splitlines()
    assert [json.loads(line) for line in lines] == expected, label
    text = io.StringIO(zf.read(f"data/{label}.csv").decode(), newline="")
    rows = list(csv.reader(text))
    assert rows[0] == [f.attname for f in fields], label
    json_columns = {n for n, f in enumerate(fields) if isinstance(f, JSONField)}
    got = [
        [json.loads(cell) if n in json_columns and cell else cell for n, cell in enumerate(row)]
        for row in rows[1:]
    ]
    want = [
        [
            "" if v is None else v if n in json_columns else str(v)
            for n, v in enumerate(row.values())
        ]
        for row in expected
    ]
    assert got == want, label


def test_dates_and_times_print_as_isoformat_at_their_edges(now: Any) -> None:
    """PostgreSQL prints date and time columns itself (no parse and print again in Python):
    every cell must still be ``isoformat()`` of what the ORM reads, with and without
    microseconds, at midnight and in year 1."""
    from datetime import UTC

    from caseledger.imports.models import ImportJob

    for created, finished in (
        (datetime(2026, 11, 2, 12, 0, 0, tzinfo=UTC), None),
        (datetime(2026, 11, 2, 23, 59, 59, 999_999, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)),
        (datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC), datetime(9999, 12, 31, 0, 0, tzinfo=UTC)),
    ):
        ImportJob.objects.create(
            source="caseledger",
            filename="f.csv",
            content="",
            created_at=created,
            finished_at=finished,
        )
    zf = zipfile.ZipFile(io.BytesIO(b"".join(export_chunks(now=now))))
    _assert_rows_as_the_orm_reads_them(zf, ImportJob)


def test_a_stream_closed_early_stops_its_threads_and_the_next_export_is_whole(
    users: dict[str, Any], now: Any
) -> None:
    """The page's download can stop half-way (the browser went away): the zip's and the fetch's
    threads end with the generator, and the connection serves the next export."""
    import threading

    build_world(users)
    before = {t.ident for t in threading.enumerate()}
    chunks = export_chunks(now=now)
    taken = [next(chunks) for _ in range(5)]
    assert any(t.name.startswith("export-") for t in threading.enumerate())
    chunks.close()
    assert taken
    assert {t.ident for t in threading.enumerate()} <= before
    assert manifest_check(io.BytesIO(b"".join(export_chunks(now=now)))) == []


def test_an_export_that_fails_leaves_no_zip(
    users: dict[str, Any], now: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure half-way (here: a row the encoder cannot write) raises from the command and
    leaves neither the zip nor its partial file."""
    from caseledger.imports import export

    build_world(users)

    def broken(self: Any, raw: Any) -> Any:
        if self.label == "core.user":
            raise ValueError("cannot encode")
        return original(self, raw)

    original = export._Table.rows
    monkeypatch.setattr(export._Table, "rows", broken)
    out = tmp_path / "firm.zip"
    with pytest.raises(ValueError, match="cannot encode"):
        call_command("export_firm", str(out), stdout=StringIO())
    assert list(tmp_path.iterdir()) == []
