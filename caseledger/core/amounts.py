"""The firm's amounts: the ceiling for a single amount, the currency lock, and formatting in
the firm's currency.

Every service that takes an amount from a person or a program calls ``amount_check`` (forms and
the API reach the same check through the services, and money form fields check it early with
the same message), so the money type's absolute limit (``core.money.MAX_MINOR_UNITS``) is never
reachable from input. The currency is fixed once money exists: the ledger registers a check
that says whether any posting exists (core imports no app above it).
"""

from __future__ import annotations

from collections.abc import Callable

from caseledger.core.context import current_currency
from caseledger.core.hooks import Listeners
from caseledger.core.money import (
    AMOUNT_OVER_CEILING,
    MONEY_NOT_INTEGER,
    AmountOverCeiling,
    MoneyError,
    format_decimal,
    format_money,
    parse_money,
)
from caseledger.core.selectors import firm_get

MoneyRecordedCheck = Callable[[], bool]
_money_recorded: Listeners[MoneyRecordedCheck] = Listeners()

CURRENCY_LOCKED = (
    "currency: cannot change from {old} to {new} once money has been recorded "
    "(the ledger has postings in {old})"
)


def register_money_recorded_check(fn: MoneyRecordedCheck) -> MoneyRecordedCheck:
    """``fn()`` is True when money in the firm's currency has been recorded."""
    return _money_recorded.register(fn)


def unregister_money_recorded_check(fn: MoneyRecordedCheck) -> None:
    _money_recorded.unregister(fn)


def money_recorded() -> bool:
    return any(check() for check in _money_recorded)


def amount_ceiling() -> int:
    """The firm's largest single amount, in minor units."""
    return int(firm_get().amount_ceiling_cents)


def amount_check(cents: int, *, field: str = "amount") -> int:
    """Return ``cents`` if its magnitude is within the firm's ceiling.

    Raises MoneyError (AMOUNT_OVER_CEILING naming ``field``) above it, and MONEY_NOT_INTEGER for
    anything but an int (a bool, a float or a string of digits is not an amount in cents)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise MoneyError(MONEY_NOT_INTEGER.format(field=field, value=cents), field)
    firm = firm_get()
    if abs(cents) > firm.amount_ceiling_cents:
        limit = format_money(firm.amount_ceiling_cents, firm.currency)
        raise AmountOverCeiling(AMOUNT_OVER_CEILING.format(field=field, limit=limit), field)
    return cents


def amount_check_optional(cents: int | None, *, field: str = "amount") -> int | None:
    return None if cents is None else amount_check(cents, field=field)


def firm_currency() -> str:
    """The firm's currency: the request's (set once by RequestContextMiddleware), else the firm
    row's (emails, PDFs and jobs run outside a request)."""
    currency = current_currency.get()
    return currency if currency else firm_get().currency


def firm_money(cents: int, currency: str | None = None, *, symbol: bool = True) -> str:
    """``format_money`` in the firm's currency (or ``currency``): for messages and emails."""
    return format_money(int(cents), currency or firm_currency(), symbol=symbol)


def firm_decimal(cents: int, currency: str | None = None) -> str:
    """``format_decimal`` (plain "1234.56" for CSV and LEDES) in the firm's currency."""
    return format_decimal(int(cents), currency or firm_currency())


def parse_cents(text: object, *, field: str = "amount", currency: str | None = None) -> int:
    """What a person typed, in minor units: core.money's one parser in the firm's currency (or
    ``currency``) with the firm's ceiling, so an amount too large always gets the one message
    (AmountOverCeiling). Raises MoneyError naming ``field``."""
    firm = firm_get()
    return parse_money(
        text, currency or firm.currency, field=field, ceiling=firm.amount_ceiling_cents
    ).cents


CentsParser = Callable[[object, str], int]


def cents_parser(currency: str | None = None) -> CentsParser:
    """``parse_cents`` for many amounts (a file's): the firm's currency and ceiling are read
    once, here, instead of once per amount. ``parser(text, field)`` gives what
    ``parse_cents(text, field=field, currency=currency)`` would."""
    firm = firm_get()
    use, ceiling = currency or firm.currency, firm.amount_ceiling_cents

    def parse(text: object, field: str = "amount") -> int:
        return parse_money(text, use, field=field, ceiling=ceiling).cents

    return parse
