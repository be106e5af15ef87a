"""Helpers shared by the billing services (not part of the public API)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from caseledger.billing.exceptions import BillingError
from caseledger.core.amounts import amount_ceiling, amount_check
from caseledger.core.money import AmountOverCeiling, Money, MoneyError, parse_money
from caseledger.core.selectors import firm_get

AMOUNT_INVALID = "{field}: must be an amount such as 1,234.56 (got {value!r})"
AMOUNT_NEGATIVE = "{field}: must not be negative (got {value})"
AMOUNT_NOT_POSITIVE = "{field}: must be more than zero (got {value})"
QUANTITY_INVALID = "quantity: must be a number greater than zero (got {value!r})"
QUANTITY_TOO_LARGE = "quantity: must be at most 1,000,000 (got {value!r})"
MAX_QUANTITY = Decimal(1_000_000)


def firm_currency() -> str:
    return firm_get().currency


def firm_rounding() -> str:
    return str(firm_get().rounding_rule)


def parse_amount(value: Any, *, field: str, currency: str, allow_zero: bool = True) -> int:
    """Cents from user text ("$1,234.56", "1234.56") or an int of cents, within the firm's
    ceiling for a single amount (MoneyError, AMOUNT_OVER_CEILING); BillingError naming
    ``field`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        cents = value
    else:
        text = str(value).strip()
        try:
            cents = parse_money(text, currency, field=field, ceiling=amount_ceiling()).cents
        except AmountOverCeiling:
            raise
        except MoneyError as exc:
            raise BillingError(AMOUNT_INVALID.format(field=field, value=text), field=field) from exc
    amount_check(cents, field=field)
    if cents < 0:
        shown = Money(cents, currency).format()
        raise BillingError(AMOUNT_NEGATIVE.format(field=field, value=shown), field=field)
    if cents == 0 and not allow_zero:
        shown = Money(cents, currency).format()
        raise BillingError(AMOUNT_NOT_POSITIVE.format(field=field, value=shown), field=field)
    return cents


def parse_quantity(value: Any) -> Decimal:
    try:
        quantity = Decimal(str(value).strip())
        # Quantities are hours or units: at most 1,000,000 with two decimals (a larger one
        # cannot be quantized in Decimal's default precision, and is a typo anyway).
        if quantity.is_finite() and quantity > MAX_QUANTITY:
            raise BillingError(QUANTITY_TOO_LARGE.format(value=str(value)), field="quantity")
        valid = (
            quantity.is_finite() and quantity > 0 and quantity == quantity.quantize(Decimal("0.01"))
        )
    except InvalidOperation as exc:
        raise BillingError(QUANTITY_INVALID.format(value=str(value)), field="quantity") from exc
    if not valid:
        raise BillingError(QUANTITY_INVALID.format(value=str(value)), field="quantity")
    return quantity


def line_amount_check(amount_cents: int) -> int:
    """A line's amount (quantity x unit price) is a single amount: within the firm's ceiling."""
    return amount_check(amount_cents, field="amount")
