"""The validator against the LEDES 1998B specification's own sample file (ledes.org, "Ledes98B
Sample File Rev 7-2014", kept verbatim in fixtures/ except one typographic apostrophe written as
ASCII, since 1998B files are ASCII) and the rules the specification states."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from caseledger.billing.ledes import (
    E_AMOUNT,
    E_PERIOD,
    LedesInvoice,
    LedesLine,
    ledes_parse,
    ledes_render,
    ledes_validate,
)

SAMPLE = (Path(__file__).parent / "fixtures" / "ledes98b_spec_sample.txt").read_bytes().decode()


def _replace_field(text: str, row: int, field_index: int, value: str) -> str:
    """``text`` with field ``field_index`` (0-based) of data row ``row`` (1-based) replaced."""
    lines = text.split("\r\n")
    parts = lines[row + 1][:-2].split("|")
    parts[field_index] = value
    lines[row + 1] = "|".join(parts) + "[]"
    return "\r\n".join(lines)


def test_the_specification_sample_is_valid():
    assert ledes_validate(SAMPLE, strict=False) == []


def test_the_sample_reads_into_its_invoices_and_figures():
    read = ledes_parse(SAMPLE)
    assert read.valid
    first, second = read.invoices
    assert (first.number, first.invoice_date, first.total_cents) == (
        "96542",
        date(1999, 2, 25),
        168_445,
    )
    assert (first.billing_start, first.billing_end) == (date(1999, 1, 1), date(1999, 1, 31))
    assert first.law_firm_id == "24-6437381"
    assert [line.total_cents for line in first.lines] == [63_000, 70_000, 4_000, 2_495, 28_950]
    assert sum(line.total_cents for line in first.lines) == first.total_cents
    fee = first.lines[0]
    # "-70": an amount with no decimals; 2.00 h x 350 - 70 = 630
    assert (fee.units, fee.unit_cost_cents, fee.adjustment_cents) == (
        Decimal("2.00"),
        35_000,
        -7_000,
    )
    assert (fee.task_code, fee.activity_code, fee.timekeeper_name) == (
        "L510",
        "A102",
        "Arnsley, Robert",
    )
    assert first.lines[2].units == Decimal("0.200")
    assert first.lines[4].total_cents == 28_950  # "289.5": one decimal
    assert [line.line_type for line in first.lines] == ["F", "F", "F", "E", "E"]
    # the invoice-level fee adjustment ("1250." - a trailing point) of the second invoice
    (adjustment,) = second.lines
    assert (adjustment.line_type, adjustment.adjustment_cents, adjustment.total_cents) == (
        "IF",
        125_000,
        125_000,
    )
    assert second.total_cents == 125_000
    assert read.total_cents == 293_445
    assert read.line_count == 6


def test_strict_mode_holds_the_sample_to_the_2014_classifications():
    # The 1999 rows say PARTNR / ASSOC; the 2014 revision's codes are PT, AS, OC, LA, OT.
    assert ledes_validate(SAMPLE, strict=True) == [
        "line 3: TIMEKEEPER_CLASSIFICATION must be one of PT, AS, OC, LA, OT (got 'PARTNR')",
        "line 4: TIMEKEEPER_CLASSIFICATION must be one of PT, AS, OC, LA, OT (got 'PARTNR')",
        "line 5: TIMEKEEPER_CLASSIFICATION must be one of PT, AS, OC, LA, OT (got 'ASSOC')",
    ]
    modern = SAMPLE.replace("|PARTNR|", "|PT|").replace("|ASSOC|", "|AS|")
    assert ledes_validate(modern, strict=True) == []


@pytest.mark.parametrize("ending", ["", "\r\n", "\r\n\r\n", "\n", "\n  \n"])
def test_a_trailing_empty_line_is_tolerated(ending):
    assert ledes_validate(SAMPLE + ending, strict=False) == []
    assert ledes_validate(SAMPLE.rstrip("\r\n") + ending, strict=False) == []


@pytest.mark.parametrize("amount", ["630", "630.", "630.0", "630.00", "+630.00", ".5"])
def test_amounts_have_no_one_or_two_decimals(amount):
    text = _replace_field(SAMPLE, 1, 11, "0")  # no adjustment: 2.00 x 350 = 700
    text = _replace_field(text, 1, 20, amount)
    errors = ledes_validate(text, strict=False)
    assert not any("LINE_ITEM_UNIT_COST must be an amount" in e for e in errors)


def test_three_decimals_is_a_format_error_and_no_misleading_total_error():
    text = _replace_field(SAMPLE, 1, 12, "630.001")
    assert ledes_validate(text, strict=False) == [
        E_AMOUNT.format(n=3, field="LINE_ITEM_TOTAL", value="630.001")
    ]
    # a broken date or a short row on one line: the format error only, no total error
    bad_date = _replace_field(SAMPLE, 4, 13, "1999-01-17")
    assert ledes_validate(bad_date, strict=False) == [
        "line 6: LINE_ITEM_DATE must be a date YYYYMMDD (got '1999-01-17')"
    ]
    rows = SAMPLE.split("\r\n")
    rows[4] = rows[4].replace("|A107|", "|")
    assert ledes_validate("\r\n".join(rows), strict=False) == [
        "line 5: must have 24 fields (got 23)"
    ]
    # the other invoice of the file is still checked
    wrong_total = _replace_field("\r\n".join(rows), 6, 4, "1300")
    assert ledes_validate(wrong_total, strict=False) == [
        "line 5: must have 24 fields (got 23)",
        "invoice 96543: INVOICE_TOTAL 1300.00 must equal the sum of LINE_ITEM_TOTAL 1250.00",
    ]


def test_billing_end_is_not_before_billing_start():
    text = _replace_field(SAMPLE, 6, 6, "19981231")
    assert ledes_validate(text, strict=False) == [
        E_PERIOD.format(n=8, start="19990101", end="19981231")
    ]


def test_one_invoice_date_per_invoice():
    text = _replace_field(SAMPLE, 3, 0, "19990226")
    # the specification: only the first INVOICE_DATE of an invoice counts
    read = ledes_parse(text, strict=False)
    assert read.valid
    assert read.invoices[0].invoice_date == date(1999, 2, 25)
    # the product's own files carry one date per invoice
    modern = text.replace("|PARTNR|", "|PT|").replace("|ASSOC|", "|AS|")
    assert ledes_validate(modern, strict=True) == [
        "line 5: INVOICE_DATE 19990226 differs from 19990225, the first INVOICE_DATE of invoice "
        "96542 (one date per invoice)"
    ]


def test_header_field_names_and_type():
    assert ledes_validate("LEDES98B[]\r\n") == ["line 1: must be LEDES1998B[] (got 'LEDES98B[]')"]
    assert ledes_validate(SAMPLE.replace("CLIENT_ID|", "CLIENT|", 1), strict=False) == [
        "line 2: must list the 24 LEDES 1998B field names ending in []"
    ]
    assert "line 3: EXP/FEE/INV_ADJ_TYPE must be F, E, IF or IE (got 'X')" in ledes_validate(
        _replace_field(SAMPLE, 1, 9, "X"), strict=False
    )


def _fee(**overrides: object) -> LedesLine:
    data: dict[str, object] = {
        "number": "1",
        "is_expense": False,
        "units": Decimal("1"),
        "unit_cost_cents": 45_000,
        "total_cents": 45_000,
        "line_date": date(2026, 10, 5),
        "task_code": "L120",
        "expense_code": "",
        "activity_code": "A103",
        "timekeeper_id": "PR",
        "timekeeper_name": "Raman, Priya",
        "timekeeper_classification": "PT",
        "description": "Strategy",
    }
    data.update(overrides)
    return LedesLine(**data)  # type: ignore[arg-type]


def _file(*lines: LedesLine) -> str:
    total = sum(line.total_cents for line in lines)
    invoice = LedesInvoice(
        invoice_date=date(2026, 10, 31),
        number="2026-000042",
        client_id="C7",
        matter_id="M-7",
        client_matter_id="M-7",
        total_cents=total,
        billing_start=date(2026, 10, 1),
        billing_end=date(2026, 10, 31),
        description="H-1B petition",
        law_firm_id="94-3170425",
        lines=list(lines),
    )
    return ledes_render([invoice])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"task_code": "L100"},
            "line 3: LINE_ITEM_TASK_CODE L100 is a UTBMS phase, not a task (code the time entry "
            "with one of its tasks)",
        ),
        ({"task_code": "L999"}, "line 3: LINE_ITEM_TASK_CODE 'L999' is not a UTBMS task code"),
        (
            {"activity_code": "A199"},
            "line 3: LINE_ITEM_ACTIVITY_CODE 'A199' is not a UTBMS activity code",
        ),
        (
            {"timekeeper_classification": "PL"},
            "line 3: TIMEKEEPER_CLASSIFICATION must be one of PT, AS, OC, LA, OT (got 'PL')",
        ),
        ({"timekeeper_id": ""}, "line 3: fee lines need TIMEKEEPER_ID"),
        ({"timekeeper_name": ""}, "line 3: fee lines need TIMEKEEPER_NAME"),
    ],
)
def test_strict_rules_for_the_products_own_files(overrides, message):
    assert ledes_validate(_file(_fee())) == []
    assert ledes_validate(_file(_fee(**overrides))) == [message]
    # a file from elsewhere is read without the product's promises
    assert ledes_validate(_file(_fee(**overrides)), strict=False) == []


def test_expense_codes_are_members_of_the_set():
    expense = _fee(is_expense=True, expense_code="E112", timekeeper_id="", timekeeper_name="",
                   timekeeper_classification="")  # fmt: skip
    assert ledes_validate(_file(expense)) == []
    unknown = _fee(is_expense=True, expense_code="E199")
    assert ledes_validate(_file(unknown)) == [
        "line 3: LINE_ITEM_EXPENSE_CODE 'E199' is not a UTBMS expense code"
    ]


def test_render_then_parse_gives_the_same_figures():
    odd = _fee(units=Decimal("0.33"), unit_cost_cents=10_000, total_cents=3_333)
    expense = _fee(number="2", is_expense=True, expense_code="E112", units=Decimal("1"),
                   unit_cost_cents=78_000, total_cents=78_000)  # fmt: skip
    text = _file(_fee(), odd.__class__(**{**odd.__dict__, "number": "3"}), expense)
    read = ledes_parse(text, strict=True)
    assert read.valid, read.errors
    (invoice,) = read.invoices
    assert invoice.total_cents == 45_000 + 3_333 + 78_000
    assert [(li.units, li.unit_cost_cents, li.total_cents) for li in invoice.lines] == [
        (Decimal("1"), 45_000, 45_000),
        (Decimal("0.33"), 10_000, 3_333),
        (Decimal("1"), 78_000, 78_000),
    ]
    assert invoice.lines[1].adjustment_cents == 33
