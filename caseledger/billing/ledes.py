"""LEDES 1998B: render, validate and read the pipe-delimited e-billing file.

File layout (LEDES 1998B, LEDES Oversight Committee, ledes.org, format rev. 7-2014): line 1
``LEDES1998B[]``; line 2 the 24 field names joined by ``|`` and ended by ``[]``; then one row
per line item, ended by ``[]``. One file may carry many invoices (rows grouped by
INVOICE_NUMBER).

``ledes_validate`` follows the specification:

* amounts (currency fields) may carry no, one or two decimals ("-70", "289.5", "1250.",
  "1684.45" all appear in the specification's own sample file); units up to four decimals;
* a trailing empty line is tolerated (files written with a final line break, or two);
* dates are YYYYMMDD and real; BILLING_END_DATE is not before BILLING_START_DATE;
* INVOICE_TOTAL equals the sum of LINE_ITEM_TOTAL per invoice; for each INVOICE_NUMBER only the
  first INVOICE_DATE (and INVOICE_TOTAL) counts, so a file that repeats a different one is
  refused in strict mode (the product's own files: one date per invoice) and read with the first
  one otherwise;
* units x unit cost + adjustment = line total on F and E lines;
* a row with a format error does not also produce a total error for its invoice (the total is
  not checked when a row of the invoice could not be read: that error would only mislead).

``strict=True`` (the default, for files this product sends) adds the product's promises: UTBMS
codes are members of the shipped code sets (billing.utbms; a phase such as L100 is not a task),
every fee line names its timekeeper (TIMEKEEPER_ID, TIMEKEEPER_NAME and a 2014 classification
code: PT, AS, OC, LA, OT). ``strict=False`` reads files of other systems for import (legacy
classifications such as PARTNR, other task code sets) and checks only the format.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from caseledger.billing import utbms
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
# Timekeeper classifications of the 2014 revision of the specification.
CLASSIFICATIONS: dict[str, str] = {
    "PT": "Partner",
    "AS": "Associate",
    "OC": "Of Counsel",
    "LA": "Legal Assistant / Paralegal",
    "OT": "Other Timekeeper",
}
LINE_TYPES = ("F", "E", "IF", "IE")

_DATE = re.compile(r"^\d{8}$")
# no, one or two decimals; an optional sign; "1250." and ".25" are amounts too
_AMOUNT = re.compile(r"^[-+]?(\d{1,12}(\.\d{0,2})?|\.\d{1,2})$")
_UNITS = re.compile(r"^(\d{1,8}(\.\d{0,4})?|\.\d{1,4})$")

LEDES_NOT_REQUIRED = (
    "ledes: {client} is not billed in LEDES (turn on 'LEDES e-billing required' on the client)"
)
LEDES_NOT_ISSUED = "ledes: only issued invoices are exported (invoice {ref} is {status})"
LEDES_HAS_TAX = (
    "ledes: invoice {ref} carries {tax} of invoice-level tax, which LEDES 1998B cannot express "
    "(INVOICE_TOTAL must equal the sum of LINE_ITEM_TOTAL)"
)
LEDES_NO_TAXPAYER_ID = (
    "ledes: the firm's taxpayer ID (LAW_FIRM_ID) is missing; set it under Firm settings"
)
LEDES_NO_INVOICES = "ledes: {client} has no issued invoices dated {start} to {end}"
LEDES_PERIOD = "end: must not be before start ({start} to {end})"

E_HEADER = "line 1: must be LEDES1998B[] (got {got!r})"
E_FIELDS_HEADER = "line 2: must list the 24 LEDES 1998B field names ending in []"
E_TERMINATOR = "line {n}: must end with []"
E_COUNT = "line {n}: must have 24 fields (got {count})"
E_REQUIRED = "line {n}: {field} is required"
E_DATE = "line {n}: {field} must be a date YYYYMMDD (got {value!r})"
E_AMOUNT = "line {n}: {field} must be an amount with at most two decimals (got {value!r})"
E_UNITS = "line {n}: LINE_ITEM_NUMBER_OF_UNITS must be a number (got {value!r})"
E_LENGTH = "line {n}: {field} is longer than {limit} characters"
E_TYPE = "line {n}: EXP/FEE/INV_ADJ_TYPE must be F, E, IF or IE (got {value!r})"
E_FEE_CODES = "line {n}: fee lines need LINE_ITEM_TASK_CODE and LINE_ITEM_ACTIVITY_CODE"
E_EXPENSE_CODE = "line {n}: expense lines need LINE_ITEM_EXPENSE_CODE"
E_TASK_PHASE = (
    "line {n}: LINE_ITEM_TASK_CODE {value} is a UTBMS phase, not a task (code the time entry "
    "with one of its tasks)"
)
E_TASK_CODE = "line {n}: LINE_ITEM_TASK_CODE {value!r} is not a UTBMS task code"
E_ACTIVITY_CODE = "line {n}: LINE_ITEM_ACTIVITY_CODE {value!r} is not a UTBMS activity code"
E_EXPENSE_MEMBER = "line {n}: LINE_ITEM_EXPENSE_CODE {value!r} is not a UTBMS expense code"
E_TIMEKEEPER = "line {n}: fee lines need {field}"
E_CLASSIFICATION = (
    "line {n}: TIMEKEEPER_CLASSIFICATION must be one of PT, AS, OC, LA, OT (got {value!r})"
)
E_PERIOD = "line {n}: BILLING_END_DATE {end} is before BILLING_START_DATE {start}"
E_INVOICE_DATE = (
    "line {n}: INVOICE_DATE {value} differs from {first}, the first INVOICE_DATE of invoice "
    "{number} (one date per invoice)"
)
E_INVOICE_TOTAL_DIFFERS = (
    "line {n}: INVOICE_TOTAL {value} differs from {first}, the first INVOICE_TOTAL of invoice "
    "{number}"
)
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
    timekeeper_classification: str  # PT, AS, OC, LA, OT (CLASSIFICATIONS)
    description: str
    # F, E, IF or IE; "" means F or E by is_expense (what the exporter writes)
    kind: str = ""
    # LINE_ITEM_ADJUSTMENT_AMOUNT as read; None when rendering (computed from the figures)
    adjustment_cents: int | None = None

    @property
    def line_type(self) -> str:
        return self.kind or ("E" if self.is_expense else "F")


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


@dataclass
class LedesImport:
    """A 1998B file read back (no writes): its invoices with their lines, and every rule the
    file breaks. ``invoices`` holds what could be read even when ``errors`` is not empty."""

    invoices: list[LedesInvoice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def total_cents(self) -> int:
        return sum(inv.total_cents for inv in self.invoices)

    @property
    def line_count(self) -> int:
        return sum(len(inv.lines) for inv in self.invoices)


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


def ledes_amount(cents: int) -> str:
    """LEDES 1998B amounts are plain decimals; the product writes two places."""
    return format_decimal(cents, "USD")


def _clean(text: str) -> str:
    """LEDES 1998B is ASCII: accents are folded, dashes and quotes replaced; no field may hold
    the delimiter, the record terminator or a line break."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_text.replace("|", "/").replace("[]", "").split())


