"""Import services: read a source file through a mapping, validate every row, dry-run, commit
batch by batch, and finalize the cutover's opening balances through the ledger.

One path does the work for the dry run and the commit: ``_run_units`` writes a batch of units
(a source record: a client, a matter, an activity, an invoice with its lines, an opening
balance) and records their import keys. New clients, matters, activities and invoices go in
set-based: every unit is checked in Python by the owning app's rules (``client_build``,
``matter_import_build``, the legacy-number checks) with one query per lookup, then one bulk
INSERT per table, one for the import records and one for their audit events (one event per
record, chained in order: ``audit.record_many``). Changed units the user consented to update
and opening balances go record by record through the services. The dry run runs it inside a
transaction it always rolls back (so it writes nothing and still sees every rule); the commit
runs it one batch per transaction, all or nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Prefetch, Q

from caseledger.clients import services as client_services
from caseledger.clients.choices import ClientKind, ClientType
from caseledger.clients.models import Client
from caseledger.core import audit, clock
from caseledger.core.amounts import parse_cents
from caseledger.core.exceptions import ApplicationError
from caseledger.core.money import MoneyError
from caseledger.imports import locks
from caseledger.imports.choices import CutoverStatus, JobStatus, RecordKind
from caseledger.imports.exceptions import CutoverRefused, ImportRefused
from caseledger.imports.models import (
    LEGACY_PREFIX,
    Cutover,
    ImportJob,
    ImportMapping,
    ImportRecord,
    LegacyActivity,
    LegacyInvoice,
    LegacyInvoiceLine,
    LegacyPayment,
    OpeningBalance,
)
from caseledger.imports.sources import LINE_CATEGORIES, SOURCES, Source
from caseledger.matters import services as matter_services
from caseledger.matters.models import CaseType, Matter, Stage

BATCH_SIZE = 200

# Rules, as reported per problem (line + rule + message).
MISSING_REQUIRED = "missing_required"
MISSING_CLIENT = "missing_client"
UNKNOWN_MATTER = "unknown_matter"
BAD_DATE = "bad_date"
DUPLICATE = "duplicate"
BAD_AMOUNT = "bad_amount"
LINES_NOT_SUM = "lines_not_sum"
BAD_VALUE = "bad_value"
REFUSED = "refused"

MSG_REQUIRED = "{field}: required (column {header!r} is empty)"
MSG_NO_NAME = "name: a client needs a name, a company or a first and last name"
MSG_CLIENT_MISSING = "client: no client named {name!r} (import the contacts first)"
MSG_CLIENT_AMBIGUOUS = "client: {count} clients are named {name!r}; rename one first"
MSG_MATTER_UNKNOWN = "matter: no matter numbered {ref!r} (import the matters first)"
MSG_BAD_DATE = "{field}: {text!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY)"
MSG_DUPLICATE = "{field}: {key!r} appears again (first on line {first})"
MSG_BAD_AMOUNT = "{field}: {text!r} is not an amount"
MSG_BAD_QUANTITY = "quantity: {text!r} is not a number"
MSG_LINES_NOT_SUM = (
    "total: invoice {number} lines sum to {lines} but its total is {total} (lines {where})"
)
MSG_BALANCE_OVER_TOTAL = "balance: {balance} is more than the invoice total {total}"
MSG_NEGATIVE = "{field}: must not be negative (got {text!r})"
MSG_BAD_CHOICE = "{field}: must be one of {allowed} (got {value!r})"
MSG_BAD_EMAIL = "email: {value!r} is not an email address"
MSG_CASE_TYPE = "case_type: no case type with code {value!r}"
MSG_CLIENT_KEY = "client_key: required when the row has a matter, trust or credit"
MSG_MATTER_KEY = "matter_key: required for a trust balance"

UNKNOWN_SOURCE = "source: unknown source {source!r} (one of {allowed})"
EMPTY_FILE = "file: has no header row"
NOT_CSV = "file: cannot be read as CSV text ({error})"
MAPPING_UNKNOWN_FIELD = "columns: {field!r} is not a field of {source}"
MAPPING_UNKNOWN_HEADER = "columns.{field}: the file has no column {header!r}"
MAPPING_NAME_REQUIRED = "name: give the mapping a name"
MAPPING_SHIPPED = "name: {name!r} is a shipped mapping; save yours under another name"
JOB_NOT_READY = "job: run the dry run before committing (the job is {status})"
JOB_HAS_ERRORS = "job: the dry run found {count} problems; fix the file and upload it again"
JOB_DONE = "job: already imported"
JOB_FILE_CHANGED = "job: the file no longer gives {expected} records ({found}); start a new import"
HISTORY_FROZEN = "cutover: finalized on {date}; imported balances and invoices can no longer change"
CUTOVER_FINALIZED = "cutover: already finalized on {date}"
CUTOVER_TRUST = (
    "trust_bank: imported trust balances sum to {imported} but the trust bank balance on "
    "{as_of} is {entered}; they must be equal"
)
CUTOVER_NEGATIVE = "trust: client {client} has a negative trust balance ({amount}) on {matter}"
CUTOVER_AR = (
    "aging_total: open legacy invoices sum to {imported} but the old system's aging total is "
    "{entered}; they must be equal"
)
CUTOVER_OPEN = "cutover: a cutover for {as_of} is still a draft; finalize or change it"

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m%d%Y")


class _Rollback(Exception):
    """Raised to roll the dry run back."""


@dataclass
class Problem:
    line: int
    rule: str
    message: str
    field: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "rule": self.rule, "field": self.field, "message": self.message}


@dataclass
class Unit:
    """One source record: ``values`` are the cleaned fields the writer uses; ``data`` is what
    is hashed and compared on a rerun (plain JSON)."""

    kind: str
    key: str
    line: int
    data: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)


@dataclass
class Change:
    line: int
    kind: str
    key: str
    diff: dict[str, list[Any]]
    applied: bool


@dataclass
class Report:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)
    units: int = 0

    @property
    def error_lines(self) -> set[int]:
        return {p.line for p in self.problems}

    @property
    def valid(self) -> int:
        return self.rows - len(self.error_lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "errors": [p.as_dict() for p in sorted(self.problems, key=lambda p: p.line)],
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "changed": [
                {"line": c.line, "kind": c.kind, "key": c.key, "diff": c.diff, "applied": c.applied}
                for c in self.changes
            ],
        }


# -- reading ------------------------------------------------------------------------------------


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


# -- cleaning: one function per record kind, no database writes ---------------------------------


class _Clean:
    def __init__(self, line: int, problems: list[Problem]) -> None:
        self.line = line
        self.problems = problems
        self.ok = True

    def fail(self, rule: str, message: str, field_name: str = "") -> None:
        self.ok = False
        self.problems.append(Problem(self.line, rule, message, field_name))

    def required(self, values: dict[str, str], name: str, columns: dict[str, str]) -> str:
        value = values.get(name, "")
        if not value:
            self.fail(
                MISSING_REQUIRED,
                MSG_REQUIRED.format(field=name, header=columns.get(name) or name),
                name,
            )
        return value

    def date(self, values: dict[str, str], name: str) -> date | None:
        text = values.get(name, "")
        if not text:
            return None
        try:
            value = parse_date(text)
            clock.date_check(value, field=name)
        except (ValueError, ApplicationError):
            self.fail(BAD_DATE, MSG_BAD_DATE.format(field=name, text=text), name)
            return None
        return value

    def amount(self, values: dict[str, str], name: str, *, negative_ok: bool = False) -> int | None:
        text = values.get(name, "")
        if not text:
            return None
        try:
            cents = parse_cents(text, field=name)
        except MoneyError:
            self.fail(BAD_AMOUNT, MSG_BAD_AMOUNT.format(field=name, text=text), name)
            return None
        if cents < 0 and not negative_ok:
            self.fail(BAD_AMOUNT, MSG_NEGATIVE.format(field=name, text=text), name)
            return None
        return cents

    def choice(self, values: dict[str, str], name: str, allowed: Iterable[str]) -> str:
        value = values.get(name, "").upper()
        allowed = list(allowed)
        if value and value not in allowed:
            self.fail(
                BAD_VALUE,
                MSG_BAD_CHOICE.format(field=name, allowed=", ".join(allowed), value=value),
                name,
            )
        return value


def _client_name(v: dict[str, str]) -> str:
    """The name column, else the person's name, else the company's: a person row naming an
    employer in its company column (MyCase, Clio) is the person, as its kind already says."""
    person = " ".join(p for p in (v.get("first_name", ""), v.get("last_name", "")) if p)
    return v.get("name") or person or v.get("company", "")


def _clean_client(c: _Clean, v: dict[str, str], source: Source) -> Unit | None:
    name = _client_name(v)
    if not name:
        c.fail(MISSING_REQUIRED, MSG_NO_NAME, "name")
    person = bool(v.get("first_name") or v.get("last_name"))
    kind = v.get("kind", "").upper() or (
        ClientKind.COMPANY if v.get("company") and not person else ClientKind.PERSON
    )
    if kind not in ClientKind.values:
        c.fail(
            BAD_VALUE, MSG_BAD_CHOICE.format(field="kind", allowed="PERSON, COMPANY", value=kind)
        )
    client_type = c.choice(v, "client_type", ClientType.values) or ClientType.PRIVATE
    if kind == ClientKind.COMPANY and not v.get("client_type"):
        client_type = ClientType.CORPORATE
    email = v.get("email", "").lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            c.fail(BAD_VALUE, MSG_BAD_EMAIL.format(value=email), "email")
    if not c.ok:
        return None
    key = v.get("key") or f"{name.lower()}|{email}"
    data = {
        "name": name,
        "kind": kind,
        "client_type": client_type,
        "email": email,
        "phone": v.get("phone", ""),
        "address_line1": v.get("address_line1", ""),
        "city": v.get("city", ""),
        "region": v.get("region", ""),
        "postal_code": v.get("postal_code", ""),
        "country": v.get("country", "") or "US",
    }
    return Unit(RecordKind.CLIENT, key, c.line, data, dict(data), [c.line])


def _clean_matter(
    c: _Clean, v: dict[str, str], columns: dict[str, str], *, client_key: str = ""
) -> Unit | None:
    key = c.required(v, "key", columns)
    title = c.required(v, "title", columns)
    opened = c.required(v, "opened_date", columns) and c.date(v, "opened_date")
    closed = c.date(v, "closed_date")
    status = v.get("status", "").strip().lower()
    if status == "archived":  # PracticePanther's fourth matter status: closed and filed away
        status = "closed"
    if status and status not in {"open", "pending", "closed"}:
        c.fail(
            BAD_VALUE,
            MSG_BAD_CHOICE.format(
                field="status", allowed="Open, Pending, Closed, Archived", value=status
            ),
            "status",
        )
    case_type = v.get("case_type") or "consultation"
    client_name = v.get("client_company") or " ".join(
        p for p in (v.get("client_first_name", ""), v.get("client_last_name", "")) if p
    )
    if not client_key and not client_name:
        c.fail(MISSING_CLIENT, "client: the matter names no client", "client")
    if not c.ok or not opened:
        return None
    if status == "closed" and closed is None:
        closed = opened
    data = {
        "number": f"{LEGACY_PREFIX}{key}"[:32],
        "title": title[:200],
        "opened_date": opened.isoformat(),
        "closed_date": closed.isoformat() if closed else None,
        "case_type": case_type,
        "client": client_name,
        "client_key": client_key,
    }
    return Unit(RecordKind.MATTER, key, c.line, data, dict(data), [c.line])


def _clean_activity(c: _Clean, v: dict[str, str], columns: dict[str, str]) -> Unit | None:
    matter = c.required(v, "matter", columns)
    when = c.required(v, "date", columns) and c.date(v, "date")
    c.required(v, "price", columns)
    rate = c.amount(v, "price")
    quantity_text = v.get("quantity") or "1"
    try:
        if not quantity_text.isascii():
            raise InvalidOperation
        quantity = Decimal(quantity_text).quantize(Decimal("0.01"))
    except InvalidOperation:
        c.fail(BAD_AMOUNT, MSG_BAD_QUANTITY.format(text=quantity_text), "quantity")
        quantity = None
    kind_text = (v.get("type") or "TimeEntry").lower()
    kind = "EXPENSE" if kind_text.startswith("expense") else "TIME"
    if not c.ok or not when or rate is None or quantity is None:
        return None
    amount = int((quantity * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    data = {
        "matter": matter,
        "date": when.isoformat(),
        "kind": kind,
        "user": v.get("user", ""),
        "quantity": str(quantity),
        "rate_cents": rate,
        "amount_cents": amount,
        "description": v.get("description", "")[:300],
    }
    key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:40]
    return Unit(RecordKind.ACTIVITY, key, c.line, data, dict(data), [c.line])


def _clean_invoice_rows(
    rows: list[tuple[int, dict[str, str]]], columns: dict[str, str], problems: list[Problem]
) -> list[Unit]:
    """Invoices span rows (one per line): group by number, in file order."""
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, v in rows:
        c = _Clean(line, problems)
        number = c.required(v, "number", columns)
        if number:
            groups.setdefault(number, []).append((line, v))
    units: list[Unit] = []
    for number, members in groups.items():
        first_line, head = members[0]
        c = _Clean(first_line, problems)
        c.required(head, "client", columns)
        c.required(head, "matter", columns)
        c.required(head, "issue_date", columns)
        c.required(head, "total", columns)
        c.required(head, "balance", columns)
        issued = c.date(head, "issue_date")
        due = c.date(head, "due_date")
        total = c.amount(head, "total")
        balance = c.amount(head, "balance")
        lines: list[dict[str, Any]] = []
        for line, v in members:
            lc = _Clean(line, problems)
            for same in ("client", "matter", "issue_date", "total", "balance"):
                if v.get(same, "") != head.get(same, ""):
                    lc.fail(
                        DUPLICATE,
                        MSG_DUPLICATE.format(field="number", key=number, first=first_line)
                        + f" with a different {same}",
                        "number",
                    )
            lc.required(v, "line_amount", columns)
            amount = lc.amount(v, "line_amount", negative_ok=True)
            category = (v.get("line_category") or "fees").lower()
            if category not in LINE_CATEGORIES:
                lc.fail(
                    BAD_VALUE,
                    MSG_BAD_CHOICE.format(
                        field="line_category", allowed=", ".join(LINE_CATEGORIES), value=category
                    ),
                    "line_category",
                )
            if not lc.ok:
                c.ok = False
                continue
            lines.append(
                {
                    "category": category,
                    "description": v.get("line_description", "")[:300],
                    "amount_cents": amount,
                }
            )
        if not c.ok or total is None or balance is None or issued is None:
            continue
        line_sum = sum(int(x["amount_cents"]) for x in lines)
        if line_sum != total:
            c.fail(
                LINES_NOT_SUM,
                MSG_LINES_NOT_SUM.format(
                    number=number,
                    lines=line_sum,
                    total=total,
                    where=", ".join(str(line) for line, _ in members),
                ),
                "total",
            )
            continue
        if balance > total:
            c.fail(BAD_AMOUNT, MSG_BALANCE_OVER_TOTAL.format(balance=balance, total=total))
            continue
        data = {
            "number": number,
            "client": head["client"],
            "matter": head["matter"],
            "issue_date": issued.isoformat(),
            "due_date": due.isoformat() if due else None,
            "total_cents": total,
            "balance_cents": balance,
            "lines": lines,
        }
        units.append(
            Unit(RecordKind.INVOICE, number, first_line, data, dict(data), [m[0] for m in members])
        )
    return units


def _clean_caseledger(
    line: int, v: dict[str, str], columns: dict[str, str], problems: list[Problem], source: Source
) -> list[Unit]:
    c = _Clean(line, problems)
    client_key = c.required(v, "key", columns)
    units: list[Unit] = []
    client = _clean_client(c, v, source)
    if client is not None:
        units.append(client)
    matter_key = v.get("matter_key", "")
    if matter_key:
        mv = {
            "key": matter_key,
            "title": v.get("matter_title", "") or matter_key,
            "opened_date": v.get("opened_date", ""),
            "closed_date": v.get("closed_date", ""),
            "case_type": v.get("case_type", ""),
        }
        matter = _clean_matter(_Clean(line, problems), mv, columns, client_key=client_key)
        if matter is not None:
            units.append(matter)
    trust = c.amount(v, "trust_balance")
    if trust:
        if not matter_key:
            c.fail(MISSING_REQUIRED, MSG_MATTER_KEY, "matter_key")
        else:
            data = {"client_key": client_key, "matter_key": matter_key, "amount_cents": trust}
            units.append(Unit(RecordKind.TRUST, matter_key, line, data, dict(data), [line]))
    credit = c.amount(v, "unapplied_credit")
    if credit:
        data = {"client_key": client_key, "amount_cents": credit}
        units.append(Unit(RecordKind.CREDIT, client_key, line, data, dict(data), [line]))
    return units if c.ok else []


def plan_units(
    *, source: Source, content: str, columns: dict[str, str], defaults: dict[str, str]
) -> tuple[int, list[Unit], list[Problem]]:
    """Read and clean the whole file (no database writes): the rows, the units in file order
    and every problem found without the database (required, dates, amounts, duplicates, sums)."""
    headers, raw = read_csv(content)
    mapping_check(source=source, columns=columns, headers=headers)
    rows = [(line, _mapped(r, columns, defaults, source)) for line, r in raw]
    problems: list[Problem] = []
    units: list[Unit] = []
    if source.kind == RecordKind.INVOICE:
        units = _clean_invoice_rows(rows, columns, problems)
    else:
        for line, v in rows:
            c = _Clean(line, problems)
            if source.code == "caseledger":
                units.extend(_clean_caseledger(line, v, columns, problems, source))
            elif source.kind == RecordKind.CLIENT:
                unit = _clean_client(c, v, source)
                units.extend([unit] if unit else [])
            elif source.kind == RecordKind.MATTER:
                unit = _clean_matter(c, v, columns)
                units.extend([unit] if unit else [])
            else:
                unit = _clean_activity(c, v, columns)
                units.extend([unit] if unit else [])
    # Duplicates within the file: the same key twice (the CaseLedger template repeats a client
    # on each of its matters' rows: the same data again is not a duplicate).
    seen: dict[tuple[str, str], Unit] = {}
    kept: list[Unit] = []
    for unit in units:
        first = seen.get((unit.kind, unit.key))
        if first is None:
            seen[(unit.kind, unit.key)] = unit
            kept.append(unit)
            continue
        if source.code == "caseledger" and unit.kind == RecordKind.CLIENT:
            if unit.data == first.data:
                continue
        label = "number" if unit.kind in {RecordKind.INVOICE, RecordKind.MATTER} else "key"
        problems.append(
            Problem(
                unit.line,
                DUPLICATE,
                MSG_DUPLICATE.format(field=label, key=unit.key, first=first.line),
                label,
            )
        )
    bad = {p.line for p in problems}
    kept = [u for u in kept if not bad.intersection(u.lines)]
    return len(rows), kept, problems


# -- writing: one function per kind, through the owning app's services --------------------------


def _data_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _record_for(kind: str, key: str) -> ImportRecord | None:
    return ImportRecord.objects.filter(kind=kind, key=key).order_by("id").first()


def _find_client(unit: Unit, name: str, key: str) -> Client:
    if key:
        record = _record_for(RecordKind.CLIENT, key)
        if record is not None:
            return Client.objects.get(pk=record.object_id)
        raise _UnitProblem(MISSING_CLIENT, MSG_CLIENT_MISSING.format(name=key), "client")
    matches = list(Client.objects.filter(name__iexact=name).order_by("id")[:3])
    if not matches:
        raise _UnitProblem(MISSING_CLIENT, MSG_CLIENT_MISSING.format(name=name), "client")
    if len(matches) > 1:
        raise _UnitProblem(
            MISSING_CLIENT, MSG_CLIENT_AMBIGUOUS.format(count=len(matches), name=name), "client"
        )
    return matches[0]


def _find_matter(ref: str) -> Matter:
    record = _record_for(RecordKind.MATTER, ref)
    if record is not None:
        return Matter.objects.get(pk=record.object_id)
    matter = (
        Matter.objects.filter(number__in=[ref, f"{LEGACY_PREFIX}{ref}"[:32]]).order_by("id").first()
    )
    if matter is None:
        raise _UnitProblem(UNKNOWN_MATTER, MSG_MATTER_UNKNOWN.format(ref=ref), "matter")
    return matter


class _UnitProblem(Exception):
    def __init__(self, rule: str, message: str, field_name: str = "") -> None:
        super().__init__(message)
        self.rule, self.message, self.field = rule, message, field_name


def _history_open() -> None:
    finalized = Cutover.objects.filter(status=CutoverStatus.FINALIZED).order_by("id").first()
    if finalized is not None:
        raise _UnitProblem(
            REFUSED, HISTORY_FROZEN.format(date=finalized.as_of.isoformat()), "cutover"
        )


# Record by record: a changed unit the user consented to update (clients, matters, invoices),
# and the opening balances. New clients, matters, activities and invoices go in set-based
# (``_BULK_WRITERS``); an activity's key is the hash of its data, so it never changes.


def _write_client(unit: Unit, existing: ImportRecord, actor: Any, now: datetime) -> int:
    d = unit.data
    fields = {k: d[k] for k in ("email", "phone", "address_line1", "city", "region", "postal_code")}
    fields["country"] = d["country"]
    client = Client.objects.get(pk=existing.object_id)
    client_services.client_update(
        client=client, actor=actor, now=now, name=d["name"], client_type=d["client_type"], **fields
    )
    return int(client.pk)


def _write_matter(unit: Unit, existing: ImportRecord, actor: Any, now: datetime) -> int:
    matter = Matter.objects.get(pk=existing.object_id)
    matter_services.matter_update(matter=matter, actor=actor, now=now, title=unit.data["title"])
    return int(matter.pk)


def _write_invoice(unit: Unit, existing: ImportRecord, actor: Any, now: datetime) -> int:
    _history_open()
    d = unit.data
    matter = _find_matter(d["matter"])
    client = _find_client(unit, d["client"], "")
    if matter.client_id != client.pk:
        raise _UnitProblem(
            UNKNOWN_MATTER,
            f"matter: {d['matter']} belongs to another client than {d['client']!r}",
            "matter",
        )
    invoice = locks.legacy_invoice_lock(invoice_id=existing.object_id)
    invoice.client, invoice.matter = client, matter
    invoice.issue_date = date.fromisoformat(d["issue_date"])
    invoice.due_date = date.fromisoformat(d["due_date"]) if d["due_date"] else None
    invoice.total_cents, invoice.balance_cents = d["total_cents"], d["balance_cents"]
    invoice.save()
    invoice.lines.all().delete()
    LegacyInvoiceLine.objects.bulk_create(
        [
            LegacyInvoiceLine(invoice=invoice, position=i, **line)
            for i, line in enumerate(d["lines"])
        ]
    )
    audit.record(actor=actor, action="imports.invoice_reimported", at=now, obj=invoice, after=d)
    return int(invoice.pk)


def _write_opening(unit: Unit, existing: Any, actor: Any, now: datetime) -> int:
    _history_open()
    d = unit.data
    client = _find_client(unit, "", d["client_key"])
    matter = _find_matter(d["matter_key"]) if unit.kind == RecordKind.TRUST else None
    if existing is not None:
        balance = locks.opening_balance_lock(balance_id=existing.object_id)
        balance.amount_cents = d["amount_cents"]
        balance.save(update_fields=["amount_cents"])
    else:
        balance = OpeningBalance.objects.create(
            kind=unit.kind,
            client=client,
            matter=matter,
            amount_cents=d["amount_cents"],
            created_at=now,
        )
    audit.record(
        actor=actor, action="imports.opening_balance_imported", at=now, obj=balance, after=d
    )
    return int(balance.pk)


_WRITERS = {
    RecordKind.CLIENT: _write_client,
    RecordKind.MATTER: _write_matter,
    RecordKind.INVOICE: _write_invoice,
    RecordKind.TRUST: _write_opening,
    RecordKind.CREDIT: _write_opening,
}


def _write_unit(
    unit: Unit,
    *,
    source: str,
    existing: ImportRecord | None,
    job: ImportJob,
    actor: Any,
    now: datetime,
    report: Report,
) -> None:
    """Write one unit the record-by-record way (inside the caller's transaction) and its import
    record: a changed unit updated with consent, and the kinds with no bulk writer."""
    digest = _data_hash(unit.data)
    object_id = _WRITERS[unit.kind](unit, existing, actor, now)  # type: ignore[index]
    if existing is None:
        ImportRecord.objects.create(
            kind=unit.kind,
            source=source,
            key=unit.key,
            object_id=object_id,
            data=unit.data,
            data_hash=digest,
            job=job,
            created_at=now,
            updated_at=now,
        )
        report.created += 1
    else:
        existing.data, existing.data_hash, existing.updated_at = unit.data, digest, now
        existing.save(update_fields=["data", "data_hash", "updated_at"])
        report.updated += 1


# -- writing a batch's new units set-based: check every unit in Python (with one query per kind
# of lookup), then one bulk INSERT per table and one for their audit events ----------------------

Fail = Callable[[Unit, Exception], None]


def _clients_by_name(names: Iterable[str]) -> dict[str, list[Client]]:
    """The clients named (case-insensitively) any of ``names``, by lower-cased name."""
    wanted = {n for n in names if n}
    out: dict[str, list[Client]] = defaultdict(list)
    if not wanted:
        return out
    query = Q()
    for name in wanted:
        query |= Q(name__iexact=name)
    for client in Client.objects.filter(query).order_by("id"):
        out[client.name.lower()].append(client)
    return out


def _client_named(by_name: dict[str, list[Client]], name: str) -> Client:
    matches = by_name.get(name.lower(), [])
    if not matches:
        raise _UnitProblem(MISSING_CLIENT, MSG_CLIENT_MISSING.format(name=name), "client")
    if len(matches) > 1:
        raise _UnitProblem(
            MISSING_CLIENT,
            MSG_CLIENT_AMBIGUOUS.format(count=min(len(matches), 3), name=name),
            "client",
        )
    return matches[0]


def _records_by_key(kind: str, keys: Iterable[str]) -> dict[str, ImportRecord]:
    """The first import record of ``kind`` per key (any source), as ``_record_for`` finds it."""
    out: dict[str, ImportRecord] = {}
    for record in ImportRecord.objects.filter(kind=kind, key__in=set(keys)).order_by("-id"):
        out[record.key] = record
    return out


def _matters_by_ref(refs: Iterable[str]) -> dict[str, Matter]:
    """``_find_matter`` for many references: by import key, else by number or L-number."""
    refs = set(refs)
    records = _records_by_key(RecordKind.MATTER, refs)
    by_id = Matter.objects.in_bulk([r.object_id for r in records.values()])
    out = {ref: by_id[r.object_id] for ref, r in records.items() if r.object_id in by_id}
    rest = refs - set(out)
    if rest:
        numbers = {n: ref for ref in rest for n in (f"{LEGACY_PREFIX}{ref}"[:32], ref)}
        for matter in Matter.objects.filter(number__in=numbers).order_by("-id"):
            out[numbers[matter.number]] = matter
    return out


def _matter_ref(by_ref: dict[str, Matter], ref: str) -> Matter:
    matter = by_ref.get(ref)
    if matter is None:
        raise _UnitProblem(UNKNOWN_MATTER, MSG_MATTER_UNKNOWN.format(ref=ref), "matter")
    return matter


def _bulk_clients(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    built: list[tuple[Client, dict[str, Any]]] = []
    placed: list[int | None] = []
    today = clock.firm_date(now)
    for unit in units:
        d = unit.data
        fields = {k: d[k] for k in ("email", "phone", "address_line1", "city", "region")}
        fields.update(postal_code=d["postal_code"], country=d["country"])
        try:
            built.append(
                client_services.client_build(
                    actor=actor,
                    now=now,
                    name=d["name"],
                    kind=d["kind"],
                    client_type=d["client_type"],
                    today=today,
                    **fields,
                )
            )
            placed.append(len(built) - 1)
        except ApplicationError as exc:
            fail(unit, exc)
            placed.append(None)
    clients = client_services.client_create_many(actor=actor, now=now, built=built)
    return [None if i is None else int(clients[i].pk) for i in placed]


def _bulk_matters(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    keyed = _records_by_key(RecordKind.CLIENT, [u.data["client_key"] for u in units])
    keyed_clients = Client.objects.in_bulk([r.object_id for r in keyed.values()])
    by_name = _clients_by_name(u.data["client"] for u in units if not u.data.get("client_key"))
    case_types = {
        ct.code: ct
        for ct in CaseType.objects.filter(
            code__in={u.data["case_type"] for u in units}
        ).prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("position", "id")))
    }
    taken = set(
        Matter.objects.filter(number__in=[u.data["number"] for u in units]).values_list(
            "number", flat=True
        )
    )
    built: list[Matter] = []
    placed: list[int | None] = []
    for unit in units:
        d = unit.data
        try:
            if d.get("client_key"):
                record = keyed.get(d["client_key"])
                client = keyed_clients.get(record.object_id) if record else None
                if client is None:
                    raise _UnitProblem(
                        MISSING_CLIENT, MSG_CLIENT_MISSING.format(name=d["client_key"]), "client"
                    )
            else:
                client = _client_named(by_name, d["client"])
            case_type = case_types.get(d["case_type"])
            if case_type is None:
                raise _UnitProblem(
                    BAD_VALUE, MSG_CASE_TYPE.format(value=d["case_type"]), "case_type"
                )
            matter = matter_services.matter_import_build(
                client=client,
                case_type=case_type,
                number=d["number"],
                title=d["title"],
                opened_date=date.fromisoformat(d["opened_date"]),
                closed_date=date.fromisoformat(d["closed_date"]) if d["closed_date"] else None,
                now=now,
                stages=list(case_type.stages.all()),
            )
            if matter.number in taken:
                raise matter_services.MatterError(
                    matter_services.MATTER_NUMBER_TAKEN.format(number=matter.number),
                    field="number",
                )
            taken.add(matter.number)
            built.append(matter)
            placed.append(len(built) - 1)
        except (_UnitProblem, ApplicationError) as exc:
            fail(unit, exc)
            placed.append(None)
    matters = matter_services.matter_import_many(matters=built, actor=actor, now=now)
    return [None if i is None else int(matters[i].pk) for i in placed]


def _bulk_activities(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    by_ref = _matters_by_ref(u.data["matter"] for u in units)
    built: list[LegacyActivity] = []
    placed: list[int | None] = []
    for unit in units:
        d = unit.data
        try:
            matter = _matter_ref(by_ref, d["matter"])
        except _UnitProblem as exc:
            fail(unit, exc)
            placed.append(None)
            continue
        built.append(
            LegacyActivity(
                matter=matter,
                kind=d["kind"],
                activity_date=date.fromisoformat(d["date"]),
                user_name=d["user"][:120],
                description=d["description"],
                quantity=Decimal(d["quantity"]),
                rate_cents=d["rate_cents"],
                amount_cents=d["amount_cents"],
                created_at=now,
            )
        )
        placed.append(len(built) - 1)
    activities = LegacyActivity.objects.bulk_create(built, batch_size=500)
    kept = [u for u, i in zip(units, placed, strict=True) if i is not None]
    audit.record_many(
        actor=actor,
        at=now,
        events=[
            audit.Pending("imports.activity_imported", obj=a, after=u.data)
            for a, u in zip(activities, kept, strict=True)
        ],
    )
    return [None if i is None else int(activities[i].pk) for i in placed]


def _bulk_invoices(units: list[Unit], actor: Any, now: datetime, fail: Fail) -> list[int | None]:
    """New legacy invoices: their numbers stay in the L- range, each once (the unique number
    and the check against the ones already imported), only while the cutover is open."""
    try:
        _history_open()
    except _UnitProblem as exc:
        for unit in units:
            fail(unit, exc)
        return [None] * len(units)
    by_ref = _matters_by_ref(u.data["matter"] for u in units)
    by_name = _clients_by_name(u.data["client"] for u in units)
    taken = set(
        LegacyInvoice.objects.filter(number__in=[u.data["number"] for u in units]).values_list(
            "number", flat=True
        )
    )
    built: list[tuple[Unit, LegacyInvoice]] = []
    placed: list[int | None] = []
    for unit in units:
        d = unit.data
        try:
            matter = _matter_ref(by_ref, d["matter"])
            client = _client_named(by_name, d["client"])
            if matter.client_id != client.pk:
                raise _UnitProblem(
                    UNKNOWN_MATTER,
                    f"matter: {d['matter']} belongs to another client than {d['client']!r}",
                    "matter",
                )
            if d["number"] in taken:
                raise _UnitProblem(
                    DUPLICATE, f"number: legacy invoice {d['number']} already imported", "number"
                )
        except _UnitProblem as exc:
            fail(unit, exc)
            placed.append(None)
            continue
        taken.add(d["number"])
        built.append(
            (
                unit,
                LegacyInvoice(
                    number=d["number"],
                    client=client,
                    matter=matter,
                    issue_date=date.fromisoformat(d["issue_date"]),
                    due_date=date.fromisoformat(d["due_date"]) if d["due_date"] else None,
                    total_cents=d["total_cents"],
                    balance_cents=d["balance_cents"],
                    created_at=now,
                ),
            )
        )
        placed.append(len(built) - 1)
    invoices = LegacyInvoice.objects.bulk_create([inv for _, inv in built], batch_size=500)
    LegacyInvoiceLine.objects.bulk_create(
        [
            LegacyInvoiceLine(invoice=inv, position=i, **line)
            for (unit, _), inv in zip(built, invoices, strict=True)
            for i, line in enumerate(unit.data["lines"])
        ],
        batch_size=500,
    )
    audit.record_many(
        actor=actor,
        at=now,
        events=[
            audit.Pending("imports.invoice_imported", obj=inv, after=unit.data)
            for (unit, _), inv in zip(built, invoices, strict=True)
        ],
    )
    return [None if i is None else int(invoices[i].pk) for i in placed]


# A batch's new units of these kinds go in set-based; the others (and every changed unit
# updated with consent) record by record. Kinds are written in this order, so a matter finds a
# client of its own batch, and an invoice or activity a matter of it.
_BULK_WRITERS: dict[str, Callable[[list[Unit], Any, datetime, Fail], list[int | None]]] = {
    RecordKind.CLIENT: _bulk_clients,
    RecordKind.MATTER: _bulk_matters,
    RecordKind.ACTIVITY: _bulk_activities,
    RecordKind.INVOICE: _bulk_invoices,
}
_KIND_ORDER = (
    RecordKind.CLIENT,
    RecordKind.MATTER,
    RecordKind.ACTIVITY,
    RecordKind.INVOICE,
    RecordKind.TRUST,
    RecordKind.CREDIT,
)


def _run_units(
    units: list[Unit],
    *,
    source: str,
    job: ImportJob,
    consent: bool,
    actor: Any,
    now: datetime,
    report: Report,
    stop_on_problem: bool,
) -> None:
    """Write ``units`` inside the caller's transaction. A unit whose import key holds the same
    data is counted unchanged; changed data is shown and updated only with ``consent``; new
    units of a kind with a bulk writer are checked in Python and inserted set-based with their
    import records. ``stop_on_problem`` (the commit): the first problem raises and the caller
    rolls the batch back; otherwise (the dry run) each problem is reported and the rest goes
    on (the record-by-record writes then run in a savepoint each, so a refused one leaves
    nothing behind)."""

    def fail(unit: Unit, exc: Exception) -> None:
        if isinstance(exc, _UnitProblem):
            report.problems.append(Problem(unit.line, exc.rule, exc.message, exc.field))
        elif isinstance(exc, ApplicationError):
            report.problems.append(Problem(unit.line, REFUSED, str(exc), exc.field or ""))
        if stop_on_problem:
            raise exc

    existing: dict[tuple[str, str], ImportRecord] = {}
    for kind in {u.kind for u in units}:
        keys = [u.key for u in units if u.kind == kind]
        for row in ImportRecord.objects.filter(kind=kind, source=source, key__in=keys):
            existing[(row.kind, row.key)] = row
    for kind in _KIND_ORDER:
        fresh: list[Unit] = []
        for unit in (u for u in units if u.kind == kind):
            record = existing.get((unit.kind, unit.key))
            if record is None and kind in _BULK_WRITERS:
                fresh.append(unit)
                continue
            if record is not None:
                if record.data_hash == _data_hash(unit.data):
                    report.unchanged += 1
                    continue
                diff = {
                    k: [record.data.get(k), v]
                    for k, v in unit.data.items()
                    if record.data.get(k) != v
                }
                report.changes.append(Change(unit.line, unit.kind, unit.key, diff, consent))
                if not consent:
                    continue
            try:
                with transaction.atomic(savepoint=not stop_on_problem):
                    _write_unit(
                        unit,
                        source=source,
                        existing=record,
                        job=job,
                        actor=actor,
                        now=now,
                        report=report,
                    )
            except (_UnitProblem, ApplicationError) as exc:
                fail(unit, exc)
        if not fresh:
            continue
        ids = _BULK_WRITERS[kind](fresh, actor, now, fail)
        written = [(u, i) for u, i in zip(fresh, ids, strict=True) if i is not None]
        ImportRecord.objects.bulk_create(
            [
                ImportRecord(
                    kind=unit.kind,
                    source=source,
                    key=unit.key,
                    object_id=object_id,
                    data=unit.data,
                    data_hash=_data_hash(unit.data),
                    job=job,
                    created_at=now,
                    updated_at=now,
                )
                for unit, object_id in written
            ],
            batch_size=500,
        )
        report.created += len(written)


# -- jobs ---------------------------------------------------------------------------------------


def mapping_for(source: Source, *, now: datetime) -> ImportMapping:
    """The shipped mapping of ``source`` (created on first use, named after the source)."""
    mapping, _ = ImportMapping.objects.get_or_create(
        name=source.code,
        defaults={
            "source": source.code,
            "columns": source.columns,
            "defaults": source.defaults,
            "shipped": True,
            "created_at": now,
            "updated_at": now,
        },
    )
    return mapping


@transaction.atomic
def mapping_save(
    *,
    name: str,
    source: str,
    columns: dict[str, str],
    defaults: dict[str, str],
    actor: Any,
    now: datetime,
) -> ImportMapping:
    """Save (create or replace) the firm's own mapping ``name``; shipped ones stay as shipped."""
    src = source_get(source)
    name = (name or "").strip()
    if not name:
        raise ImportRefused(MAPPING_NAME_REQUIRED, field="name")
    if name in SOURCES:
        raise ImportRefused(MAPPING_SHIPPED.format(name=name), field="name")
    names = set(src.field_names())
    for target in [*columns, *defaults]:
        if target not in names:
            raise ImportRefused(
                MAPPING_UNKNOWN_FIELD.format(field=target, source=src.code), field="columns"
            )
    columns = {k: v for k, v in columns.items() if v}
    defaults = {k: v for k, v in defaults.items() if v}
    mapping, made = ImportMapping.objects.update_or_create(
        name=name,
        defaults={
            "source": src.code,
            "columns": columns,
            "defaults": defaults,
            "updated_at": now,
        },
        create_defaults={
            "source": src.code,
            "columns": columns,
            "defaults": defaults,
            "created_at": now,
            "updated_at": now,
        },
    )
    audit.record(
        actor=actor,
        action="imports.mapping_saved",
        at=now,
        obj=mapping,
        after={"columns": columns, "defaults": defaults, "created": made},
    )
    return mapping


@transaction.atomic
def job_create(
    *,
    source: str,
    filename: str,
    data: bytes,
    mapping: ImportMapping | None,
    actor: Any,
    now: datetime,
) -> ImportJob:
    """Store an uploaded file as a job with the suggested mapping (the saved one named, else
    the source's shipped one)."""
    src = source_get(source)
    content = decode_upload(data)
    headers, rows = read_csv(content)
    chosen = mapping or mapping_for(src, now=now)
    columns = {k: v for k, v in chosen.columns.items() if v in headers}
    job = ImportJob.objects.create(
        source=src.code,
        filename=filename[:200],
        content=content,
        mapping=chosen,
        columns=columns,
        defaults=dict(chosen.defaults),
        rows=len(rows),
        created_by=actor,
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="imports.job_created",
        at=now,
        obj=job,
        after={"source": src.code, "filename": job.filename, "rows": len(rows)},
    )
    return job


@transaction.atomic
def job_map(
    *,
    job: ImportJob,
    columns: dict[str, str],
    defaults: dict[str, str],
    consent_updates: bool,
    actor: Any,
    now: datetime,
) -> ImportJob:
    """Set the job's mapping and defaults (refused when they name a field or header that does
    not exist). Sends the job back to dry run."""
    job = locks.job_lock(job_id=job.pk)
    if job.status in {JobStatus.RUNNING, JobStatus.DONE, JobStatus.FAILED}:
        raise ImportRefused(JOB_DONE, field="job")
    src = source_get(job.source)
    headers, _ = read_csv(job.content)
    columns = {k: v for k, v in columns.items() if v}
    mapping_check(source=src, columns=columns, headers=headers)
    job.columns = columns
    job.defaults = {k: v for k, v in defaults.items() if v and k in src.field_names()}
    job.consent_updates = consent_updates
    job.status = JobStatus.UPLOADED
    job.report = {}
    job.save()
    return job


def dry_run(
    *,
    source: str,
    content: str,
    columns: dict[str, str],
    defaults: dict[str, str],
    consent: bool,
    actor: Any,
    now: datetime,
    job: ImportJob | None = None,
) -> Report:
    """Validate every row and run every write inside a transaction that is always rolled back:
    the report says what a commit would create, update and refuse; nothing is written."""
    src = source_get(source)
    rows, units, problems = plan_units(
        source=src, content=content, columns=columns, defaults=defaults
    )
    report = Report(rows=rows, problems=problems, units=len(units))
    try:
        with transaction.atomic():
            holder = job or ImportJob.objects.create(
                source=src.code, filename="dry run", content="", created_at=now
            )
            _run_units(
                units,
                source=src.code,
                job=holder,
                consent=consent,
                actor=actor,
                now=now,
                report=report,
                stop_on_problem=False,
            )
            raise _Rollback
    except _Rollback:
        pass
    return report


def job_dry_run(*, job: ImportJob, actor: Any, now: datetime) -> Report:
    """Dry-run the job and keep the report on it (the only write: the job's own status)."""
    report = dry_run(
        source=job.source,
        content=job.content,
        columns=job.columns,
        defaults=job.defaults,
        consent=job.consent_updates,
        actor=actor,
        now=now,
        job=job,
    )
    with transaction.atomic():
        locked = locks.job_lock(job_id=job.pk)
        if locked.status in {JobStatus.UPLOADED, JobStatus.VALIDATED}:
            locked.status = JobStatus.VALIDATED
            locked.report = report.as_dict()
            locked.rows = report.rows
            locked.total_units = report.units
            locked.save()
    job.refresh_from_db()
    return report


def job_commit_start(*, job: ImportJob, actor: Any, now: datetime) -> ImportJob:
    """Check the job may be committed (a clean dry run, or a stopped run to resume)."""
    job = ImportJob.objects.get(pk=job.pk)
    if job.status == JobStatus.DONE:
        raise ImportRefused(JOB_DONE, field="job")
    if job.status not in {JobStatus.VALIDATED, JobStatus.RUNNING, JobStatus.FAILED}:
        raise ImportRefused(JOB_NOT_READY.format(status=job.get_status_display()), field="job")
    errors = job.report.get("errors") or []
    if errors:
        raise ImportRefused(JOB_HAS_ERRORS.format(count=len(errors)), field="job")
    return job


def job_commit_queue(*, job: ImportJob, actor: Any, now: datetime) -> ImportJob:
    """Check the job may be committed (``job_commit_start``) and start its run as a background
    job once this transaction commits (the run commits batch by batch on its own)."""
    job = job_commit_start(job=job, actor=actor, now=now)
    actor_id = getattr(actor, "pk", None)
    transaction.on_commit(partial(_run_enqueue, job.pk, actor_id))
    return job


def _run_enqueue(job_id: int, actor_id: int | None) -> None:
    from caseledger.imports.tasks import import_job_run_task

    import_job_run_task(job_id, actor_id)


def job_run(
    *, job: ImportJob, actor: Any, now: datetime, batch_size: int = BATCH_SIZE
) -> ImportJob:
    """Commit the job batch by batch, each batch all or nothing, resuming after the last
    committed batch. A batch that hits a problem rolls back and stops the job (FAILED, with the
    problem); a crash leaves it RUNNING or FAILED and a second call carries on: the import keys
    make a batch that did commit count as unchanged, so nothing is written twice."""
    job = job_commit_start(job=job, actor=actor, now=now)
    src = source_get(job.source)
    _, units, problems = plan_units(
        source=src, content=job.content, columns=job.columns, defaults=job.defaults
    )
    if problems:
        raise ImportRefused(JOB_HAS_ERRORS.format(count=len(problems)), field="job")
    if job.total_units and job.total_units != len(units):
        raise ImportRefused(
            JOB_FILE_CHANGED.format(expected=job.total_units, found=len(units)), field="job"
        )
    with transaction.atomic():
        locked = locks.job_lock(job_id=job.pk)
        locked.status = JobStatus.RUNNING
        locked.total_units = len(units)
        locked.failure = ""
        locked.save(update_fields=["status", "total_units", "failure"])
        if locked.processed_units == 0:
            audit.record(actor=actor, action="imports.job_started", at=now, obj=locked)
    start = job.processed_units
    for index in range(start, len(units), batch_size):
        batch = units[index : index + batch_size]
        report = Report()
        try:
            with transaction.atomic():
                locked = locks.job_lock(job_id=job.pk)
                if locked.processed_units != index:
                    continue  # another runner took this batch
                _run_units(
                    batch,
                    source=src.code,
                    job=locked,
                    consent=locked.consent_updates,
                    actor=actor,
                    now=now,
                    report=report,
                    stop_on_problem=True,
                )
                locked.processed_units = index + len(batch)
                locked.created += report.created
                locked.updated += report.updated
                locked.save(update_fields=["processed_units", "created", "updated"])
        except (_UnitProblem, ApplicationError) as refused:
            if report.problems:
                problem = report.problems[-1]
                message = f"line {problem.line}: {problem.rule}: {problem.message}"
            else:  # refused by a bulk insert's own check (a number taken meanwhile)
                message = f"stopped at record {index + 1}: {refused}"
            _job_fail(job, message, now)
            job.refresh_from_db()
            return job
        except Exception as exc:
            _job_fail(job, f"stopped at record {index + 1}: {type(exc).__name__}: {exc}", now)
            raise
    with transaction.atomic():
        locked = locks.job_lock(job_id=job.pk)
        locked.status = JobStatus.DONE
        locked.finished_at = now
        locked.save(update_fields=["status", "finished_at"])
        audit.record(
            actor=actor,
            action="imports.job_done",
            at=now,
            obj=locked,
            after={"created": locked.created, "updated": locked.updated},
        )
    job.refresh_from_db()
    return job


def _job_fail(job: ImportJob, message: str, now: datetime) -> None:
    with transaction.atomic():
        locked = locks.job_lock(job_id=job.pk)
        locked.status = JobStatus.FAILED
        locked.failure = message[:500]
        locked.save(update_fields=["status", "failure"])


def import_file(
    *,
    source: str,
    data: bytes,
    filename: str,
    mapping: ImportMapping | None,
    dry: bool,
    actor: Any,
    now: datetime,
    consent_updates: bool = False,
) -> dict[str, Any]:
    """The shell's path (``manage.py import_data``): the dry run's report, or the job run's
    counts. Returns ``{rows, valid, errors, created, updated}``."""
    job = job_create(
        source=source, filename=filename, data=data, mapping=mapping, actor=actor, now=now
    )
    if consent_updates:
        job = job_map(
            job=job,
            columns=job.columns,
            defaults=job.defaults,
            consent_updates=True,
            actor=actor,
            now=now,
        )
    report = job_dry_run(job=job, actor=actor, now=now)
    result = report.as_dict()
    if dry or report.problems:
        return result
    job = job_run(job=job, actor=actor, now=now)
    result["created"], result["updated"] = job.created, job.updated
    if job.status != JobStatus.DONE:
        result["errors"].append({"line": 0, "rule": REFUSED, "field": "", "message": job.failure})
    return result


# -- cutover ------------------------------------------------------------------------------------


@transaction.atomic
def cutover_save(
    *, as_of: date, trust_bank_cents: int, aging_total_cents: int, actor: Any, now: datetime
) -> Cutover:
    """Create or change the draft cutover (the figures the opening balances must tie to)."""
    clock.date_check(as_of, field="as_of")
    done = Cutover.objects.filter(status=CutoverStatus.FINALIZED).order_by("id").first()
    if done is not None:
        raise CutoverRefused(CUTOVER_FINALIZED.format(date=done.as_of.isoformat()), field="as_of")
    cutover = locks.draft_cutover_lock()
    before = None
    if cutover is None:
        cutover = Cutover(created_by=actor, created_at=now)
    else:
        before = {
            "as_of": cutover.as_of,
            "trust_bank_cents": cutover.trust_bank_cents,
            "aging_total_cents": cutover.aging_total_cents,
        }
    cutover.as_of = as_of
    cutover.trust_bank_cents = trust_bank_cents
    cutover.aging_total_cents = aging_total_cents
    cutover.save()
    audit.record(
        actor=actor,
        action="imports.cutover_saved",
        at=now,
        obj=cutover,
        before=before,
        after={
            "as_of": as_of,
            "trust_bank_cents": trust_bank_cents,
            "aging_total_cents": aging_total_cents,
        },
    )
    return cutover


@dataclass
class CutoverProof:
    trust_total: int
    trust_bank: int
    ar_total: int
    aging_total: int
    credit_total: int
    negatives: list[tuple[str, str, int]]

    @property
    def trust_ties(self) -> bool:
        return self.trust_total == self.trust_bank

    @property
    def ar_ties(self) -> bool:
        return self.ar_total == self.aging_total

    @property
    def ok(self) -> bool:
        return self.trust_ties and self.ar_ties and not self.negatives


def cutover_proof(cutover: Cutover) -> CutoverProof:
    """The three checks finalize makes, for the page and for finalize itself."""
    trust = OpeningBalance.objects.filter(kind=RecordKind.TRUST).select_related("client", "matter")
    per_ledger: dict[tuple[str, str], int] = defaultdict(int)
    for row in trust:
        per_ledger[(row.client.name, row.matter.number if row.matter else "")] += row.amount_cents
    negatives = [(c, m, a) for (c, m), a in sorted(per_ledger.items()) if a < 0]
    ar = sum(i.balance_cents for i in LegacyInvoice.objects.filter(balance_cents__gt=0))
    credit = sum(
        OpeningBalance.objects.filter(kind=RecordKind.CREDIT).values_list("amount_cents", flat=True)
    )
    return CutoverProof(
        trust_total=sum(per_ledger.values()),
        trust_bank=cutover.trust_bank_cents,
        ar_total=ar,
        aging_total=cutover.aging_total_cents,
        credit_total=credit,
        negatives=negatives,
    )


@transaction.atomic
def cutover_finalize(*, cutover: Cutover, actor: Any, now: datetime) -> Cutover:
    """Post the opening balances as of the cutover date through the ledger, balanced against
    owners' equity (3000): A/R per open legacy invoice, unapplied credit per client, trust per
    client and matter (trust bank against client trust liability). Refused (CutoverRefused,
    nothing posted) unless the trust balances sum to the entered trust bank balance, no client
    ledger is negative, and A/R equals the old system's aging total."""
    from caseledger.core.amounts import firm_money
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    cutover = locks.cutover_lock(cutover_id=cutover.pk)
    if cutover.status == CutoverStatus.FINALIZED:
        raise CutoverRefused(
            CUTOVER_FINALIZED.format(date=cutover.as_of.isoformat()), field="cutover"
        )
    proof = cutover_proof(cutover)
    if proof.negatives:
        client, matter, amount = proof.negatives[0]
        raise CutoverRefused(
            CUTOVER_NEGATIVE.format(client=client, amount=firm_money(amount), matter=matter),
            field="trust",
        )
    if not proof.trust_ties:
        raise CutoverRefused(
            CUTOVER_TRUST.format(
                imported=firm_money(proof.trust_total),
                as_of=cutover.as_of.isoformat(),
                entered=firm_money(proof.trust_bank),
            ),
            field="trust_bank_cents",
        )
    if not proof.ar_ties:
        raise CutoverRefused(
            CUTOVER_AR.format(
                imported=firm_money(proof.ar_total), entered=firm_money(proof.aging_total)
            ),
            field="aging_total_cents",
        )
    entries: list[int] = []
    memo = f"Opening balances as of {cutover.as_of.isoformat()} (cutover #{cutover.pk})"

    def post(what: str, key: str, lines: list[PostingLine]) -> None:
        """One opening-balance entry of the cutover (its idempotency key names the part)."""
        entries.append(
            entry_post(
                kind=EntryKind.OPENING_BALANCE,
                entry_date=cutover.as_of,
                memo=f"{memo}: {what}",
                lines=lines,
                actor=actor,
                now=now,
                idempotency_key=f"cutover-{cutover.pk}-{key}",
            ).pk
        )

    open_invoices = list(
        LegacyInvoice.objects.filter(balance_cents__gt=0).select_related("matter").order_by("id")
    )
    if open_invoices:
        from caseledger.collections.services.aging_facts import receivables

        lines = [
            PostingLine(
                accounts.ACCOUNTS_RECEIVABLE,
                inv.balance_cents,
                client=inv.client_id,
                matter=inv.matter,
            )
            for inv in open_invoices
        ]
        lines.append(PostingLine(accounts.EQUITY, -proof.ar_total))
        # Each invoice's A/R ages from its own due date and is listed by its number.
        with receivables([(inv.due_date, str(inv)) for inv in open_invoices]):
            post("accounts receivable", "ar", lines)
    credits = list(
        OpeningBalance.objects.filter(kind=RecordKind.CREDIT, amount_cents__gt=0).order_by("id")
    )
    if credits:
        lines = [
            PostingLine(accounts.UNAPPLIED_CLIENT_CREDITS, -c.amount_cents, client=c.client_id)
            for c in credits
        ]
        lines.append(PostingLine(accounts.EQUITY, sum(c.amount_cents for c in credits)))
        post("unapplied client credit", "credit", lines)
    trust = list(
        OpeningBalance.objects.filter(kind=RecordKind.TRUST, amount_cents__gt=0)
        .select_related("matter")
        .order_by("id")
    )
    if trust:
        lines = []
        for t in trust:
            lines.append(
                PostingLine(
                    accounts.TRUST_BANK, t.amount_cents, client=t.client_id, matter=t.matter
                )
            )
            lines.append(
                PostingLine(
                    accounts.CLIENT_TRUST_LIABILITY,
                    -t.amount_cents,
                    client=t.client_id,
                    matter=t.matter,
                )
            )
        post("client trust", "trust", lines)
    cutover.status = CutoverStatus.FINALIZED
    cutover.entries = entries
    cutover.finalized_at = now
    cutover.finalized_by = actor
    cutover.save()
    audit.record(
        actor=actor,
        action="imports.cutover_finalized",
        at=now,
        obj=cutover,
        after={
            "as_of": cutover.as_of,
            "entries": entries,
            "trust_cents": proof.trust_total,
            "ar_cents": proof.ar_total,
            "credit_cents": proof.credit_total,
        },
    )
    return cutover


LEGACY_NOT_CUT_OVER = (
    "invoice: {invoice} reaches accounts receivable at the cutover; finalize the cutover before "
    "recording payments on it"
)
LEGACY_OVER_OPEN = "amount: {amount} is more than the {open} still open on {invoice}"
LEGACY_BEFORE_CUTOVER = "received_date: {date} is before the cutover date {as_of}"


@transaction.atomic
def legacy_invoice_pay(
    *,
    invoice: LegacyInvoice,
    method: str,
    payer: str,
    amount_cents: int,
    received_date: date,
    reference: str,
    actor: Any,
    now: datetime,
) -> LegacyPayment:
    """Record money received for an imported open invoice: payments records the payment (into
    operating, as the client's unapplied credit) and applies that credit to the invoice's A/R
    opened at the cutover (Dr unapplied client credits, Cr A/R of its client and matter, aged
    under the invoice's number and due date). Refused before the cutover is finalized, before
    its date, or beyond what is open."""
    from caseledger.collections.services.aging_facts import receivables
    from caseledger.core.amounts import firm_money
    from caseledger.payments.services import payment_credit_apply_to_receivable, payment_record

    invoice = locks.legacy_invoice_lock(invoice_id=invoice.pk)
    cutover = Cutover.objects.filter(status=CutoverStatus.FINALIZED).order_by("-as_of").first()
    if cutover is None:
        raise ImportRefused(LEGACY_NOT_CUT_OVER.format(invoice=invoice), field="invoice")
    if received_date < cutover.as_of:
        raise ImportRefused(
            LEGACY_BEFORE_CUTOVER.format(date=received_date, as_of=cutover.as_of),
            field="received_date",
        )
    if amount_cents > invoice.open_cents:
        raise ImportRefused(
            LEGACY_OVER_OPEN.format(
                amount=firm_money(amount_cents),
                open=firm_money(invoice.open_cents),
                invoice=invoice,
            ),
            field="amount",
        )
    payment = payment_record(
        client=invoice.client,
        matter=invoice.matter,
        method=method,
        payer=payer,
        amount_cents=amount_cents,
        received_date=received_date,
        reference=reference,
        allocations=[],
        memo=f"for {invoice}",
        actor=actor,
        now=now,
    )
    entry = payment_credit_apply_to_receivable(
        payment=payment,
        amount_cents=amount_cents,
        matter=invoice.matter,
        reference=str(invoice),
        applied_date=received_date,
        actor=actor,
        now=now,
        posting_scope=lambda: receivables([(invoice.due_date, str(invoice))]),
    )
    LegacyInvoice.objects.filter(pk=invoice.pk).update(paid_cents=F("paid_cents") + amount_cents)
    paid = LegacyPayment.objects.create(
        invoice=invoice,
        payment=payment,
        entry=entry,
        amount_cents=amount_cents,
        created_by=actor,
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="imports.legacy_invoice_paid",
        at=now,
        obj=invoice,
        before={"open_cents": invoice.open_cents},
        after={
            "open_cents": invoice.open_cents - amount_cents,
            "payment": payment.number,
            "entry": entry.pk,
        },
    )
    return paid
