"""Money: an immutable integer number of minor units (cents) plus an ISO 4217 currency.

Never float. Decimal only for rates and percentages, rounded once, at the line, by the firm's
rounding rule (``round_amount``). Splitting an amount (``allocate``/``split``) never loses or
invents a minor unit: the parts always sum to the total (largest-remainder method).

The one formatter (``format_money`` / ``Money.format``) and the one parser (``parse_money`` /
``Money.parse``) of the product live here; every form field, template filter, PDF, email and
message uses them, so a currency's exponent (JPY 0 decimals, KWD 3) is honoured everywhere.

Limits: a ``Money`` value has no magnitude limit (a total or running balance over any history is
an exact Python int and always formats, so no stored data can make a page fail). Input is
limited twice: the parser refuses more than ``MAX_MINOR_UNITS`` (the absolute limit of one
amount, also the ledger's limit for one posting), and services refuse more than the firm's
ceiling for a single amount (``core.amounts``), which is at most ``MAX_CEILING_MINOR_UNITS``, a
hundredth of the absolute limit, so the absolute limit is never reachable from input.

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

# Supported ISO 4217 currencies: code -> (minor-unit exponent, name). Others are refused.
CURRENCIES: dict[str, tuple[int, str]] = {
    "USD": (2, "US dollar"),
    "CAD": (2, "Canadian dollar"),
    "MXN": (2, "Mexican peso"),
    "EUR": (2, "Euro"),
    "GBP": (2, "Pound sterling"),
    "CHF": (2, "Swiss franc"),
    "SEK": (2, "Swedish krona"),
    "NOK": (2, "Norwegian krone"),
    "DKK": (2, "Danish krone"),
    "PLN": (2, "Polish zloty"),
    "CZK": (2, "Czech koruna"),
    "HUF": (2, "Hungarian forint"),
    "ISK": (0, "Icelandic krona"),
    "TRY": (2, "Turkish lira"),
    "AUD": (2, "Australian dollar"),
    "NZD": (2, "New Zealand dollar"),
    "JPY": (0, "Japanese yen"),
    "KRW": (0, "South Korean won"),
    "CNY": (2, "Chinese yuan"),
    "HKD": (2, "Hong Kong dollar"),
    "TWD": (2, "New Taiwan dollar"),
    "SGD": (2, "Singapore dollar"),
    "INR": (2, "Indian rupee"),
    "PKR": (2, "Pakistani rupee"),
    "BDT": (2, "Bangladeshi taka"),
    "PHP": (2, "Philippine peso"),
    "THB": (2, "Thai baht"),
    "VND": (0, "Vietnamese dong"),
    "ILS": (2, "Israeli new shekel"),
    "AED": (2, "UAE dirham"),
    "SAR": (2, "Saudi riyal"),
    "BHD": (3, "Bahraini dinar"),
    "KWD": (3, "Kuwaiti dinar"),
    "OMR": (3, "Omani rial"),
    "JOD": (3, "Jordanian dinar"),
    "TND": (3, "Tunisian dinar"),
    "EGP": (2, "Egyptian pound"),
    "NGN": (2, "Nigerian naira"),
    "ZAR": (2, "South African rand"),
    "UGX": (0, "Ugandan shilling"),
    "XOF": (0, "West African CFA franc"),
    "BRL": (2, "Brazilian real"),
    "ARS": (2, "Argentine peso"),
    "CLP": (0, "Chilean peso"),
    "COP": (2, "Colombian peso"),
    "PEN": (2, "Peruvian sol"),
}
CURRENCY_EXPONENTS: dict[str, int] = {code: exp for code, (exp, _) in CURRENCIES.items()}
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
# The absolute limit of one amount: 10^13 minor units ($100 billion). The parser refuses more,
# and so does the ledger for one posting; it keeps every sum far inside a 64-bit BigIntegerField.
MAX_MINOR_UNITS = 10**13
# The firm's ceiling for a single amount may be set at most this high (a hundredth of the
# absolute limit: an invoice of a hundred lines at the ceiling still posts).
MAX_CEILING_MINOR_UNITS = MAX_MINOR_UNITS // 100
# The default ceiling: $10,000,000.00 (in the firm currency's minor units).
DEFAULT_CEILING_MINOR_UNITS = 1_000_000_000
# The parser never converts more digits than this (Python's int() of huge strings is slow).
_MAX_DIGITS = 24

MONEY_NOT_A_NUMBER = "{field}: must be an amount like {example} (got {text!r})"
MONEY_TOO_MANY_DECIMALS = "{field}: {currency} has at most {places} decimal places (got {text!r})"
MONEY_TOO_LARGE = "{field}: must not exceed {limit} in absolute value (got {text!r})"
# The one message for an amount over the firm's ceiling (forms, services and the API).
AMOUNT_OVER_CEILING = "{field}: must not exceed {limit} (the firm's limit for a single amount)"
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

# 1,234.56 | 1234.56 | 1234 | .5 — thousands separators only in groups of three. ASCII digits
# only: Python's \d and int() also take other scripts' digits ('１２３'), which no one types as
# an amount on purpose.
_NUMBER = re.compile(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.([0-9]*))?$", re.ASCII)


class MoneyError(ApplicationError):
    code = "invalid_amount"


class AmountOverCeiling(MoneyError):
    """An amount above the firm's ceiling for a single amount (AMOUNT_OVER_CEILING)."""

    code = "amount_over_ceiling"


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except (KeyError, TypeError):
        raise MoneyError(MONEY_UNKNOWN_CURRENCY.format(currency=currency), "currency") from None


