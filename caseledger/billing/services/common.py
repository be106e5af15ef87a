"""Helpers shared by the billing services (not part of the public API)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from caseledger.billing.exceptions import BillingError
from caseledger.core.money import Money, MoneyError
from caseledger.core.selectors import firm_get

AMOUNT_INVALID = "{field}: must be an amount such as 1,234.56 (got {value!r})"
AMOUNT_NEGATIVE = "{field}: must not be negative (got {value})"
AMOUNT_NOT_POSITIVE = "{field}: must be more than zero (got {value})"
QUANTITY_INVALID = "quantity: must be a number greater than zero (got {value!r})"


def firm_currency() -> str:
    return firm_get().currency


def firm_rounding() -> str:
    return str(firm_get().rounding_rule)


def local_date(now: datetime) -> date:
    """The firm's calendar date at ``now``."""
    return now.astimezone(ZoneInfo(firm_get().time_zone)).date()


def parse_amount(value: Any, *, field: str, currency: str, allow_zero: bool = True) -> int:
    """Cents from user text ("$1,234.56", "1234.56") or an int of cents; BillingError naming
    ``field`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        cents = value
    else:
        text = str(value).strip()
        try:
            cents = Money.parse(text, currency).cents
        except (MoneyError, ValueError, InvalidOperation) as exc:
            raise BillingError(AMOUNT_INVALID.format(field=field, value=text), field=field) from exc
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
    except InvalidOperation as exc:
        raise BillingError(QUANTITY_INVALID.format(value=str(value)), field="quantity") from exc
    if not quantity.is_finite() or quantity <= 0 or quantity != quantity.quantize(Decimal("0.01")):
        raise BillingError(QUANTITY_INVALID.format(value=str(value)), field="quantity")
    return quantity
