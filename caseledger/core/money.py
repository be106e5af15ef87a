"""Money: an immutable integer number of minor units (cents) plus an ISO 4217 currency.

Never float. Decimal only for rates and percentages, rounded once, at the line, by the firm's
rounding rule (``round_amount``). Splitting an amount (``allocate``/``split``) never loses or
invents a minor unit: the parts always sum to the total (largest-remainder method).

Every refusal raises ``MoneyError`` with a module-constant message naming the field and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from caseledger.core.choices import RoundingRule
from caseledger.core.exceptions import ApplicationError

# Minor-unit exponent per currency (ISO 4217). Currencies not listed are refused.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2,
    "CAD": 2,
    "EUR": 2,
    "GBP": 2,
    "AUD": 2,
    "NZD": 2,
    "CHF": 2,
    "MXN": 2,
    "INR": 2,
    "JPY": 0,
    "KRW": 0,
    "BHD": 3,
    "KWD": 3,
}
CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "MXN": "MX$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
}
# Sane ceiling for one amount: 10^13 minor units ($100 billion). Anything larger is a typo or an
# attack, and keeps every sum far inside a 64-bit BigIntegerField.
MAX_MINOR_UNITS = 10**13

MONEY_NOT_A_NUMBER = "{field}: must be an amount like 1,234.56 (got {text!r})"
MONEY_TOO_MANY_DECIMALS = "{field}: {currency} has at most {places} decimal places (got {text!r})"
MONEY_TOO_LARGE = "{field}: must not exceed {limit} in absolute value (got {text!r})"
MONEY_UNKNOWN_CURRENCY = "currency: must be a supported ISO 4217 code (got {currency!r})"
MONEY_CURRENCY_MISMATCH = "currency: cannot combine {left} and {right} amounts"
MONEY_NOT_INTEGER = "{field}: minor units must be an integer (got {value!r})"
MONEY_MULTIPLY_MONEY = "amount: money cannot be multiplied by money"
MONEY_RATIOS_EMPTY = "ratios: must contain at least one ratio"
MONEY_RATIO_NEGATIVE = "ratios: every ratio must be zero or positive (got {ratio})"
MONEY_RATIOS_ZERO = "ratios: at least one ratio must be positive"
MONEY_PARTS_INVALID = "parts: must be at least 1 (got {n})"
MONEY_RULE_UNKNOWN = "rounding_rule: must be one of {rules} (got {rule!r})"

_ROUNDING = {
    RoundingRule.HALF_UP: ROUND_HALF_UP,
    RoundingRule.HALF_EVEN: ROUND_HALF_EVEN,
    # "Up" and "down" mean away from / towards zero in the magnitude a client sees.
    RoundingRule.UP: "UP",
    RoundingRule.DOWN: ROUND_DOWN,
}

# 1,234.56 | 1234.56 | 1234 | .5 — thousands separators only in groups of three.
_NUMBER = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d*))?$")


class MoneyError(ApplicationError):
    code = "invalid_amount"


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(MONEY_UNKNOWN_CURRENCY.format(currency=currency), "currency") from None


def _format_units(cents: int, currency: str) -> str:
    places = currency_exponent(currency)
    magnitude = abs(cents)
    whole, frac = divmod(magnitude, 10**places) if places else (magnitude, 0)
    text = f"{whole:,}"
    if places:
        text += f".{frac:0{places}d}"
    return text


@dataclass(frozen=True, slots=True)
class Money:
    """``cents`` minor units of ``currency`` (for JPY the unit is the yen itself)."""

    cents: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise MoneyError(MONEY_NOT_INTEGER.format(field="amount", value=self.cents), "amount")
        currency_exponent(self.currency)
        if abs(self.cents) > MAX_MINOR_UNITS:
            raise MoneyError(
                MONEY_TOO_LARGE.format(
                    field="amount",
                    limit=_format_units(MAX_MINOR_UNITS, self.currency),
                    text=str(self.cents),
                ),
                "amount",
            )

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str, *, field: str = "amount") -> Money:
        """Parse "$1,234.56", "1234.56", "-12", "(1,234.56)" (accounting negative).

        Raises MoneyError for non-numbers, more decimals than the currency has, and amounts
        beyond ``MAX_MINOR_UNITS``.
        """
        places = currency_exponent(currency)
        raw = text if isinstance(text, str) else str(text)
        s = raw.strip()
        negative = False
        if s.startswith("(") and s.endswith(")"):
            negative, s = True, s[1:-1].strip()
        if s.startswith("-"):
            if negative:
                raise MoneyError(MONEY_NOT_A_NUMBER.format(field=field, text=raw), field)
            negative, s = True, s[1:].strip()
        elif s.startswith("+"):
            s = s[1:].strip()
        for symbol in sorted({CURRENCY_SYMBOLS.get(currency, ""), currency, "$"}, key=len)[::-1]:
            if symbol and s.startswith(symbol):
                s = s[len(symbol) :].strip()
                break
        match = _NUMBER.match(s)
        if not s or s == "." or match is None:
            raise MoneyError(MONEY_NOT_A_NUMBER.format(field=field, text=raw), field)
        frac = match.group(1) or ""
        if len(frac.rstrip("0")) > places:
            raise MoneyError(
                MONEY_TOO_MANY_DECIMALS.format(
                    field=field, currency=currency, places=places, text=raw
                ),
                field,
            )
        whole_text = s.split(".", 1)[0].replace(",", "") or "0"
        frac = (frac + "0" * places)[:places]
        if len(whole_text) > 20:
            cents = MAX_MINOR_UNITS + 1
        else:
            cents = int(whole_text) * 10**places + (int(frac) if frac else 0)
        if cents > MAX_MINOR_UNITS:
            raise MoneyError(
                MONEY_TOO_LARGE.format(
                    field=field, limit=_format_units(MAX_MINOR_UNITS, currency), text=raw
                ),
                field,
            )
        return cls(-cents if negative else cents, currency)

    # -- presentation -------------------------------------------------------------------------
    def format(self, *, accounting: bool = False, symbol: bool = True) -> str:
        """ "$1,234.56"; negatives "-$1,234.56", or "($1,234.56)" with ``accounting``."""
        prefix = CURRENCY_SYMBOLS.get(self.currency, f"{self.currency} ") if symbol else ""
        body = prefix + _format_units(self.cents, self.currency)
        if self.cents < 0:
            return f"({body})" if accounting else f"-{body}"
        return body

    def __str__(self) -> str:
        return self.format()

    def to_decimal(self) -> Decimal:
        return Decimal(self.cents).scaleb(-currency_exponent(self.currency))

    # -- arithmetic ---------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(
                MONEY_CURRENCY_MISMATCH.format(left=self.currency, right=other.currency),
                "currency",
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.cents + self._same(other).cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.cents - self._same(other).cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.cents), self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, Money):
            raise MoneyError(MONEY_MULTIPLY_MONEY, "amount")
        if isinstance(factor, bool) or not isinstance(factor, int):
            # Fractional factors go through round_amount so the rule is applied explicitly.
            raise TypeError("multiply Money by int only; use round_amount for Decimal rates")
        return Money(self.cents * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.cents < self._same(other).cents

    def __le__(self, other: Money) -> bool:
        return self.cents <= self._same(other).cents

    def __gt__(self, other: Money) -> bool:
        return self.cents > self._same(other).cents

    def __ge__(self, other: Money) -> bool:
        return self.cents >= self._same(other).cents

    def __bool__(self) -> bool:
        return self.cents != 0

    def allocate(self, ratios: Sequence[int | Decimal | Fraction]) -> list[Money]:
        return [Money(c, self.currency) for c in allocate(self.cents, ratios)]

    def split(self, n: int) -> list[Money]:
        return [Money(c, self.currency) for c in split(self.cents, n)]


def allocate(total_cents: int, ratios: Sequence[int | Decimal | Fraction]) -> list[int]:
    """Split ``total_cents`` by ``ratios`` so the parts sum exactly to the total.

    Largest remainder: each part gets the floor of its exact share; the cents left over go one
    each to the parts with the largest remainders (ties: earlier part first). A negative total is
    split as its magnitude and negated, so signs never mix. Zero ratios get zero.
    """
    if not ratios:
        raise MoneyError(MONEY_RATIOS_EMPTY, "ratios")
    exact: list[Fraction] = []
    for ratio in ratios:
        value = Fraction(ratio)
        if value < 0:
            raise MoneyError(MONEY_RATIO_NEGATIVE.format(ratio=ratio), "ratios")
        exact.append(value)
    weight = sum(exact, Fraction(0))
    if weight == 0:
        raise MoneyError(MONEY_RATIOS_ZERO, "ratios")
    sign = -1 if total_cents < 0 else 1
    magnitude = abs(total_cents)
    shares = [magnitude * r / weight for r in exact]
    parts = [int(s) for s in shares]  # floor: shares are non-negative
    leftover = magnitude - sum(parts)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in order[:leftover]:
        parts[i] += 1
    return [sign * p for p in parts]


def split(total_cents: int, n: int) -> list[int]:
    """``n`` near-equal parts summing to ``total_cents``; the first parts carry the extra cents."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise MoneyError(MONEY_PARTS_INVALID.format(n=n), "parts")
    return allocate(total_cents, [1] * n)


def round_amount(value: Decimal | int, rule: str = RoundingRule.HALF_UP) -> int:
    """Round an exact amount in MINOR units (e.g. ``Decimal("1234.5")`` cents) to whole units.

    Use once per line: ``round_amount(hours * rate_cents, firm.rounding_rule)``. HALF_UP and UP
    round away from zero, DOWN towards zero, HALF_EVEN to the even unit (banker's).
    """
    try:
        mode = _ROUNDING[RoundingRule(rule)]
    except ValueError:
        raise MoneyError(
            MONEY_RULE_UNKNOWN.format(rules=", ".join(RoundingRule.values), rule=rule),
            "rounding_rule",
        ) from None
    amount = Decimal(value)
    if mode == "UP":
        mode = ROUND_CEILING if amount >= 0 else ROUND_FLOOR
    return int(amount.quantize(Decimal(1), rounding=mode))