def _units(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _rounded(value: Decimal) -> int:
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def ledes_render(invoices: list[LedesInvoice]) -> str:
    """One 1998B file for ``invoices`` (CRLF line ends, a final line break)."""
    rows = [HEADER, "|".join(FIELDS) + "[]"]
    for inv in invoices:
        for line in inv.lines:
            kind = line.line_type
            expense = kind in {"E", "IE"}
            if line.adjustment_cents is not None:
                adjustment = line.adjustment_cents
            else:
                adjustment = line.total_cents - _rounded(line.units * line.unit_cost_cents)
            values = {
                "INVOICE_DATE": inv.invoice_date.strftime("%Y%m%d"),
                "INVOICE_NUMBER": inv.number,
                "CLIENT_ID": inv.client_id,
                "LAW_FIRM_MATTER_ID": inv.matter_id,
                "INVOICE_TOTAL": ledes_amount(inv.total_cents),
                "BILLING_START_DATE": inv.billing_start.strftime("%Y%m%d"),
                "BILLING_END_DATE": inv.billing_end.strftime("%Y%m%d"),
                "INVOICE_DESCRIPTION": inv.description,
                "LINE_ITEM_NUMBER": line.number,
                "EXP/FEE/INV_ADJ_TYPE": kind,
                "LINE_ITEM_NUMBER_OF_UNITS": _units(line.units),
                "LINE_ITEM_ADJUSTMENT_AMOUNT": ledes_amount(adjustment),
                "LINE_ITEM_TOTAL": ledes_amount(line.total_cents),
                "LINE_ITEM_DATE": line.line_date.strftime("%Y%m%d"),
                "LINE_ITEM_TASK_CODE": "" if expense else line.task_code,
                "LINE_ITEM_EXPENSE_CODE": line.expense_code if expense else "",
                "LINE_ITEM_ACTIVITY_CODE": "" if expense else line.activity_code,
                "TIMEKEEPER_ID": line.timekeeper_id,
                "LINE_ITEM_DESCRIPTION": line.description,
                "LAW_FIRM_ID": inv.law_firm_id,
                "LINE_ITEM_UNIT_COST": ledes_amount(line.unit_cost_cents),
                "TIMEKEEPER_NAME": line.timekeeper_name,
                "TIMEKEEPER_CLASSIFICATION": line.timekeeper_classification,
                "CLIENT_MATTER_ID": inv.client_matter_id,
            }
            rows.append("|".join(_clean(values[f]) for f in FIELDS) + "[]")
    return "\r\n".join(rows) + "\r\n"


def _cents(text: str) -> int:
    """An amount the validator accepted ("-70", "1250.", "289.5") in cents, exactly."""
    return int(Decimal(text) * 100)


def _valid_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def _to_date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:]))


