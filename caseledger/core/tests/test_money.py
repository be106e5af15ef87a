from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseledger.core import money
from caseledger.core.choices import RoundingRule
from caseledger.core.money import Money, MoneyError, allocate, round_amount, split


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("$1,234.56", 123456),
        ("1234.56", 123456),
        ("(1,234.56)", -123456),
        ("($1,234.56)", -123456),
        ("-12", -1200),
        ("  0.5 ", 50),
        (".05", 5),
        ("1,000,000", 100_000_000),
        ("12.30", 1230),
        ("12.300", 1230),
        ("USD 7.00", 700),
    ],
)
def test_parse_accepts_the_usual_shapes(text, cents):
    assert Money.parse(text, "USD") == Money(cents, "USD")


@pytest.mark.parametrize("text", ["", "abc", "1,23.00", "12.3.4", "$", "--5", "(-5)", "1e5", "."])
def test_parse_refuses_non_numbers_naming_the_field(text):
    with pytest.raises(MoneyError) as exc:
        Money.parse(text, "USD", field="deposit")
    assert exc.value.message == money.MONEY_NOT_A_NUMBER.format(
        field="deposit", example="1,234.56", text=text
    )
    assert exc.value.field == "deposit"


def test_parse_refuses_more_decimals_than_the_currency_has():
    with pytest.raises(MoneyError) as exc:
        Money.parse("1.234", "USD")
    assert exc.value.message == "amount: USD has at most 2 decimal places (got '1.234')"
    with pytest.raises(MoneyError) as exc:
        Money.parse("5.5", "JPY")
    assert exc.value.message == "amount: JPY has at most 0 decimal places (got '5.5')"
    assert Money.parse("1.234", "KWD").cents == 1234


def test_parse_refuses_amounts_over_the_ceiling():
    with pytest.raises(MoneyError) as exc:
        Money.parse("100,000,000,000.01", "USD")
    assert exc.value.message == (
        "amount: must not exceed 100,000,000,000.00 in absolute value (got '100,000,000,000.01')"
    )
    assert Money.parse("100,000,000,000.00", "USD").cents == money.MAX_MINOR_UNITS
    with pytest.raises(MoneyError):
        Money.parse("9" * 40, "USD")


def test_unknown_currency_and_mixed_currencies_are_refused():
    with pytest.raises(MoneyError) as exc:
        Money(1, "XXX")
    assert exc.value.message == "currency: must be a supported ISO 4217 code (got 'XXX')"
    with pytest.raises(MoneyError) as exc:
        Money(1, "USD") + Money(1, "EUR")
    assert exc.value.message == "currency: cannot combine USD and EUR amounts"
    with pytest.raises(MoneyError) as exc:
        _ = Money(1, "USD") < Money(1, "EUR")
    assert exc.value.message == money.MONEY_CURRENCY_MISMATCH.format(left="USD", right="EUR")


def test_money_times_money_and_non_integer_units_are_refused():
    with pytest.raises(MoneyError) as exc:
        Money(1, "USD") * Money(2, "USD")
    assert exc.value.message == money.MONEY_MULTIPLY_MONEY
    with pytest.raises(MoneyError) as exc:
        Money(1.5, "USD")  # type: ignore[arg-type]
    assert exc.value.message == "amount: minor units must be an integer (got 1.5)"
    with pytest.raises(TypeError):
        Money(1, "USD") * Decimal("1.5")  # type: ignore[operator]
    assert Money(150, "USD") * 3 == Money(450, "USD")


def test_format():
    assert Money(123456, "USD").format() == "$1,234.56"
    assert Money(-123456, "USD").format() == "-$1,234.56"
    assert Money(-123456, "USD").format(accounting=True) == "($1,234.56)"
    assert Money(5, "USD").format() == "$0.05"
    assert Money(1000, "JPY").format() == "¥1,000"
    assert Money(1000, "CHF").format() == "CHF 10.00"
    assert Money(1234, "USD").format(symbol=False) == "12.34"
    assert str(Money(0, "USD")) == "$0.00"


