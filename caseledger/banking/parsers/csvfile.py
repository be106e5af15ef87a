"""CSV statements from any bank, read through a column mapping (saved per bank account).

Decoding: UTF-8 (with or without BOM), else Windows-1252. The delimiter is sniffed (comma,
semicolon, tab, pipe). The first non-empty row is the header; columns are named by it. The
mapping names the date column and its format, either one signed amount column or debit and
credit columns, and optionally description, reference and running balance; ``decimal_comma``
reads ``1.234,56``. ``suggest_mapping`` proposes one from the header names and the values, and
says when the dates read two ways (``03/04/2026``): then only a person can decide.

With a running balance the file checks itself: each row's balance must be the previous one plus
its amount (rows newest first are turned round), opening = first balance - first amount,
closing = last balance. Without one the statement states no balances.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from caseledger.banking.parsers.base import (
    FILE_EMPTY,
    FILE_MALFORMED,
    Control,
    ParsedLine,
    ParsedStatement,
    StatementRefused,
)
from caseledger.core.money import CURRENCY_EXPONENTS

DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
    "%Y%m%d",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%b %d, %Y",
)

DELIMITERS = (",", ";", "\t", "|")

CSV_NO_HEADER = "file: the CSV file has no header row with column names"
CSV_NO_ROWS = "file: the CSV file has a header but no rows"
CSV_COLUMN_MISSING = "{field}: column {column!r} is not in the file's header ({header})"
CSV_MAPPING_INCOMPLETE = (
    "mapping: choose the date column and either an amount column or debit and credit columns"
)
CSV_NO_MAPPING = (
    "mapping: no column mapping is saved for this CSV layout and none can be guessed from the "
    "header ({header}); map the columns on the import page first"
)
CSV_DATES_AMBIGUOUS = (
    "date: the dates in column {column!r} read in more than one way ({formats}; e.g. "
    "{example!r}); save a column mapping with the date format for this account first"
)
CSV_DATE_UNREADABLE = "date: row {row}: {text!r} is not a date in the format {format}"
CSV_DATE_NO_FORMAT = "date: no known date format reads every value of column {column!r}"
CSV_AMOUNT_UNREADABLE = "{field}: row {row}: {text!r} is not an amount"
CSV_BALANCE_BREAK = (
    "balance: row {row}: the running balance {balance} is not the previous balance {previous} "
    "plus the amount {amount} (= {expected}), in either order of the rows"
)
CSV_DATE_FORMAT_UNKNOWN = "date_format: must be one of {formats} (got {value!r})"

HEADER_HINTS: dict[str, tuple[str, ...]] = {
    "date": ("booking date", "posting date", "posted", "date", "buchungstag", "fecha", "datum"),
    "amount": ("amount", "betrag", "importe", "montant", "value"),
    "debit": ("debit", "withdrawal", "paid out", "money out", "soll"),
    "credit": ("credit", "deposit", "paid in", "money in", "haben"),
    "description": (
        "description",
        "details",
        "narrative",
        "memo",
        "payee",
        "verwendungszweck",
        "text",
    ),
    "reference": ("reference", "ref", "transaction id", "check", "fitid"),
    "balance": ("running balance", "balance", "saldo", "kontostand"),
}


@dataclass
class CsvMapping:
    """Saved per bank account as JSON (``BankAccount.csv_mapping``)."""

    header: list[str] = field(default_factory=list)  # the layout this mapping was made for
    date: str = ""
    date_format: str = ""
    amount: str = ""
    debit: str = ""
    credit: str = ""
    description: str = ""
    reference: str = ""
    balance: str = ""
    decimal_comma: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> CsvMapping | None:
        if not data:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def fits(self, header: list[str]) -> bool:
        return [h.strip() for h in self.header] == [h.strip() for h in header]


@dataclass
class CsvTable:
    header: list[str]
    rows: list[list[str]]
    encoding: str
    delimiter: str


def decode(content: bytes) -> tuple[str, str]:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace"), "cp1252"


def read_table(content: bytes) -> CsvTable:
    text, encoding = decode(content)
    if not text.strip():
        raise StatementRefused(FILE_EMPTY)
    first = next((line for line in text.splitlines() if line.strip()), "")
    # The header names the columns and seldom holds a delimiter itself: the most frequent
    # candidate in it is the delimiter (comma on a tie or when there is none).
    delimiter = max(DELIMITERS, key=lambda d: (first.count(d), d == ","))
    try:
        rows = [
            r
            for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            if any(c.strip() for c in r)
        ]
    except csv.Error as exc:
        raise StatementRefused(FILE_MALFORMED.format(format="CSV", detail=exc)) from None
    if not rows:
        raise StatementRefused(FILE_EMPTY)
    header = [h.strip() for h in rows[0]]
    if not any(header) or all(_looks_like_value(h) for h in header if h):
        raise StatementRefused(CSV_NO_HEADER)
    body = rows[1:]
    if not body:
        raise StatementRefused(CSV_NO_ROWS)
    return CsvTable(header=header, rows=body, encoding=encoding, delimiter=delimiter)


def _looks_like_value(text: str) -> bool:
    return bool(re.fullmatch(r"[\d\s.,/()+-]+", text))


def looks_like_csv(content: bytes) -> bool:
    """At least two rows with the same number (> 1) of delimited columns."""
    try:
        table = read_table(content)
    except StatementRefused:
        return False
    return len(table.header) > 1 and all(len(r) == len(table.header) for r in table.rows[:20])


def _column(header: list[str], key: str, taken: set[str]) -> str:
    lowered = [(h, h.strip().casefold()) for h in header]
    for hint in HEADER_HINTS[key]:
        for original, low in lowered:
            if original in taken:
                continue
            if low == hint or (len(hint) > 3 and hint in low):
                return original
    return ""


def date_formats_for(values: list[str]) -> list[str]:
    """The formats that read every value; formats giving the same dates count once."""
    readings: dict[tuple[date, ...], str] = {}
    for fmt in DATE_FORMATS:
        try:
            parsed = tuple(datetime.strptime(v.strip(), fmt).date() for v in values)  # noqa: DTZ007
        except ValueError:
            continue
        readings.setdefault(parsed, fmt)
    return list(readings.values())


def suggest_mapping(table: CsvTable) -> tuple[CsvMapping, str]:
    """A mapping guessed from the header and values, and '' or the reason it is not safe to
    use without a person (ambiguous dates, missing columns)."""
    taken: set[str] = set()
    found: dict[str, str] = {}
    for key in ("date", "balance", "debit", "credit", "amount", "description", "reference"):
        col = _column(table.header, key, taken)
        if col:
            found[key] = col
            taken.add(col)
    if found.get("debit") and found.get("credit"):
        found.pop("amount", None)
    else:
        found.pop("debit", None)
        found.pop("credit", None)
    mapping = CsvMapping(header=list(table.header))
    for key, col in found.items():
        setattr(mapping, key, col)
    if not mapping.date or not (mapping.amount or (mapping.debit and mapping.credit)):
        return mapping, CSV_NO_MAPPING.format(header=", ".join(table.header))
    idx = table.header.index(mapping.date)
    values = [r[idx] for r in table.rows if idx < len(r) and r[idx].strip()]
    formats = date_formats_for(values)
    amount_cols = [c for c in (mapping.amount, mapping.debit, mapping.credit, mapping.balance) if c]
    mapping.decimal_comma = _decimal_comma(table, amount_cols)
    if not formats:
        return mapping, CSV_DATE_NO_FORMAT.format(column=mapping.date)
    mapping.date_format = formats[0]
    if len(formats) > 1:
        return mapping, CSV_DATES_AMBIGUOUS.format(
            column=mapping.date, formats=" or ".join(formats), example=values[0]
        )
    return mapping, ""


_COMMA_DECIMAL = re.compile(r"^\(?[-+]?[\d. ]*\d,\d{1,3}\)?-?$")
_POINT_DECIMAL = re.compile(r"^\(?[-+]?[\d, ]*\d\.\d{1,3}\)?-?$")


def _decimal_comma(table: CsvTable, columns: list[str]) -> bool:
    comma = point = 0
    for col in columns:
        i = table.header.index(col)
        for r in table.rows[:200]:
            v = (
                r[i].strip().replace("$", "").replace("€", "").replace("£", "")
                if i < len(r)
                else ""
            )
            comma += bool(_COMMA_DECIMAL.match(v))
            point += bool(_POINT_DECIMAL.match(v))
    return comma > point


def parse_amount(text: str, *, decimal_comma: bool, currency: str) -> int | None:
    """'1,234.56' / '1.234,56' / '(12.00)' / '12.00-' / '-$5' -> signed minor units; None when
    empty; ValueError when not an amount."""
    raw = text.strip()
    for symbol in ("$", "€", "£", "¥", "USD", "EUR", "GBP", "CAD", "\xa0", " "):
        raw = raw.replace(symbol, "")
    if not raw:
        return None
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1]
    if raw.endswith("-"):
        negative, raw = True, raw[:-1]
    if raw.startswith(("-", "+")):
        negative, raw = negative or raw[0] == "-", raw[1:]
    if decimal_comma:
        raw = raw.replace(".", "").replace(",", ".")
    else:
        raw = raw.replace(",", "")
    places = CURRENCY_EXPONENTS.get(currency, 2)
    m = re.fullmatch(r"(\d+)(?:\.(\d*))?", raw)
    if not m or len(m.group(2) or "") > places:
        raise ValueError(text)
    whole, frac = m.group(1), (m.group(2) or "").ljust(places, "0")
    cents = int(whole) * 10**places + (int(frac) if frac else 0)
    return -cents if negative else cents


def parse(content: bytes, mapping: CsvMapping | None, currency: str) -> list[ParsedStatement]:
    table = read_table(content)
    if mapping is None or not mapping.fits(table.header):
        mapping, problem = suggest_mapping(table)
        if problem:
            raise StatementRefused(problem)
    return [parse_table(table, mapping, currency)]


def _index(table: CsvTable, mapping: CsvMapping, name: str) -> int | None:
    column = getattr(mapping, name)
    if not column:
        return None
    if column not in table.header:
        raise StatementRefused(
            CSV_COLUMN_MISSING.format(field=name, column=column, header=", ".join(table.header))
        )
    return table.header.index(column)


def parse_table(table: CsvTable, mapping: CsvMapping, currency: str) -> ParsedStatement:
    if not mapping.date or not (mapping.amount or (mapping.debit and mapping.credit)):
        raise StatementRefused(CSV_MAPPING_INCOMPLETE)
    if mapping.date_format not in DATE_FORMATS:
        raise StatementRefused(
            CSV_DATE_FORMAT_UNKNOWN.format(
                formats=", ".join(DATE_FORMATS), value=mapping.date_format
            )
        )
    cols = {
        name: _index(table, mapping, name)
        for name in ("date", "amount", "debit", "credit", "description", "reference", "balance")
    }

    def cell(row: list[str], name: str) -> str:
        i = cols[name]
        return row[i].strip() if i is not None and i < len(row) else ""

    def amount(row: list[str], name: str, n: int) -> int | None:
        try:
            return parse_amount(
                cell(row, name), decimal_comma=mapping.decimal_comma, currency=currency
            )
        except ValueError:
            raise StatementRefused(
                CSV_AMOUNT_UNREADABLE.format(field=name, row=n, text=cell(row, name))
            ) from None

    lines: list[ParsedLine] = []
    for n, row in enumerate(table.rows, start=2):
        text = cell(row, "date")
        try:
            day = datetime.strptime(text, mapping.date_format).date()  # noqa: DTZ007
        except ValueError:
            raise StatementRefused(
                CSV_DATE_UNREADABLE.format(row=n, text=text, format=mapping.date_format)
            ) from None
        if mapping.amount:
            value = amount(row, "amount", n) or 0
        else:
            value = abs(amount(row, "credit", n) or 0) - abs(amount(row, "debit", n) or 0)
        lines.append(
            ParsedLine(
                booking_date=day,
                amount_cents=value,
                description=cell(row, "description"),
                bank_reference=cell(row, "reference"),
                balance_after_cents=amount(row, "balance", n) if mapping.balance else None,
            )
        )
    opening = closing = None
    controls: list[Control] = []
    if mapping.balance:
        lines, opening, closing = _order_by_balance(lines)
    return ParsedStatement(
        format="CSV",
        statement_id="",
        account="",
        currency=currency,
        period_start=min(x.booking_date for x in lines),
        period_end=max(x.booking_date for x in lines),
        opening_cents=opening,
        closing_cents=closing,
        lines=lines,
        controls=controls,
        opening_stated=opening is not None,
    )


def _chain_break(lines: list[ParsedLine]) -> int | None:
    for i in range(1, len(lines)):
        prev, cur = lines[i - 1].balance_after_cents, lines[i].balance_after_cents
        if prev is None or cur is None or prev + lines[i].amount_cents != cur:
            return i
    return None


def _fmt(cents: int | None) -> str:
    return "none" if cents is None else f"{cents / 100:,.2f}".replace("-", "−")


def _order_by_balance(lines: list[ParsedLine]) -> tuple[list[ParsedLine], int, int]:
    forward = _chain_break(lines)
    if forward is not None:
        backward = _chain_break(lines[::-1])
        if backward is not None:
            i = forward
            prev = lines[i - 1].balance_after_cents
            raise StatementRefused(
                CSV_BALANCE_BREAK.format(
                    row=i + 2,
                    balance=_fmt(lines[i].balance_after_cents),
                    previous=_fmt(prev),
                    amount=_fmt(lines[i].amount_cents),
                    expected=_fmt(None if prev is None else prev + lines[i].amount_cents),
                )
            )
        lines = lines[::-1]
    first_balance = lines[0].balance_after_cents
    last_balance = lines[-1].balance_after_cents
    if first_balance is None or last_balance is None:
        raise StatementRefused(
            CSV_BALANCE_BREAK.format(row=2, balance="none", previous="none", amount="", expected="")
        )
    return lines, first_balance - lines[0].amount_cents, last_balance


def write(statement: ParsedStatement, mapping: CsvMapping, *, encoding: str = "utf-8") -> bytes:
    """A CSV file of the statement in the mapping's layout (rows oldest first)."""
    places = CURRENCY_EXPONENTS[statement.currency]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if mapping.decimal_comma else ",", lineterminator="\r\n")
    writer.writerow(mapping.header)

    def money(cents: int) -> str:
        sign = "-" if cents < 0 else ""
        whole, frac = divmod(abs(cents), 10**places)
        text = f"{sign}{whole}" + (f".{frac:0{places}d}" if places else "")
        return text.replace(".", ",") if mapping.decimal_comma else text

    balance = statement.opening_cents or 0
    for line in statement.lines:
        balance += line.amount_cents
        values = {
            mapping.date: line.booking_date.strftime(mapping.date_format),
            mapping.description: line.description,
            mapping.reference: line.bank_reference,
            mapping.balance: money(balance),
        }
        if mapping.amount:
            values[mapping.amount] = money(line.amount_cents)
        else:
            values[mapping.debit] = money(-line.amount_cents) if line.amount_cents < 0 else ""
            values[mapping.credit] = money(line.amount_cents) if line.amount_cents > 0 else ""
        writer.writerow([values.get(h, "") for h in mapping.header])
    text = out.getvalue()
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)
