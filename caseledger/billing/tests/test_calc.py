"""Money math: hours in the increment, one rounding per line, totals that add up exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseledger.billing.calc import (
    LineMoney,
    invoice_totals,
    line_amount_cents,
    minutes_from_hours,
    tax_cents,
    time_amount_cents,
)
from caseledger.billing.choices import TaxMode, TimeRounding
from caseledger.billing.exceptions import BillingError
from caseledger.core.choices import RoundingRule
from caseledger.core.money import split


def test_hours_in_the_increment_are_accepted() -> None:
    assert minutes_from_hours(value="1.5", increment=6, rounding=TimeRounding.REFUSE) == 90
    assert minutes_from_hours(value="0.1", increment=6, rounding=TimeRounding.REFUSE) == 6
    assert minutes_from_hours(value="0.25", increment=15, rounding=TimeRounding.REFUSE) == 15


def test_hours_off_the_increment_are_refused_with_the_rule() -> None:
    with pytest.raises(BillingError) as exc:
        minutes_from_hours(value="1.25", increment=6, rounding=TimeRounding.REFUSE)
    assert exc.value.message == (
        "hours: must be a multiple of the firm's 6-minute increment (0.1 h) (got 1.25)"
    )
    assert exc.value.field == "hours"


def test_rounding_rules_up_and_nearest() -> None:
    assert minutes_from_hours(value="1.21", increment=6, rounding=TimeRounding.UP) == 78
    assert minutes_from_hours(value="1.24", increment=6, rounding=TimeRounding.NEAREST) == 72
    assert minutes_from_hours(value="1.25", increment=6, rounding=TimeRounding.NEAREST) == 78
    # never rounds real work down to nothing
    assert minutes_from_hours(value="0.01", increment=6, rounding=TimeRounding.NEAREST) == 6


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "hours: must be a number of hours such as 1.5 (got 'abc')"),
        ("", "hours: must be a number of hours such as 1.5 (got '')"),
        ("NaN", "hours: must be a number of hours such as 1.5 (got 'NaN')"),
        ("0", "hours: must be more than zero (got 0)"),
        ("-1", "hours: must be more than zero (got -1)"),
    ],
)
def test_bad_hours(value: str, message: str) -> None:
    with pytest.raises(BillingError) as exc:
        minutes_from_hours(value=value, increment=6, rounding=TimeRounding.REFUSE)
    assert exc.value.message == message


def test_time_amount_is_rounded_once_by_the_firm_rule() -> None:
    # 0.1 h at $333.33/h = 3,333.3 cents
    assert time_amount_cents(minutes=6, rate_cents=33_333, rule=RoundingRule.HALF_UP) == 3_333
    assert time_amount_cents(minutes=6, rate_cents=33_335, rule=RoundingRule.HALF_UP) == 3_334
    assert time_amount_cents(minutes=6, rate_cents=33_335, rule=RoundingRule.HALF_EVEN) == 3_334
    assert time_amount_cents(minutes=6, rate_cents=33_325, rule=RoundingRule.HALF_EVEN) == 3_332
    assert time_amount_cents(minutes=6, rate_cents=33_331, rule=RoundingRule.UP) == 3_334
    assert time_amount_cents(minutes=6, rate_cents=33_339, rule=RoundingRule.DOWN) == 3_333


def test_tax_modes() -> None:
    lines = [LineMoney(1_005, True), LineMoney(1_005, True), LineMoney(50_000, False)]
    per_line = invoice_totals(lines=lines, tax_mode=TaxMode.PER_LINE, rate_bp=500, rule="HALF_UP")
    # 5 % of 10.05 = 0.5025 -> 0.50 per line
    assert per_line.line_tax_cents == (50, 50, 0)
    assert per_line.tax_cents == 100
    per_invoice = invoice_totals(
        lines=lines, tax_mode=TaxMode.PER_INVOICE, rate_bp=500, rule="HALF_UP"
    )
    # 5 % of 20.10 = 1.005 -> 1.01 once
    assert per_invoice.tax_cents == 101
    assert per_invoice.total_cents == 52_010 + 101
    none = invoice_totals(lines=lines, tax_mode=TaxMode.NONE, rate_bp=500, rule="HALF_UP")
    assert none.tax_cents == 0


amounts = st.integers(min_value=0, max_value=10**9)
rules = st.sampled_from(list(RoundingRule.values))


@given(
    st.lists(st.tuples(amounts, st.booleans()), min_size=0, max_size=40),
    st.sampled_from(list(TaxMode.values)),
    st.integers(min_value=0, max_value=10_000),
    rules,
)
def test_total_is_always_the_sum_of_lines_plus_tax(
    lines: list[tuple[int, bool]], mode: str, rate_bp: int, rule: str
) -> None:
    totals = invoice_totals(
        lines=[LineMoney(a, t) for a, t in lines], tax_mode=mode, rate_bp=rate_bp, rule=rule
    )
    assert totals.subtotal_cents == sum(a for a, _ in lines)
    assert totals.total_cents == totals.subtotal_cents + totals.tax_cents
    if mode == TaxMode.PER_LINE:
        assert totals.tax_cents == sum(totals.line_tax_cents)
    taxable = sum(a for a, t in lines if t)
    exact = Decimal(taxable) * rate_bp / 10_000 if mode != TaxMode.NONE else Decimal(0)
    # rounding once per line is off by less than one cent per taxable line; never more
    slack = sum(1 for _, t in lines if t) if mode == TaxMode.PER_LINE else 1
    assert abs(totals.tax_cents - exact) <= slack


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2),
    st.integers(min_value=0, max_value=10**8),
    rules,
)
def test_line_amount_is_within_a_cent_of_the_exact_product(
    quantity: Decimal, price: int, rule: str
) -> None:
    amount = line_amount_cents(quantity=quantity, unit_price_cents=price, rule=rule)
    assert abs(Decimal(amount) - quantity * price) < 1


@given(st.integers(min_value=0, max_value=10**11), st.integers(min_value=1, max_value=60))
def test_payment_plan_installments_neither_lose_nor_invent_a_cent(total: int, n: int) -> None:
    parts = split(total, n)
    assert len(parts) == n
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10_000), rules)
def test_tax_on_an_amount_is_within_a_cent(amount: int, rate_bp: int, rule: str) -> None:
    assert (
        abs(
            tax_cents(amount_cents=amount, rate_bp=rate_bp, rule=rule)
            - Decimal(amount) * rate_bp / 10_000
        )
        < 1
    )