def test_arithmetic():
    a, b = Money(500, "USD"), Money(125, "USD")
    assert a + b == Money(625, "USD")
    assert a - b == Money(375, "USD")
    assert -a == Money(-500, "USD")
    assert abs(Money(-5, "USD")) == Money(5, "USD")
    assert b < a
    assert a >= b
    assert not Money.zero("USD")
    assert Money(123456, "USD").to_decimal() == Decimal("1234.56")


def test_allocate_examples():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(5, [Decimal("0.3"), Decimal("0.7")]) == [2, 3]  # 1.5 / 3.5: tie, first wins
    assert allocate(10, [0, 1]) == [0, 10]
    assert split(1000, 3) == [334, 333, 333]
    assert Money(1000, "USD").split(4) == [Money(250, "USD")] * 4
    assert Money(1, "USD").allocate([1, 2]) == [Money(0, "USD"), Money(1, "USD")]


def test_allocate_refusals():
    with pytest.raises(MoneyError) as exc:
        allocate(100, [])
    assert exc.value.message == money.MONEY_RATIOS_EMPTY
    with pytest.raises(MoneyError) as exc:
        allocate(100, [1, -1])
    assert exc.value.message == "ratios: every ratio must be zero or positive (got -1)"
    with pytest.raises(MoneyError) as exc:
        allocate(100, [0, 0])
    assert exc.value.message == money.MONEY_RATIOS_ZERO
    with pytest.raises(MoneyError) as exc:
        split(100, 0)
    assert exc.value.message == "parts: must be at least 1 (got 0)"


@pytest.mark.parametrize(
    ("value", "rule", "expected"),
    [
        (Decimal("2.5"), RoundingRule.HALF_UP, 3),
        (Decimal("-2.5"), RoundingRule.HALF_UP, -3),
        (Decimal("2.5"), RoundingRule.HALF_EVEN, 2),
        (Decimal("3.5"), RoundingRule.HALF_EVEN, 4),
        (Decimal("2.01"), RoundingRule.UP, 3),
        (Decimal("-2.01"), RoundingRule.UP, -3),
        (Decimal("2.99"), RoundingRule.DOWN, 2),
        (Decimal("-2.99"), RoundingRule.DOWN, -2),
        (Decimal("2.4999"), RoundingRule.HALF_UP, 2),
        (7, RoundingRule.HALF_UP, 7),
    ],
)
def test_round_amount(value, rule, expected):
    assert round_amount(value, rule) == expected


def test_round_amount_default_and_unknown_rule():
    assert round_amount(Decimal("1.5")) == 2
    with pytest.raises(MoneyError) as exc:
        round_amount(Decimal("1.5"), "SIDEWAYS")
    assert exc.value.message == (
        "rounding_rule: must be one of HALF_UP, HALF_EVEN, UP, DOWN (got 'SIDEWAYS')"
    )


amounts = st.integers(min_value=-money.MAX_MINOR_UNITS, max_value=money.MAX_MINOR_UNITS)


@given(cents=amounts)
def test_format_then_parse_round_trips(cents):
    m = Money(cents, "USD")
    assert Money.parse(m.format(), "USD") == m
    assert Money.parse(m.format(accounting=True), "USD") == m
    assert Money.parse(m.format(symbol=False), "USD") == m


@given(
    total=amounts,
    ratios=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(any),
)
def test_allocate_never_loses_or_invents_a_cent(total, ratios):
    parts = allocate(total, ratios)
    assert sum(parts) == total
    assert len(parts) == len(ratios)
    weight = sum(ratios)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = total * ratio / weight
        assert abs(part - exact) < 1 + 1e-9 * abs(total)  # each part within a cent of its share
        if ratio == 0:
            assert part == 0
        assert part == 0 or (part > 0) == (total > 0)


@given(total=amounts, n=st.integers(min_value=1, max_value=50))
def test_split_parts_differ_by_at_most_one_cent(total, n):
    parts = split(total, n)
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1


@given(
    value=st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=4),
    rule=st.sampled_from(list(RoundingRule)),
)
def test_round_amount_is_within_one_unit(value, rule):
    rounded = round_amount(value, rule)
    assert abs(Decimal(rounded) - value) < 1
    if rule in (RoundingRule.HALF_UP, RoundingRule.HALF_EVEN):
        assert abs(Decimal(rounded) - value) <= Decimal("0.5")


