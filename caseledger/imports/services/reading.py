"""Reading a source file: the source by code, the upload's text, its CSV rows, a mapping's
columns checked against the file's headers, and dates."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

from caseledger.imports.exceptions import ImportRefused
from caseledger.imports.sources import SOURCES, Source

UNKNOWN_SOURCE = "source: unknown source {source!r} (one of {allowed})"
EMPTY_FILE = "file: has no header row"
NOT_CSV = "file: cannot be read as CSV text ({error})"
MAPPING_UNKNOWN_FIELD = "columns: {field!r} is not a field of {source}"
MAPPING_UNKNOWN_HEADER = "columns.{field}: the file has no column {header!r}"


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m%d%Y")


def source_get(code: str) -> Source:
    try:
        return SOURCES[code]
    except KeyError:
        raise ImportRefused(
            UNKNOWN_SOURCE.format(source=code, allowed=", ".join(SOURCES)), field="source"
        ) from None


def decode_upload(data: bytes) -> str:
    """The file as text: UTF-8 (with or without a byte-order mark), else Windows-1252 (what
    QuickBooks Desktop and Excel write)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_csv(content: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Headers and rows, each with the physical line it starts on (the header is line 1)."""
    try:
        reader = csv.reader(io.StringIO(content))
        headers = [h.strip() for h in next(reader, [])]
        if not any(headers):
            raise ImportRefused(EMPTY_FILE, field="file")
        rows: list[tuple[int, dict[str, str]]] = []
        line = reader.line_num + 1
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.append((line, dict(zip(headers, record, strict=False))))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportRefused(NOT_CSV.format(error=exc), field="file") from None
    return headers, rows


def mapping_check(*, source: Source, columns: dict[str, str], headers: Iterable[str]) -> None:
    """Refuse a mapping naming a field the source lacks or a header the file lacks."""
    names = set(source.field_names())
    present = set(headers)
    for target, header in columns.items():
        if target not in names:
            raise ImportRefused(
                MAPPING_UNKNOWN_FIELD.format(field=target, source=source.code), field="columns"
            )
        if header and header not in present:
            raise ImportRefused(
                MAPPING_UNKNOWN_HEADER.format(field=target, header=header),
                field=f"columns.{target}",
            )


def _mapped(
    row: dict[str, str], columns: dict[str, str], defaults: dict[str, str], source: Source
) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in source.field_names():
        header = columns.get(name) or ""
        value = (row.get(header) or "").strip() if header else ""
        out[name] = value or str(defaults.get(name) or "").strip()
    return out


def parse_date(text: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()  # noqa: DTZ007 (a date only)
        except ValueError:
            continue
    raise ValueError(text)