def _strict_row_errors(n: int, row: dict[str, str]) -> list[str]:
    """The product's promises on top of the format (codes from the shipped sets, timekeepers)."""
    errors: list[str] = []
    kind = row["EXP/FEE/INV_ADJ_TYPE"]
    if kind == "F":
        task, activity = row["LINE_ITEM_TASK_CODE"], row["LINE_ITEM_ACTIVITY_CODE"]
        if task and utbms.is_phase(task):
            errors.append(E_TASK_PHASE.format(n=n, value=task))
        elif task and not utbms.is_task(task):
            errors.append(E_TASK_CODE.format(n=n, value=task))
        if activity and not utbms.is_activity(activity):
            errors.append(E_ACTIVITY_CODE.format(n=n, value=activity))
        for name in ("TIMEKEEPER_ID", "TIMEKEEPER_NAME", "TIMEKEEPER_CLASSIFICATION"):
            if not row[name]:
                errors.append(E_TIMEKEEPER.format(n=n, field=name))
        classification = row["TIMEKEEPER_CLASSIFICATION"]
        if classification and classification not in CLASSIFICATIONS:
            errors.append(E_CLASSIFICATION.format(n=n, value=classification))
    if kind == "E":
        code = row["LINE_ITEM_EXPENSE_CODE"]
        if code and not utbms.is_expense(code):
            errors.append(E_EXPENSE_MEMBER.format(n=n, value=code))
    return errors


