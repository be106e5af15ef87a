"""Billing arithmetic: hours in the firm's increment, line amounts, tax, invoice totals.

Every amount is rounded exactly once, at the line (or once on the taxable subtotal when tax is
per invoice), with the firm's rounding rule; an invoice total is always the sum of its lines plus
its tax. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext

from caseledger.billing.choices import TaxMode, TimeRounding
from caseledger.billing.exceptions import BillingError
from caseledger.core.money import round_amount

HOURS_INVALID = "hours: must be a number of hours such as 1.5 (got {value!r})"
HOURS_NOT_POSITIVE = "hours: must be more than zero (got {value})"
HOURS_NOT_IN_INCREMENT = (
    "hours: must be a multiple of the firm's {increment}-minute increment ({step} h) (got {value})"
)
HOURS_OVER_DAY = "hours: a day has 24 hours; {who} would have {total} h on {day}"

MAX_MINUTES_PER_DAY = 24 * 60


def minutes_from_hours(*, value: str | Decimal, increment: int, rounding: str) -> int:
    """Whole minutes for ``value`` hours, in the firm's increment.

    With rounding REFUSE a value off the increment raises; UP rounds to the next increment;
    NEAREST rounds half up. Raises BillingError with a message naming ``hours``."""
    text = str(value).strip()
    try:
        hours = Decimal(text)
    except InvalidOperation as exc:
        raise BillingError(HOURS_INVALID.format(value=text), field="hours") from exc
    if not hours.is_finite():
        raise BillingError(HOURS_INVALID.format(value=text), field="hours")
    if hours <= 0:
        raise BillingError(HOURS_NOT_POSITIVE.format(value=text), field="hours")
    exact_minutes = hours * 60
    units = exact_minutes / increment
    if units == units.to_integral_value():
        whole_units = int(units)
    elif rounding == TimeRounding.UP:
        whole_units = int(units.to_integral_value(rounding="ROUND_CEILING"))
    elif rounding == TimeRounding.NEAREST:
        whole_units = max(1, int(units.to_integral_value(rounding="ROUND_HALF_UP")))
    else:
        step = (Decimal(increment) / 60).normalize()
        raise BillingError(
            HOURS_NOT_IN_INCREMENT.format(increment=increment, step=step, value=text),
            field="hours",
        )
    return whole_units * increment


def hours_label(minutes: int) -> str:
    """Minutes as hours with two decimals ("1.50")."""
    return f"{Decimal(minutes) / 60:.2f}"


def payment_terms_label(*, issue_date: date | None, due_date: date | None) -> str:
    """The payment terms printed with an invoice, from its own dates (the one rule, so the
    terms and the due date can never disagree): "Due on receipt" when the due date is the issue
    date, "Net N" when it is N days later; "" before issue (no dates yet). In the active
    language (a client's document renders under its client's)."""
    if issue_date is None or due_date is None:
        return ""
    days = (due_date - issue_date).days
    if days <= 0:
        return gettext("Due on receipt")
    return gettext("Net %(days)s") % {"days": days}


def quantity_for_minutes(minutes: int) -> Decimal:
    """Hours as a two-place Decimal for an invoice line (6-minute increments are exact)."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def time_amount_cents(*, minutes: int, rate_cents: int, rule: str) -> int:
    """Value of ``minutes`` at ``rate_cents`` per hour, rounded once with ``rule``."""
    return round_amount(Decimal(minutes) * Decimal(rate_cents) / 60, rule)


def line_amount_cents(*, quantity: Decimal, unit_price_cents: int, rule: str) -> int:
    """quantity x unit price, rounded once with ``rule``."""
    return round_amount(Decimal(quantity) * Decimal(unit_price_cents), rule)


def tax_cents(*, amount_cents: int, rate_bp: int, rule: str) -> int:
    """Tax on ``amount_cents`` at ``rate_bp`` basis points, rounded once."""
    return round_amount(Decimal(amount_cents) * Decimal(rate_bp) / 10_000, rule)


@dataclass(frozen=True)
class LineMoney:
    amount_cents: int
    taxable: bool


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    tax_cents: int
    total_cents: int
    line_tax_cents: tuple[int, ...]  # per line (all zero unless tax is per line)


def invoice_totals(*, lines: Iterable[LineMoney], tax_mode: str, rate_bp: int, rule: str) -> Totals:
    """Subtotal = sum of line amounts; tax per line (each rounded) or per invoice (rounded once
    on the taxable subtotal); total = subtotal + tax. No cent is created or lost."""
    items = list(lines)
    subtotal = sum(item.amount_cents for item in items)
    if tax_mode == TaxMode.PER_LINE and rate_bp:
        per_line = tuple(
            tax_cents(amount_cents=i.amount_cents, rate_bp=rate_bp, rule=rule) if i.taxable else 0
            for i in items
        )
        tax = sum(per_line)
    elif tax_mode == TaxMode.PER_INVOICE and rate_bp:
        per_line = tuple(0 for _ in items)
        taxable = sum(i.amount_cents for i in items if i.taxable)
        tax = tax_cents(amount_cents=taxable, rate_bp=rate_bp, rule=rule)
    else:
        per_line = tuple(0 for _ in items)
        tax = 0
    return Totals(
        subtotal_cents=subtotal, tax_cents=tax, total_cents=subtotal + tax, line_tax_cents=per_line
    )
