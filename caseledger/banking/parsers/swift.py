"""SWIFT MT940 (customer statement) through the ``mt-940`` package. A file may hold several
messages, with or without SWIFT blocks ({1:...}{4:...-}); each message (from its :20:) is one
statement. Opening :60F:/:60M:, closing :62F:/:62M:. MT942 (interim transaction report, with
:34F: floor limits or {2:O942}) is an intraday report and refused."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import mt940

from caseledger.banking.parsers.base import (
    FILE_INTRADAY,
    FILE_MALFORMED,
    FILE_NO_STATEMENT,
    ParsedLine,
    ParsedStatement,
    StatementRefused,
    to_cents,
)

MT940_LINE_CURRENCY = "currency: {where} line {n} is in {found}, the statement in {currency}"

_BLOCK4 = re.compile(r"\{4:(.*?)-\}", re.S)
_MESSAGE_START = re.compile(r"^:20:", re.M)


def is_intraday(text: str) -> bool:
    return ":34F:" in text or "{2:O942" in text or "{2:I942" in text


def _messages(text: str) -> list[str]:
    blocks = _BLOCK4.findall(text) or [text]
    out = []
    for block in blocks:
        starts = [m.start() for m in _MESSAGE_START.finditer(block)]
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(block)
            out.append(block[start:end].strip().rstrip("-").strip() + "\n")
    return out


def parse(content: bytes) -> list[ParsedStatement]:
    text = content.decode("latin-1").replace("\r\n", "\n")
    if is_intraday(text):
        raise StatementRefused(FILE_INTRADAY.format(found="MT942"))
    statements = [_statement(m) for m in _messages(text)]
    if not statements:
        raise StatementRefused(FILE_NO_STATEMENT.format(format="MT940"))
    return statements


def _day(value: Any) -> date | None:
    """mt-940's Date subclass -> a plain date (it compares and serialises like one)."""
    return date(value.year, value.month, value.day) if value is not None else None


def _balance(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _statement(message: str) -> ParsedStatement:
    try:
        tx = mt940.models.Transactions()
        tx.parse(message)
    except Exception as exc:  # the package raises several kinds for bad tags
        raise StatementRefused(FILE_MALFORMED.format(format="MT940", detail=exc)) from None
    data = tx.data
    opening = _balance(data, "final_opening_balance", "intermediate_opening_balance")
    closing = _balance(data, "final_closing_balance", "intermediate_closing_balance")
    if opening is None or closing is None:
        raise StatementRefused(
            FILE_MALFORMED.format(format="MT940", detail="no :60F:/:60M: or :62F:/:62M: balance")
        )
    currency = str(opening.amount.currency)
    ref = str(data.get("transaction_reference") or "")
    number = "/".join(
        str(x) for x in (data.get("statement_number"), data.get("sequence_number")) if x
    )
    statement_id = f"{ref}:{number}" if number else ref
    where = f"MT940 statement {statement_id}"
    lines = []
    for n, t in enumerate(tx, start=1):
        d = t.data
        if str(d["amount"].currency) != currency:
            raise StatementRefused(
                MT940_LINE_CURRENCY.format(
                    where=where, n=n, found=d["amount"].currency, currency=currency
                )
            )
        customer = str(d.get("customer_reference") or "")
        lines.append(
            ParsedLine(
                booking_date=_day(d.get("entry_date") or d["date"]) or date.min,
                value_date=_day(d.get("date")),
                amount_cents=to_cents(d["amount"].amount, currency, f"{where} line {n}"),
                description=str(d.get("transaction_details") or "").replace("\n", " ").strip(),
                bank_reference=str(d.get("bank_reference") or "").strip(),
                customer_reference="" if customer == "NONREF" else customer,
                code=str(d.get("id") or ""),
            )
        )
    return ParsedStatement(
        format="MT940",
        statement_id=statement_id,
        account=str(data.get("account_identification") or ""),
        currency=currency,
        period_start=_day(opening.date),
        period_end=_day(closing.date),
        opening_cents=to_cents(opening.amount.amount, currency, f"{where} opening balance"),
        closing_cents=to_cents(closing.amount.amount, currency, f"{where} closing balance"),
        lines=lines,
    )
