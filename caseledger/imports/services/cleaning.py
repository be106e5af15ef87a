"""Cleaning: one function per record kind turns a mapped row into a unit (or problems), with
no database writes; ``plan_units`` reads the whole file into units."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from caseledger.clients.choices import ClientKind, ClientType
from caseledger.core import clock
from caseledger.core.amounts import CentsParser, cents_parser, parse_cents
from caseledger.core.exceptions import ApplicationError
from caseledger.core.money import MoneyError
from caseledger.imports.choices import AdjustmentKind, RecordKind
from caseledger.imports.models import (
    LEGACY_PREFIX,
)
from caseledger.imports.services.common import (
    BAD_AMOUNT,
    BAD_DATE,
    BAD_VALUE,
    DUPLICATE,
    LINES_NOT_SUM,
    MISSING_CLIENT,
    MISSING_REQUIRED,
    MSG_BAD_AMOUNT,
    MSG_BAD_CHOICE,
    MSG_BAD_DATE,
    MSG_BAD_EMAIL,
    MSG_BAD_QUANTITY,
    MSG_BALANCE_OVER_TOTAL,
    MSG_DUPLICATE,
    MSG_LINES_NOT_SUM,
    MSG_MATTER_KEY,
    MSG_NEGATIVE,
    MSG_NO_NAME,
    MSG_NOT_POSITIVE,
    MSG_REQUIRED,
    Problem,
    Unit,
)
from caseledger.imports.services.reading import _mapped, mapping_check, parse_date, read_csv
from caseledger.imports.sources import LINE_CATEGORIES, Source

# -- cleaning: one function per record kind, no database writes ---------------------------------


def _parse_cents(text: object, field: str = "amount") -> int:
    return parse_cents(text, field=field)


class _Clean:
    """One row's checks. ``parse``: the amount parser (``plan_units`` passes one that read the
    firm's currency and ceiling once for the whole file)."""

    def __init__(
        self, line: int, problems: list[Problem], parse: CentsParser = _parse_cents
    ) -> None:
        self.line = line
        self.problems = problems
        self.parse = parse
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
            cents = self.parse(text, name)
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
    rows: list[tuple[int, dict[str, str]]],
    columns: dict[str, str],
    problems: list[Problem],
    parse: CentsParser = _parse_cents,
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
        c = _Clean(first_line, problems, parse)
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
            lc = _Clean(line, problems, parse)
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
    line: int,
    v: dict[str, str],
    columns: dict[str, str],
    problems: list[Problem],
    source: Source,
    parse: CentsParser = _parse_cents,
) -> list[Unit]:
    c = _Clean(line, problems, parse)
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


def _clean_trust_row(c: _Clean, v: dict[str, str], columns: dict[str, str]) -> Unit | None:
    """A vendor's trust balance per client and matter (``clio-trust``): an opening trust
    balance, as the CaseLedger template's ``trust_balance`` gives one. A zero balance is no
    record."""
    matter = c.required(v, "matter", columns)
    c.required(v, "trust_balance", columns)
    trust = c.amount(v, "trust_balance")
    if not c.ok or not trust:
        return None
    return _trust_unit(c.line, client=v.get("client", ""), matter_key=matter, cents=trust)


def _trust_unit(line: int, *, client: str, matter_key: str, cents: int) -> Unit:
    """An opening trust balance named by its matter (and its client's name, checked against
    the matter's client); the template's own rows name the client by key instead."""
    data = {"client": client, "matter_key": matter_key, "amount_cents": cents}
    return Unit(RecordKind.TRUST, matter_key, line, data, dict(data), [line])


def _history_basics(
    c: _Clean, v: dict[str, str], columns: dict[str, str]
) -> tuple[str, date | None, int | None]:
    """A history row's bill, date and amount (more than zero), each problem noted on ``c``."""
    bill = c.required(v, "bill", columns)
    when = c.required(v, "date", columns) and c.date(v, "date")
    c.required(v, "amount", columns)
    amount = c.amount(v, "amount")
    if amount is not None and amount <= 0:
        text = v.get("amount", "")
        c.fail(BAD_AMOUNT, MSG_NOT_POSITIVE.format(field="amount", text=text), "amount")
    return bill, when or None, amount