# -- one formatter and one parser, every supported currency -------------------------------------


@given(cents=amounts, currency=st.sampled_from(sorted(money.CURRENCIES)))
def test_format_then_parse_round_trips_in_every_currency(cents, currency):
    m = Money(cents, currency)
    for text in (m.format(), m.format(accounting=True), m.format(symbol=False)):
        assert Money.parse(text, currency) == m
    assert money.format_decimal(cents, currency) == str(m.to_decimal())
    assert Money.parse(money.format_decimal(cents, currency), currency) == m


@given(
    whole=st.integers(min_value=0, max_value=10**9),
    currency=st.sampled_from(sorted(money.CURRENCIES)),
)
def test_parse_reads_the_currency_exponent(whole, currency):
    places = money.CURRENCY_EXPONENTS[currency]
    assert Money.parse(str(whole), currency).cents == whole * 10**places
    if places:
        assert Money.parse(f"{whole}.{'1' * places}", currency).cents == whole * 10**places + int(
            "1" * places
        )
        with pytest.raises(MoneyError):
            Money.parse(f"{whole}.{'1' * (places + 1)}", currency)


def test_currency_exponents_jpy_and_kwd():
    assert Money(1234, "JPY").format() == "¥1,234"
    assert Money.parse("¥1,234", "JPY").cents == 1234
    assert Money(1234, "KWD").format() == "KWD 1.234"
    assert Money.parse("1.234", "KWD").cents == 1234
    assert money.format_decimal(-5, "KWD") == "-0.005"
    assert money.format_decimal(1234, "JPY") == "1234"
    assert money.amount_example("JPY") == "1,234"
    assert money.amount_example("KWD") == "1,234.567"
    with pytest.raises(MoneyError) as exc:
        Money.parse("12.5", "JPY")
    assert exc.value.message == "amount: JPY has at most 0 decimal places (got '12.5')"


@pytest.mark.parametrize("text", ["１２３", "١٢٣", "12３.00", "１,２３４.５６", "1²3", "٣"])
def test_parse_accepts_ascii_digits_only(text):
    with pytest.raises(MoneyError) as exc:
        Money.parse(text, "USD")
    assert exc.value.message == f"amount: must be an amount like 1,234.56 (got {text!r})"


def test_money_has_no_magnitude_limit_so_sums_always_format():
    """A running balance over any history is a valid Money: only input is limited."""
    huge = Money(money.MAX_MINOR_UNITS, "USD") + Money(money.MAX_MINOR_UNITS, "USD")
    assert huge.format() == "$200,000,000,000.00"
    assert Money(-(10**30), "JPY").format(accounting=True) == "(¥" + f"{10**30:,}" + ")"
    assert Money(10**30, "USD").to_decimal() == Decimal(10**28)


def test_parse_with_a_ceiling_gives_the_one_ceiling_message():
    with pytest.raises(money.AmountOverCeiling) as exc:
        Money.parse("10,000,000.01", "USD", ceiling=1_000_000_000)
    assert exc.value.message == (
        "amount: must not exceed $10,000,000.00 (the firm's limit for a single amount)"
    )
    assert exc.value.code == "amount_over_ceiling"
    with pytest.raises(money.AmountOverCeiling):
        Money.parse("9" * 400, "USD", field="fee", ceiling=1_000_000_000)
    assert Money.parse("(10,000,000.00)", "USD", ceiling=1_000_000_000).cents == -1_000_000_000


def test_currency_choices_are_the_supported_codes():
    codes = [code for code, _ in money.currency_choices()]
    assert codes == sorted(money.CURRENCIES)
    assert "XYZ" not in codes
    with pytest.raises(MoneyError) as exc:
        Money(1, "XYZ")
    assert exc.value.message == "currency: must be a supported ISO 4217 code (got 'XYZ')"


def test_formatting_never_refuses_a_stored_code():
    """A code stored before the supported list (e.g. "XYZ") formats with two decimals instead of
    failing the page; only new input is refused."""
    assert money.format_money(-123456, "XYZ", accounting=True) == "(XYZ 1,234.56)"
    assert money.format_decimal(5, "XYZ") == "0.05"