def currency_choices() -> list[tuple[str, str]]:
    """(code, "USD — US dollar") for every supported currency, for a select."""
    return [(code, f"{code} — {name}") for code, (_, name) in sorted(CURRENCIES.items())]


def _format_units(cents: int, currency: str) -> str:
    # Formatting never refuses: a currency code stored before the supported list existed
    # shows with two decimals and its code rather than failing the page.
    places = CURRENCY_EXPONENTS.get(currency, 2)
    magnitude = abs(cents)
    whole, frac = divmod(magnitude, 10**places) if places else (magnitude, 0)
    text = f"{whole:,}"
    if places:
        text += f".{frac:0{places}d}"
    return text


def format_money(
    cents: int, currency: str, *, accounting: bool = False, symbol: bool = True
) -> str:
    """The one money formatter: "$1,234.56", "¥1,234", "KWD 1.234"; negatives "-$1,234.56",
    or "($1,234.56)" with ``accounting``; ``symbol=False`` gives "1,234.56" (what a form field
    shows and the parser reads back). Any int formats, however large, in any currency code (an
    unsupported one with two decimals), so stored data never makes a page fail."""
    prefix = CURRENCY_SYMBOLS.get(currency, f"{currency} ") if symbol else ""
    body = prefix + _format_units(int(cents), currency)
    if cents < 0:
        return f"({body})" if accounting else f"-{body}"
    return body


def format_decimal(cents: int, currency: str) -> str:
    """A plain decimal for files (CSV, LEDES): "1234.56", "-12.00", "1234" (JPY); no symbol,
    no separators. Like ``format_money`` it never refuses."""
    places = CURRENCY_EXPONENTS.get(currency, 2)
    whole, frac = divmod(abs(int(cents)), 10**places)
    sign = "-" if cents < 0 else ""
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


def amount_example(currency: str) -> str:
    """ "1,234.56" (USD), "1,234" (JPY), "1,234.567" (KWD): the shape the parser wants."""
    places = currency_exponent(currency)
    return _format_units(1234 * 10**places + int("567"[:places] or 0), currency)


def parse_money(
    text: object, currency: str, *, field: str = "amount", ceiling: int | None = None
) -> Money:
    """The one money parser: "$1,234.56", "1234.56", "-12", "(1,234.56)" (accounting negative),
    "USD 7.00", in ``currency``'s exponent; ASCII digits only.

    Raises MoneyError naming ``field`` for non-numbers, more decimals than the currency has,
    and magnitudes over ``ceiling`` (AMOUNT_OVER_CEILING; pass the firm's ceiling) or, without
    one, over ``MAX_MINOR_UNITS`` (MONEY_TOO_LARGE).
    """
    places = currency_exponent(currency)
    raw = text if isinstance(text, str) else str(text)
    not_a_number = MoneyError(
        MONEY_NOT_A_NUMBER.format(field=field, example=amount_example(currency), text=raw), field
    )
    s = raw.strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s.startswith("-"):
        if negative:
            raise not_a_number
        negative, s = True, s[1:].strip()
    elif s.startswith("+"):
        s = s[1:].strip()
    for sym in sorted({CURRENCY_SYMBOLS.get(currency, ""), currency, "$"}, key=len)[::-1]:
        if sym and s.startswith(sym):
            s = s[len(sym) :].strip()
            break
    match = _NUMBER.match(s)
    if not s or s == "." or match is None:
        raise not_a_number
    frac = match.group(1) or ""
    if len(frac.rstrip("0")) > places:
        raise MoneyError(
            MONEY_TOO_MANY_DECIMALS.format(field=field, currency=currency, places=places, text=raw),
            field,
        )
    whole_text = s.split(".", 1)[0].replace(",", "").lstrip("0") or "0"
    frac = (frac + "0" * places)[:places]
    limit = MAX_MINOR_UNITS if ceiling is None else ceiling
    if len(whole_text) > _MAX_DIGITS:
        cents = limit + 1
    else:
        cents = int(whole_text) * 10**places + (int(frac) if frac else 0)
    if cents > limit and ceiling is not None:
        raise AmountOverCeiling(
            AMOUNT_OVER_CEILING.format(field=field, limit=format_money(limit, currency)), field
        )
    if cents > limit:
        raise MoneyError(
            MONEY_TOO_LARGE.format(field=field, limit=_format_units(limit, currency), text=raw),
            field,
        )
    return Money(-cents if negative else cents, currency)


@dataclass(frozen=True, slots=True)
class Money:
    """``cents`` minor units of ``currency`` (for JPY the unit is the yen itself)."""

    cents: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise MoneyError(MONEY_NOT_INTEGER.format(field="amount", value=self.cents), "amount")
        currency_exponent(self.currency)
        # No magnitude check: a sum over any history is a valid Money (see the module doc).

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(
        cls, text: str, currency: str, *, field: str = "amount", ceiling: int | None = None
    ) -> Money:
        """``parse_money`` (the one parser)."""
        return parse_money(text, currency, field=field, ceiling=ceiling)

    # -- presentation -------------------------------------------------------------------------
    def format(self, *, accounting: bool = False, symbol: bool = True) -> str:
        """``format_money`` (the one formatter)."""
        return format_money(self.cents, self.currency, accounting=accounting, symbol=symbol)

    def __str__(self) -> str:
        return self.format()

    def to_decimal(self) -> Decimal:
        return Decimal(format_decimal(self.cents, self.currency))

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