def _clean_payment(
    c: _Clean, v: dict[str, str], columns: dict[str, str], source: Source
) -> Unit | None:
    """A payment received before the cutover on an imported bill (history). A voided one
    (Clio's ``voided_at``) is no payment: skipped without a problem."""
    if v.get("voided"):
        return None
    bill, when, amount = _history_basics(c, v, columns)
    if not c.ok or not when or amount is None:
        return None
    data = {
        "bill": bill,
        "date": when.isoformat(),
        "amount_cents": amount,
        "method": v.get("method", "")[:40],
        "reference": v.get("reference", "")[:120],
        "description": v.get("description", "")[:300],
    }
    key = v.get("key") or f"{bill}|{when.isoformat()}|{amount}|{data['reference']}"
    return Unit(
        RecordKind.PAYMENT, key[:200], c.line, data, {**data, "source": source.code}, [c.line]
    )


def _clean_adjustment(
    c: _Clean, v: dict[str, str], columns: dict[str, str], source: Source
) -> Unit | None:
    """A credit note, write-off or discount the old system applied to an imported bill before
    the cutover (history). The kind may be written as its value or in words ("Write-off",
    "credit note")."""
    bill, when, amount = _history_basics(c, v, columns)
    written = c.required(v, "kind", columns)
    kind = "_".join(written.replace("-", " ").upper().split())
    if written and kind not in AdjustmentKind.values:
        c.fail(
            BAD_VALUE,
            MSG_BAD_CHOICE.format(
                field="kind", allowed=", ".join(AdjustmentKind.values), value=written
            ),
            "kind",
        )
    if not c.ok or not when or amount is None:
        return None
    data = {
        "bill": bill,
        "date": when.isoformat(),
        "kind": kind,
        "amount_cents": amount,
        "reason": v.get("reason", "")[:300],
    }
    key = v.get("key") or f"{bill}|{when.isoformat()}|{kind}|{amount}"
    return Unit(
        RecordKind.ADJUSTMENT, key[:200], c.line, data, {**data, "source": source.code}, [c.line]
    )


def _history_per_bill(
    units: list[Unit], rows: list[tuple[int, dict[str, str]]], bad: set[int]
) -> None:
    """Give each payment or adjustment unit what the file holds for its bill (the writer checks,
    per bill, that payments, adjustments, any imported before from other rows, and the balance
    add up to the total): the sum, the lines and the keys. A bill with a refused row is not
    summed (the file cannot be committed anyway, and its sum would be short)."""
    refused = {v.get("bill", "") for line, v in rows if line in bad}
    per_bill: dict[str, list[Unit]] = {}
    for unit in units:
        per_bill.setdefault(unit.data["bill"], []).append(unit)
    for bill, group in per_bill.items():
        summary = {
            "bill_cents": sum(int(u.data["amount_cents"]) for u in group),
            "bill_lines": [u.line for u in group],
            "bill_keys": [u.key for u in group],
            "bill_complete": bill not in refused,
        }
        for unit in group:
            unit.values.update(summary)


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
    parse = cents_parser()
    if source.kind == RecordKind.INVOICE:
        units = _clean_invoice_rows(rows, columns, problems, parse)
    else:
        for line, v in rows:
            c = _Clean(line, problems, parse)
            if source.code == "caseledger":
                units.extend(_clean_caseledger(line, v, columns, problems, source, parse))
            elif source.kind == RecordKind.CLIENT:
                unit = _clean_client(c, v, source)
                units.extend([unit] if unit else [])
            elif source.kind == RecordKind.MATTER:
                unit = _clean_matter(c, v, columns)
                units.extend([unit] if unit else [])
                # PracticePanther's project carries its trust balance (trustBalance).
                trust = c.amount(v, "trust_balance") if "trust_balance" in v else None
                if unit is not None and trust and c.ok:
                    client = unit.data["client"]
                    units.append(_trust_unit(line, client=client, matter_key=unit.key, cents=trust))
            elif source.kind == RecordKind.TRUST:
                unit = _clean_trust_row(c, v, columns)
                units.extend([unit] if unit else [])
            elif source.kind == RecordKind.PAYMENT:
                unit = _clean_payment(c, v, columns, source)
                units.extend([unit] if unit else [])
            elif source.kind == RecordKind.ADJUSTMENT:
                unit = _clean_adjustment(c, v, columns, source)
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
    if source.kind in {RecordKind.PAYMENT, RecordKind.ADJUSTMENT}:
        _history_per_bill(kept, rows, bad)
    return len(rows), kept, problems
