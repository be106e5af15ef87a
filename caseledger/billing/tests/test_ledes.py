"""LEDES 1998B: the file layout and each rule the validator enforces."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from caseledger.billing.exceptions import LedesInvalid
from caseledger.billing.ledes import (
    FIELDS,
    LedesInvoice,
    LedesLine,
    ledes_checked,
    ledes_render,
    ledes_validate,
)

# The 24 field names of LEDES 1998B, in order, as published by the LEDES Oversight Committee.
SPEC_FIELDS = (
    "INVOICE_DATE|INVOICE_NUMBER|CLIENT_ID|LAW_FIRM_MATTER_ID|INVOICE_TOTAL|BILLING_START_DATE|"
    "BILLING_END_DATE|INVOICE_DESCRIPTION|LINE_ITEM_NUMBER|EXP/FEE/INV_ADJ_TYPE|"
    "LINE_ITEM_NUMBER_OF_UNITS|LINE_ITEM_ADJUSTMENT_AMOUNT|LINE_ITEM_TOTAL|LINE_ITEM_DATE|"
    "LINE_ITEM_TASK_CODE|LINE_ITEM_EXPENSE_CODE|LINE_ITEM_ACTIVITY_CODE|TIMEKEEPER_ID|"
    "LINE_ITEM_DESCRIPTION|LAW_FIRM_ID|LINE_ITEM_UNIT_COST|TIMEKEEPER_NAME|"
    "TIMEKEEPER_CLASSIFICATION|CLIENT_MATTER_ID"
)


def _invoice(**overrides: object) -> LedesInvoice:
    lines = [
        LedesLine(
            number="1",
            is_expense=False,
            units=Decimal("1.50"),
            unit_cost_cents=45_000,
            total_cents=67_500,
            line_date=date(2026, 10, 5),
            task_code="L120",
            expense_code="",
            activity_code="A103",
            timekeeper_id="PR",
            timekeeper_name="Raman, Priya",
            timekeeper_classification="PT",
            description="Draft support letter | employer",
        ),
        LedesLine(
            number="2",
            is_expense=True,
            units=Decimal("1"),
            unit_cost_cents=78_000,
            total_cents=78_000,
            line_date=date(2026, 10, 6),
            task_code="",
            expense_code="E123",
            activity_code="",
            timekeeper_id="",
            timekeeper_name="",
            timekeeper_classification="",
            description="USCIS I-129 filing fee",
        ),
    ]
    data: dict[str, object] = {
        "invoice_date": date(2026, 10, 31),
        "number": "2026-000042",
        "client_id": "C7",
        "matter_id": "M-2026-0007",
        "client_matter_id": "M-2026-0007",
        "total_cents": 145_500,
        "billing_start": date(2026, 10, 5),
        "billing_end": date(2026, 10, 6),
        "description": "H-1B petition",
        "law_firm_id": "94-1234567",
        "lines": lines,
    }
    data.update(overrides)
    return LedesInvoice(**data)  # type: ignore[arg-type]


def test_rendered_file_follows_the_1998b_layout() -> None:
    text = ledes_render([_invoice()])
    rows = text.split("\r\n")
    assert rows[0] == "LEDES1998B[]"
    assert rows[1] == SPEC_FIELDS + "[]"
    assert "|".join(FIELDS) == SPEC_FIELDS
    assert len(FIELDS) == 24
    fee = rows[2][:-2].split("|")
    assert len(fee) == 24
    row = dict(zip(FIELDS, fee, strict=True))
    assert row["INVOICE_DATE"] == "20261031"
    assert row["INVOICE_TOTAL"] == "1455.00"
    assert row["EXP/FEE/INV_ADJ_TYPE"] == "F"
    assert row["LINE_ITEM_NUMBER_OF_UNITS"] == "1.5"
    assert row["LINE_ITEM_TOTAL"] == "675.00"
    assert row["LINE_ITEM_UNIT_COST"] == "450.00"
    assert row["LINE_ITEM_ADJUSTMENT_AMOUNT"] == "0.00"
    assert row["LINE_ITEM_TASK_CODE"] == "L120"
    assert row["LINE_ITEM_ACTIVITY_CODE"] == "A103"
    assert row["TIMEKEEPER_NAME"] == "Raman, Priya"
    # the delimiter never appears inside a field
    assert row["LINE_ITEM_DESCRIPTION"] == "Draft support letter / employer"
    expense = dict(zip(FIELDS, rows[3][:-2].split("|"), strict=True))
    assert expense["EXP/FEE/INV_ADJ_TYPE"] == "E"
    assert expense["LINE_ITEM_EXPENSE_CODE"] == "E123"
    assert expense["LINE_ITEM_TASK_CODE"] == ""
    assert ledes_validate(text) == []
    assert ledes_checked(text) == text


def test_total_must_equal_sum_of_line_totals() -> None:
    text = ledes_render([_invoice(total_cents=145_501)])
    assert ledes_validate(text) == [
        "invoice 2026-000042: INVOICE_TOTAL 1455.01 must equal the sum of LINE_ITEM_TOTAL 1455.00"
    ]
    with pytest.raises(LedesInvalid) as exc:
        ledes_checked(text)
    assert "INVOICE_TOTAL 1455.01" in exc.value.message


def test_dates_must_be_yyyymmdd() -> None:
    text = ledes_render([_invoice()]).replace("20261031", "2026-10-31", 1)
    assert ledes_validate(text)[0] == (
        "line 3: INVOICE_DATE must be a date YYYYMMDD (got '2026-10-31')"
    )
    impossible = ledes_render([_invoice()]).replace("20261031", "20261331", 1)
    assert "line 3: INVOICE_DATE must be a date YYYYMMDD (got '20261331')" in ledes_validate(
        impossible
    )


def test_fee_lines_need_task_and_activity_codes_and_expenses_an_expense_code() -> None:
    base = _invoice()
    no_codes = [
        LedesLine(**{**base.lines[0].__dict__, "activity_code": ""}),
        LedesLine(**{**base.lines[1].__dict__, "expense_code": ""}),
    ]
    errors = ledes_validate(ledes_render([_invoice(lines=no_codes)]))
    assert errors == [
        "line 3: fee lines need LINE_ITEM_TASK_CODE and LINE_ITEM_ACTIVITY_CODE",
        "line 4: expense lines need LINE_ITEM_EXPENSE_CODE",
    ]


def test_field_count_terminator_and_header_are_checked() -> None:
    text = ledes_render([_invoice()])
    rows = text.split("\r\n")
    short = "\r\n".join([rows[0], rows[1], rows[2].replace("|PT|", "|"), *rows[3:]])
    assert ledes_validate(short)[0] == "line 3: must have 24 fields (got 23)"
    unterminated = "\r\n".join([rows[0], rows[1], rows[2][:-2], *rows[3:]])
    assert ledes_validate(unterminated)[0] == "line 3: must end with []"
    assert ledes_validate("LEDES98B[]\r\n") == ["line 1: must be LEDES1998B[] (got 'LEDES98B[]')"]


def test_units_times_cost_plus_adjustment_equals_line_total() -> None:
    base = _invoice()
    # 0.33 h x $100 = $33.00; the line total is $33.33 when the rate rounds differently
    odd = LedesLine(
        **{
            **base.lines[0].__dict__,
            "units": Decimal("0.33"),
            "unit_cost_cents": 10_000,
            "total_cents": 3_333,
        }
    )
    text = ledes_render([_invoice(lines=[odd], total_cents=3_333)])
    row = dict(zip(FIELDS, text.split("\r\n")[2][:-2].split("|"), strict=True))
    assert row["LINE_ITEM_ADJUSTMENT_AMOUNT"] == "0.33"
    assert ledes_validate(text) == []
    broken = text.replace("|0.33|33.33|", "|0.00|33.33|")
    assert ledes_validate(broken) == [
        "line 3: units x unit cost + adjustment (33.00) must equal LINE_ITEM_TOTAL (33.33)"
    ]


def test_required_fields_and_lengths() -> None:
    text = ledes_render([_invoice(number="")])
    assert "line 3: INVOICE_NUMBER is required" in ledes_validate(text)
    long_number = ledes_render([_invoice(number="X" * 21)])
    assert "line 3: INVOICE_NUMBER is longer than 20 characters" in ledes_validate(long_number)


def test_files_are_ascii() -> None:
    text = ledes_render([_invoice(description="Petición H-1B — Zoë")])
    row = dict(zip(FIELDS, text.split("\r\n")[2][:-2].split("|"), strict=True))
    assert row["INVOICE_DESCRIPTION"] == "Peticion H-1B - Zoe"
    assert ledes_validate(text) == []
    assert ledes_validate(text.replace("Zoe", "Zoë")) == [
        "line 3: LEDES 1998B files are ASCII (found 'ë')",
        "line 4: LEDES 1998B files are ASCII (found 'ë')",
    ]
