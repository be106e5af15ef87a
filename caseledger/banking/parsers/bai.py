"""BAI2 (cash management balance reporting) through the ``bai2`` package. Continuation
records (88) are joined by the package; record counts and control totals of every account,
group and the file are checked by it (``check_integrity``), and its refusal is reported with
its figures. One statement per account record: opening ledger (010) + transactions = closing
ledger (015). Amounts are unsigned minor units; the type code says credit or debit.
Same-day (intraday) groups, as-of-date modifier 3 or 4, are refused."""

from __future__ import annotations

from typing import Any

from bai2.bai2 import parse_from_string
from bai2.constants import AsOfDateModifier, TypeCodeTransaction
from bai2.exceptions import IntegrityException

from caseledger.banking.parsers.base import (
    FILE_INTRADAY,
    FILE_MALFORMED,
    FILE_NO_STATEMENT,
    Control,
    ParsedLine,
    ParsedStatement,
    StatementRefused,
)

BAI2_CONTROL_TOTAL = "file: BAI2 control totals do not agree ({detail})"
RECORD_CODES = {"01,", "02,", "03,", "16,", "49,", "88,", "98,", "99,"}
SAME_DAY = {AsOfDateModifier.interim_same_day, AsOfDateModifier.final_same_day}


def _check_structure(lines: list[str]) -> None:
    """The package loops for ever on a file cut short (it keeps its last record when the lines
    run out), so a file must be whole before it sees it: known record codes, starting with one
    01 header and ending with one 99 trailer."""
    codes = [line[:3] for line in lines]
    unknown = sorted({c for c in codes if c not in RECORD_CODES})
    if unknown:
        raise StatementRefused(
            FILE_MALFORMED.format(format="BAI2", detail=f"unknown record code {unknown[0]!r}")
        )
    if not codes or codes[0] != "01," or codes.count("01,") != 1:
        raise StatementRefused(
            FILE_MALFORMED.format(format="BAI2", detail="the file must start with one 01 record")
        )
    if codes[-1] != "99," or codes.count("99,") != 1:
        raise StatementRefused(
            FILE_MALFORMED.format(
                format="BAI2", detail="the file must end with one 99 record (is it cut short?)"
            )
        )


def parse(content: bytes) -> list[ParsedStatement]:
    text = content.decode("ascii", errors="replace")
    _check_structure([line.strip() for line in text.splitlines() if line.strip()])
    try:
        parsed = parse_from_string(text, check_integrity=True)
    except IntegrityException as exc:
        raise StatementRefused(BAI2_CONTROL_TOTAL.format(detail=exc)) from None
    except Exception as exc:  # the package raises several kinds for bad records
        raise StatementRefused(FILE_MALFORMED.format(format="BAI2", detail=exc)) from None
    out: list[ParsedStatement] = []
    for group in parsed.children:
        header = group.header
        if header.as_of_date_modifier in SAME_DAY:
            raise StatementRefused(
                FILE_INTRADAY.format(
                    found=f"BAI2 group, as-of-date modifier "
                    f"{header.as_of_date_modifier.value} (same day)"
                )
            )
        for account in group.children:
            out.append(_statement(header, account, str(parsed.header.file_id or "")))
    if not out:
        raise StatementRefused(FILE_NO_STATEMENT.format(format="BAI2"))
    return out


def _statement(group: Any, account: Any, file_id: str) -> ParsedStatement:
    head = account.header
    currency = str(head.currency or group.currency or "USD")
    number = str(head.customer_account_number)
    day = group.as_of_date
    summary = {s.type_code.code: s for s in head.summary_items}
    lines = []
    for tx in account.children:
        sign = -1 if tx.type_code.transaction == TypeCodeTransaction.debit else 1
        lines.append(
            ParsedLine(
                booking_date=day,
                amount_cents=sign * int(tx.amount or 0),
                description=str(tx.text or "").strip(),
                bank_reference=str(tx.bank_reference or "").strip(),
                customer_reference=str(tx.customer_reference or "").strip(),
                code=tx.type_code.code,
            )
        )
    controls = []
    where = f"BAI2 account {number}"
    for code, label, values in (
        ("100", "total credits", [x.amount_cents for x in lines if x.amount_cents > 0]),
        ("400", "total debits", [-x.amount_cents for x in lines if x.amount_cents < 0]),
    ):
        item = summary.get(code)
        if item is None:
            continue
        if item.amount is not None:
            controls.append(Control(f"{where} {label}", int(item.amount), sum(values)))
        if item.item_count is not None:
            controls.append(Control(f"{where} {label} items", int(item.item_count), len(values)))
    opening = summary.get("010")
    closing = summary.get("015")
    return ParsedStatement(
        format="BAI2",
        statement_id=f"{file_id}/{number}/{day.isoformat()}",
        account=number,
        currency=currency,
        period_start=day,
        period_end=day,
        opening_cents=int(opening.amount) if opening and opening.amount is not None else None,
        closing_cents=int(closing.amount) if closing and closing.amount is not None else None,
        lines=lines,
        controls=controls,
        opening_stated=opening is not None,
    )
