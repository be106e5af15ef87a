"""LEDES 1998B export (the pipe-delimited e-billing file corporate clients require).

File layout: line 1 ``LEDES1998B[]``; line 2 the 24 field names joined by ``|`` and ended by
``[]``; then one row per line item, ended by ``[]``. ``ledes_validate`` parses a file back and
checks the 1998B rules this product promises before a download: 24 fields per row, required
fields present, dates YYYYMMDD, amounts with two decimals, INVOICE_TOTAL equal to the sum of
LINE_ITEM_TOTAL per invoice, units x unit cost + adjustment = line total, UTBMS task and activity
codes on fee lines and an expense code on expense lines, field lengths.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from caseledger.billing.exceptions import LedesInvalid
from caseledger.core.money import format_decimal

FIELDS = (
    "INVOICE_DATE",
    "INVOICE_NUMBER",
    "CLIENT_ID",
    "LAW_FIRM_MATTER_ID",
    "INVOICE_TOTAL",
    "BILLING_START_DATE",
    "BILLING_END_DATE",
    "INVOICE_DESCRIPTION",
    "LINE_ITEM_NUMBER",
    "EXP/FEE/INV_ADJ_TYPE",
    "LINE_ITEM_NUMBER_OF_UNITS",
    "LINE_ITEM_ADJUSTMENT_AMOUNT",
    "LINE_ITEM_TOTAL",
    "LINE_ITEM_DATE",
    "LINE_ITEM_TASK_CODE",
    "LINE_ITEM_EXPENSE_CODE",
    "LINE_ITEM_ACTIVITY_CODE",
    "TIMEKEEPER_ID",
    "LINE_ITEM_DESCRIPTION",
    "LAW_FIRM_ID",
    "LINE_ITEM_UNIT_COST",
    "TIMEKEEPER_NAME",
    "TIMEKEEPER_CLASSIFICATION",
    "CLIENT_MATTER_ID",
)
HEADER = "LEDES1998B[]"
REQUIRED = (
    "INVOICE_DATE",
    "INVOICE_NUMBER",
    "CLIENT_ID",
    "LAW_FIRM_MATTER_ID",
    "INVOICE_TOTAL",
    "BILLING_START_DATE",
    "BILLING_END_DATE",
    "INVOICE_DESCRIPTION",
    "LINE_ITEM_NUMBER",
    "EXP/FEE/INV_ADJ_TYPE",
    "LINE_ITEM_NUMBER_OF_UNITS",
    "LINE_ITEM_TOTAL",
    "LINE_ITEM_DATE",
    "LINE_ITEM_DESCRIPTION",
    "LAW_FIRM_ID",
)
MAX_LENGTH = {
    "INVOICE_NUMBER": 20,
    "CLIENT_ID": 20,
    "LAW_FIRM_MATTER_ID": 20,
    "LINE_ITEM_NUMBER": 20,
    "TIMEKEEPER_ID": 20,
    "LAW_FIRM_ID": 20,
    "CLIENT_MATTER_ID": 20,
    "EXP/FEE/INV_ADJ_TYPE": 2,
    "LINE_ITEM_TASK_CODE": 20,
    "LINE_ITEM_EXPENSE_CODE": 20,
    "LINE_ITEM_ACTIVITY_CODE": 20,
    "TIMEKEEPER_CLASSIFICATION": 10,
    "LINE_ITEM_DESCRIPTION": 1024,
}
DATE_FIELDS = ("INVOICE_DATE", "BILLING_START_DATE", "BILLING_END_DATE", "LINE_ITEM_DATE")
AMOUNT_FIELDS = (
    "INVOICE_TOTAL",
    "LINE_ITEM_ADJUSTMENT_AMOUNT",
    "LINE_ITEM_TOTAL",
    "LINE_ITEM_UNIT_COST",
)
_DATE = re.compile(r"^\d{8}$")
_AMOUNT = re.compile(r"^-?\d{1,12}\.\d{2}$")
_UNITS = re.compile(r"^\d{1,8}(\.\d{1,4})?$")

LEDES_NOT_CORPORATE = (
    "ledes: only issued invoices of corporate clients are exported (invoice {ref})"
)
LEDES_HAS_TAX = (
    "ledes: invoice {ref} carries {tax} of invoice-level tax, which LEDES 1998B cannot express "
    "(INVOICE_TOTAL must equal the sum of LINE_ITEM_TOTAL)"
)
E_HEADER = "line 1: must be LEDES1998B[] (got {got!r})"
E_FIELDS_HEADER = "line 2: must list the 24 LEDES 1998B field names ending in []"
E_TERMINATOR = "line {n}: must end with []"
E_COUNT = "line {n}: must have 24 fields (got {count})"
E_REQUIRED = "line {n}: {field} is required"
E_DATE = "line {n}: {field} must be a date YYYYMMDD (got {value!r})"
E_AMOUNT = "line {n}: {field} must be an amount with two decimals (got {value!r})"
E_UNITS = "line {n}: LINE_ITEM_NUMBER_OF_UNITS must be a number (got {value!r})"
E_LENGTH = "line {n}: {field} is longer than {limit} characters"
E_TYPE = "line {n}: EXP/FEE/INV_ADJ_TYPE must be F, E, IF or IE (got {value!r})"
E_FEE_CODES = "line {n}: fee lines need LINE_ITEM_TASK_CODE and LINE_ITEM_ACTIVITY_CODE"
E_EXPENSE_CODE = "line {n}: expense lines need LINE_ITEM_EXPENSE_CODE"
E_LINE_MATH = (
    "line {n}: units x unit cost + adjustment ({expected}) must equal LINE_ITEM_TOTAL ({total})"
)
E_TOTAL = "invoice {number}: INVOICE_TOTAL {total} must equal the sum of LINE_ITEM_TOTAL {lines}"
E_DUP_LINE = "line {n}: LINE_ITEM_NUMBER {value} repeats within invoice {number}"
E_NO_ROWS = "file: no line items"
E_ASCII = "line {n}: LEDES 1998B files are ASCII (found {char!r})"


@dataclass(frozen=True)
class LedesLine:
    number: str
    is_expense: bool
    units: Decimal
    unit_cost_cents: int
    total_cents: int
    line_date: date
    task_code: str
    expense_code: str
    activity_code: str
    timekeeper_id: str
    timekeeper_name: str  # "Last, First"
    timekeeper_classification: str  # PT, AS, PL, OT
    description: str


@dataclass(frozen=True)
class LedesInvoice:
    invoice_date: date
    number: str
    client_id: str
    matter_id: str
    client_matter_id: str
    total_cents: int
    billing_start: date
    billing_end: date
    description: str
    law_firm_id: str
    lines: list[LedesLine]


_ASCII_FOLD = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
    }
)


def _ledes_amount(cents: int) -> str:
    """LEDES 1998B amounts are plain decimals with two places (no currency field in the file)."""
    return format_decimal(cents, "USD")


def _clean(text: str) -> str:
    """LEDES 1998B is ASCII: accents are folded, dashes and quotes replaced; no field may hold
    the delimiter, the record terminator or a line break."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_text.replace("|", "/").replace("[]", "").split())