def ledes_parse(text: str, *, strict: bool = False) -> LedesImport:
    """Read a 1998B file: the invoices it holds and every rule it breaks (see the module
    docstring). Nothing is written anywhere. ``strict`` adds the product's own promises."""
    result = LedesImport()
    errors = result.errors
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # a trailing empty line (or several) is tolerated
    if not lines or lines[0] != HEADER:
        errors.append(E_HEADER.format(got=lines[0] if lines else ""))
        return result
    if len(lines) < 2 or lines[1] != "|".join(FIELDS) + "[]":
        errors.append(E_FIELDS_HEADER)
        return result
    if len(lines) < 3:
        errors.append(E_NO_ROWS)
        return result
    firsts: dict[str, dict[str, str]] = {}
    line_sums: dict[str, int] = defaultdict(int)
    seen: dict[str, set[str]] = defaultdict(set)
    unreadable: set[str] = set()  # invoices with a row that could not be read
    any_unreadable = False  # a row whose invoice number is unknown
    by_number: dict[str, list[LedesLine]] = defaultdict(list)
    for n, raw in enumerate(lines[2:], start=3):
        non_ascii = next((ch for ch in raw if ord(ch) > 127), None)
        if non_ascii is not None:
            errors.append(E_ASCII.format(n=n, char=non_ascii))
        parts = (raw[:-2] if raw.endswith("[]") else raw).split("|")
        if not raw.endswith("[]") or len(parts) != len(FIELDS):
            if not raw.endswith("[]"):
                errors.append(E_TERMINATOR.format(n=n))
            else:
                errors.append(E_COUNT.format(n=n, count=len(parts)))
            if len(parts) > 1 and parts[1]:
                unreadable.add(parts[1])
            else:
                any_unreadable = True
            continue
        row = dict(zip(FIELDS, parts, strict=True))
        number = row["INVOICE_NUMBER"]
        row_ok = True
        for name in REQUIRED:
            if not row[name]:
                errors.append(E_REQUIRED.format(n=n, field=name))
                row_ok = False
        for name, limit in MAX_LENGTH.items():
            if len(row[name]) > limit:
                errors.append(E_LENGTH.format(n=n, field=name, limit=limit))
        for name in DATE_FIELDS:
            value = row[name]
            if value and not _valid_date(value):
                errors.append(E_DATE.format(n=n, field=name, value=value))
                row_ok = False
        for name in AMOUNT_FIELDS:
            value = row[name]
            if value and not _AMOUNT.match(value):
                errors.append(E_AMOUNT.format(n=n, field=name, value=value))
                row_ok = False
        units = row["LINE_ITEM_NUMBER_OF_UNITS"]
        if units and not _UNITS.match(units):
            errors.append(E_UNITS.format(n=n, value=units))
            row_ok = False
        kind = row["EXP/FEE/INV_ADJ_TYPE"].upper()
        row["EXP/FEE/INV_ADJ_TYPE"] = kind
        if kind not in LINE_TYPES:
            errors.append(E_TYPE.format(n=n, value=kind))
            row_ok = False
        if kind == "F" and not (row["LINE_ITEM_TASK_CODE"] and row["LINE_ITEM_ACTIVITY_CODE"]):
            errors.append(E_FEE_CODES.format(n=n))
        if kind == "E" and not row["LINE_ITEM_EXPENSE_CODE"]:
            errors.append(E_EXPENSE_CODE.format(n=n))
        if strict:
            errors.extend(_strict_row_errors(n, row))
        start, end = row["BILLING_START_DATE"], row["BILLING_END_DATE"]
        if _valid_date(start) and _valid_date(end) and end < start:
            errors.append(E_PERIOD.format(n=n, start=start, end=end))
        if row["LINE_ITEM_NUMBER"] in seen[number]:
            errors.append(E_DUP_LINE.format(n=n, value=row["LINE_ITEM_NUMBER"], number=number))
        seen[number].add(row["LINE_ITEM_NUMBER"])
        if not row_ok:
            unreadable.add(number)
            continue
        first = firsts.setdefault(number, row)
        if strict and first is not row:
            if row["INVOICE_DATE"] != first["INVOICE_DATE"]:
                errors.append(
                    E_INVOICE_DATE.format(
                        n=n, value=row["INVOICE_DATE"], first=first["INVOICE_DATE"], number=number
                    )
                )
            if _cents(row["INVOICE_TOTAL"]) != _cents(first["INVOICE_TOTAL"]):
                errors.append(
                    E_INVOICE_TOTAL_DIFFERS.format(
                        n=n, value=row["INVOICE_TOTAL"], first=first["INVOICE_TOTAL"], number=number
                    )
                )
        total = _cents(row["LINE_ITEM_TOTAL"])
        adjustment = _cents(row["LINE_ITEM_ADJUSTMENT_AMOUNT"] or "0")
        unit_cost = _cents(row["LINE_ITEM_UNIT_COST"] or "0")
        quantity = Decimal(units) if units else Decimal(0)
        if kind in {"F", "E"} and row["LINE_ITEM_UNIT_COST"]:
            expected = _rounded(quantity * unit_cost) + adjustment
            if expected != total:
                errors.append(
                    E_LINE_MATH.format(
                        n=n, expected=ledes_amount(expected), total=ledes_amount(total)
                    )
                )
        line_sums[number] += total
        by_number[number].append(
            LedesLine(
                number=row["LINE_ITEM_NUMBER"],
                is_expense=kind in {"E", "IE"},
                units=quantity,
                unit_cost_cents=unit_cost,
                total_cents=total,
                line_date=_to_date(row["LINE_ITEM_DATE"]),
                task_code=row["LINE_ITEM_TASK_CODE"],
                expense_code=row["LINE_ITEM_EXPENSE_CODE"],
                activity_code=row["LINE_ITEM_ACTIVITY_CODE"],
                timekeeper_id=row["TIMEKEEPER_ID"],
                timekeeper_name=row["TIMEKEEPER_NAME"],
                timekeeper_classification=row["TIMEKEEPER_CLASSIFICATION"],
                description=row["LINE_ITEM_DESCRIPTION"],
                kind=kind,
                adjustment_cents=adjustment,
            )
        )
    for number, first in firsts.items():
        invoice_total = _cents(first["INVOICE_TOTAL"])
        if not any_unreadable and number not in unreadable and invoice_total != line_sums[number]:
            errors.append(
                E_TOTAL.format(
                    number=number,
                    total=ledes_amount(invoice_total),
                    lines=ledes_amount(line_sums[number]),
                )
            )
        result.invoices.append(
            LedesInvoice(
                invoice_date=_to_date(first["INVOICE_DATE"]),
                number=number,
                client_id=first["CLIENT_ID"],
                matter_id=first["LAW_FIRM_MATTER_ID"],
                client_matter_id=first["CLIENT_MATTER_ID"],
                total_cents=invoice_total,
                billing_start=_to_date(first["BILLING_START_DATE"]),
                billing_end=_to_date(first["BILLING_END_DATE"]),
                description=first["INVOICE_DESCRIPTION"],
                law_firm_id=first["LAW_FIRM_ID"],
                lines=by_number[number],
            )
        )
    return result


def ledes_validate(text: str, *, strict: bool = True) -> list[str]:
    """Every rule broken by ``text``, as messages naming the line and the field ([] when valid).
    ``strict`` (default) holds the file to the product's own promises too."""
    return ledes_parse(text, strict=strict).errors


def ledes_checked(text: str) -> str:
    """``text`` when valid (strict); raises LedesInvalid listing the first problems otherwise."""
    errors = ledes_validate(text)
    if errors:
        raise LedesInvalid("ledes: " + "; ".join(errors[:5]), field="ledes")
    return text
