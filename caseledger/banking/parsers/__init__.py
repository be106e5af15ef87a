"""Statement parsers: ``detect`` recognises the format from the content, ``parse_file`` returns
the statements as the file states them. See ``base`` for what a parser returns."""

from __future__ import annotations

import re

from caseledger.banking.parsers import bai, camt, csvfile, ofx, swift
from caseledger.banking.parsers.base import (
    FILE_EMPTY,
    FILE_INTRADAY,
    FILE_UNKNOWN_FORMAT,
    ParsedStatement,
    StatementRefused,
)
from caseledger.banking.parsers.csvfile import CsvMapping

_XML_ROOT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)([^>]*)>")
_XMLNS = re.compile(rb"xmlns(?::\w+)?=[\"']([^\"']*)[\"']")


def detect(content: bytes) -> str:
    """The format of a statement file: CSV, OFX, CAMT053, CAMT054, BAI2 or MT940. Refuses
    intraday reports, investment statements and anything else, naming what was found."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if not head:
        raise StatementRefused(FILE_EMPTY)
    if b"OFXHEADER" in head[:1024] or head.upper().startswith(b"<OFX>"):
        if b"<INVSTMTMSGSRSV1>" in content.upper():
            raise StatementRefused(
                "file: an investment statement (OFX INVSTMTRS) is not a bank statement; "
                "export the bank or credit-card account instead"
            )
        return "OFX"
    if head.startswith(b"<"):
        m = _XML_ROOT.search(head)
        ns = _XMLNS.search(m.group(2)) if m else None
        namespace = ns.group(1).decode("ascii", "replace") if ns else ""
        root = m.group(1).decode("ascii", "replace") if m else "?"
        found = camt.detect(f"{{{namespace}}}{root.split(':')[-1]}")
        if found is None:
            what = f"XML with root element {root}" + (f" in {namespace}" if namespace else "")
            raise StatementRefused(FILE_UNKNOWN_FORMAT.format(found=what))
        message, version = found
        if message == "052":
            raise StatementRefused(FILE_INTRADAY.format(found=f"camt.052.001.{version}"))
        return "CAMT053" if message == "053" else "CAMT054"
    if head.startswith(b"01,"):
        return "BAI2"
    text = head.decode("latin-1")
    if re.search(r"^:20:", text, re.M) or text.startswith("{1:"):
        if swift.is_intraday(text):
            raise StatementRefused(FILE_INTRADAY.format(found="MT942"))
        return "MT940"
    if head.startswith(b"%PDF"):
        raise StatementRefused(FILE_UNKNOWN_FORMAT.format(found="a PDF document"))
    if head.startswith(b"PK\x03\x04"):
        raise StatementRefused(FILE_UNKNOWN_FORMAT.format(found="a ZIP archive or Excel workbook"))
    if head.startswith(b"!Type:") or head.startswith(b"!Account"):
        raise StatementRefused(FILE_UNKNOWN_FORMAT.format(found="QIF"))
    if head.startswith((b"{", b"[")):
        raise StatementRefused(FILE_UNKNOWN_FORMAT.format(found="JSON"))
    if b"\x00" in head:
        raise StatementRefused(FILE_UNKNOWN_FORMAT.format(found="binary data"))
    if csvfile.looks_like_csv(content):
        return "CSV"
    raise StatementRefused(FILE_UNKNOWN_FORMAT.format(found="text that is not a CSV table"))


def parse_file(
    content: bytes, *, csv_mapping: CsvMapping | None = None, currency: str = "USD"
) -> tuple[str, list[ParsedStatement]]:
    """(format, statements). ``csv_mapping`` and ``currency`` are for CSV, whose files name
    neither their columns' meaning nor the currency."""
    fmt = detect(content)
    if fmt == "OFX":
        return fmt, ofx.parse(content)
    if fmt in ("CAMT053", "CAMT054"):
        return fmt, camt.parse(content)
    if fmt == "BAI2":
        return fmt, bai.parse(content)
    if fmt == "MT940":
        return fmt, swift.parse(content)
    return fmt, csvfile.parse(content, csv_mapping, currency)