def _units(value: Decimal) -> str:
    return f"{value.normalize():f}"


def ledes_render(invoices: list[LedesInvoice]) -> str:
    rows = [HEADER, "|".join(FIELDS) + "[]"]
    for inv in invoices:
        for line in inv.lines:
            adjustment = line.total_cents - int(
                (line.units * line.unit_cost_cents).quantize(Decimal("1"), rounding="ROUND_HALF_UP")
            )
            values = {
                "INVOICE_DATE": inv.invoice_date.strftime("%Y%m%d"),
                "INVOICE_NUMBER": inv.number,
                "CLIENT_ID": inv.client_id,
                "LAW_FIRM_MATTER_ID": inv.matter_id,
                "INVOICE_TOTAL": _ledes_amount(inv.total_cents),
                "BILLING_START_DATE": inv.billing_start.strftime("%Y%m%d"),
                "BILLING_END_DATE": inv.billing_end.strftime("%Y%m%d"),
                "INVOICE_DESCRIPTION": inv.description,
                "LINE_ITEM_NUMBER": line.number,
                "EXP/FEE/INV_ADJ_TYPE": "E" if line.is_expense else "F",
                "LINE_ITEM_NUMBER_OF_UNITS": _units(line.units),
                "LINE_ITEM_ADJUSTMENT_AMOUNT": _ledes_amount(adjustment),
                "LINE_ITEM_TOTAL": _ledes_amount(line.total_cents),
                "LINE_ITEM_DATE": line.line_date.strftime("%Y%m%d"),
                "LINE_ITEM_TASK_CODE": "" if line.is_expense else line.task_code,
                "LINE_ITEM_EXPENSE_CODE": line.expense_code if line.is_expense else "",
                "LINE_ITEM_ACTIVITY_CODE": "" if line.is_expense else line.activity_code,
                "TIMEKEEPER_ID": line.timekeeper_id,
                "LINE_ITEM_DESCRIPTION": line.description,
                "LAW_FIRM_ID": inv.law_firm_id,
                "LINE_ITEM_UNIT_COST": _ledes_amount(line.unit_cost_cents),
                "TIMEKEEPER_NAME": line.timekeeper_name,
                "TIMEKEEPER_CLASSIFICATION": line.timekeeper_classification,
                "CLIENT_MATTER_ID": inv.client_matter_id,
            }
            rows.append("|".join(_clean(values[f]) for f in FIELDS) + "[]")
    return "\r\n".join(rows) + "\r\n"


def _cents(text: str) -> int:
    value = Decimal(text)
    return int(value * 100)


def ledes_validate(text: str) -> list[str]:
    """Every rule broken by ``text``, as messages naming the line and the field ([] when valid)."""
    errors: list[str] = []
    lines = text.splitlines()
    if not lines or lines[0] != HEADER:
        return [E_HEADER.format(got=lines[0] if lines else "")]
    if len(lines) < 2 or lines[1] != "|".join(FIELDS) + "[]":
        return [E_FIELDS_HEADER]
    if len(lines) < 3:
        return [E_NO_ROWS]
    invoice_totals: dict[str, int] = {}
    line_sums: dict[str, int] = defaultdict(int)
    seen: dict[str, set[str]] = defaultdict(set)
    for n, raw in enumerate(lines[2:], start=3):
        non_ascii = next((ch for ch in raw if ord(ch) > 127), None)
        if non_ascii is not None:
            errors.append(E_ASCII.format(n=n, char=non_ascii))
        if not raw.endswith("[]"):
            errors.append(E_TERMINATOR.format(n=n))
            continue
        parts = raw[:-2].split("|")
        if len(parts) != len(FIELDS):
            errors.append(E_COUNT.format(n=n, count=len(parts)))
            continue
        row = dict(zip(FIELDS, parts, strict=True))
        row_ok = True
        for field in REQUIRED:
            if not row[field]:
                errors.append(E_REQUIRED.format(n=n, field=field))
                row_ok = False
        for field, limit in MAX_LENGTH.items():
            if len(row[field]) > limit:
                errors.append(E_LENGTH.format(n=n, field=field, limit=limit))
        for field in DATE_FIELDS:
            value = row[field]
            if value and not _valid_date(value):
                errors.append(E_DATE.format(n=n, field=field, value=value))
                row_ok = False
        for field in AMOUNT_FIELDS:
            value = row[field]
            if value and not _AMOUNT.match(value):
                errors.append(E_AMOUNT.format(n=n, field=field, value=value))
                row_ok = False
        units = row["LINE_ITEM_NUMBER_OF_UNITS"]
        if units and not _UNITS.match(units):
            errors.append(E_UNITS.format(n=n, value=units))
            row_ok = False
        kind = row["EXP/FEE/INV_ADJ_TYPE"]
        if kind not in {"F", "E", "IF", "IE"}:
            errors.append(E_TYPE.format(n=n, value=kind))
        if kind == "F" and not (row["LINE_ITEM_TASK_CODE"] and row["LINE_ITEM_ACTIVITY_CODE"]):
            errors.append(E_FEE_CODES.format(n=n))
        if kind == "E" and not row["LINE_ITEM_EXPENSE_CODE"]:
            errors.append(E_EXPENSE_CODE.format(n=n))
        number = row["INVOICE_NUMBER"]
        if row["LINE_ITEM_NUMBER"] in seen[number]:
            errors.append(E_DUP_LINE.format(n=n, value=row["LINE_ITEM_NUMBER"], number=number))
        seen[number].add(row["LINE_ITEM_NUMBER"])
        if not row_ok:
            continue
        total = _cents(row["LINE_ITEM_TOTAL"])
        if kind in {"F", "E"} and row["LINE_ITEM_UNIT_COST"]:
            adjustment = _cents(row["LINE_ITEM_ADJUSTMENT_AMOUNT"] or "0.00")
            product = Decimal(units) * _cents(row["LINE_ITEM_UNIT_COST"])
            expected = int(product.quantize(Decimal("1"), rounding="ROUND_HALF_UP")) + adjustment
            if expected != total:
                errors.append(
                    E_LINE_MATH.format(
                        n=n, expected=_ledes_amount(expected), total=_ledes_amount(total)
                    )
                )
        invoice_totals.setdefault(number, _cents(row["INVOICE_TOTAL"]))
        line_sums[number] += total
    for number, total in invoice_totals.items():
        if total != line_sums[number]:
            errors.append(
                E_TOTAL.format(
                    number=number,
                    total=_ledes_amount(total),
                    lines=_ledes_amount(line_sums[number]),
                )
            )
    return errors


def _valid_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def ledes_checked(text: str) -> str:
    """``text`` when valid; raises LedesInvalid listing the first problems otherwise."""
    errors = ledes_validate(text)
    if errors:
        raise LedesInvalid("; ".join(errors[:5]), field="ledes")
    return text
