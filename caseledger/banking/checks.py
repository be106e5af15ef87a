"""The checks every statement passes before anything is stored, and the refusals' texts.

Pure functions over parsed statements: opening + entries = closing, the file's own control
totals, the account and currency of the bank account chosen, and no date after today.
"""

from __future__ import annotations

from datetime import date

from caseledger.banking.parsers.base import (
    ParsedStatement,
    StatementRefused,
    normalise_account,
)
from caseledger.core.money import Money

STATEMENT_UNBALANCED = (
    "balance: {label} does not balance: opening {opening} + credits {credits} - debits {debits} = "
    "{expected}, but the closing balance is {closing} (difference {difference})"
)
CONTROL_MISMATCH = "control_total: {what}: the file states {stated}, its entries give {found}"
ACCOUNT_OTHER = (
    "account: the file is for account {found}, not for {expected} ({name}); choose that bank "
    "account or export this one's statement"
)
CURRENCY_OTHER = "currency: {label} is in {found}, the bank account {name} in {expected}"
FUTURE_DATED = (
    "date: {label} is dated {day}, after today ({today}); a statement cannot be in the future"
)


def _money(cents: int, currency: str) -> str:
    try:
        return Money(cents, currency).format(symbol=False)
    except Exception:  # an unsupported currency is refused elsewhere; show plain cents here
        return str(cents)


def _masked(number: str) -> str:
    return "••••" + number[-4:] if len(number) > 4 else number


def account_matches(file_account: str, number: str) -> bool:
    """The file's account identifier is the bank account's number: equal once spaces and
    punctuation are dropped, or equal to the part after a bank code ('10020030/1234567')."""
    wanted = normalise_account(number)
    if not wanted:
        return False
    candidates = {normalise_account(file_account)}
    if "/" in file_account:
        candidates.add(normalise_account(file_account.rsplit("/", 1)[1]))
    return wanted in candidates


def check_statement(st: ParsedStatement, *, today: date) -> None:
    """Balance, control totals and dates of one statement (no bank account needed)."""
    for control in st.controls:
        if control.stated != control.found:
            raise StatementRefused(
                CONTROL_MISMATCH.format(
                    what=control.what, stated=control.stated, found=control.found
                )
            )
    if st.opening_cents is not None and st.closing_cents is not None:
        expected = st.opening_cents + st.credits_cents - st.debits_cents
        if expected != st.closing_cents:
            c = st.currency
            raise StatementRefused(
                STATEMENT_UNBALANCED.format(
                    label=st.label,
                    opening=_money(st.opening_cents, c),
                    credits=_money(st.credits_cents, c),
                    debits=_money(st.debits_cents, c),
                    expected=_money(expected, c),
                    closing=_money(st.closing_cents, c),
                    difference=_money(st.closing_cents - expected, c),
                )
            )
    latest = max(
        [d for d in (st.period_end, *(x.booking_date for x in st.lines)) if d is not None],
        default=None,
    )
    if latest is not None and latest > today:
        raise StatementRefused(
            FUTURE_DATED.format(label=st.label, day=latest.isoformat(), today=today.isoformat())
        )


def select_for_account(
    statements: list[ParsedStatement], *, number: str, currency: str, name: str
) -> list[ParsedStatement]:
    """The statements of the file that belong to the bank account (number, currency); a file
    with statements of several accounts keeps only this one's. CSV names no account."""
    mine = [s for s in statements if s.format == "CSV" or account_matches(s.account, number)]
    if not mine:
        found = ", ".join(sorted({_masked(normalise_account(s.account)) for s in statements}))
        raise StatementRefused(
            ACCOUNT_OTHER.format(found=found or "none", expected=_masked(number), name=name)
        )
    for st in mine:
        if st.currency != currency:
            raise StatementRefused(
                CURRENCY_OTHER.format(
                    label=st.label, found=st.currency, expected=currency, name=name
                )
            )
    return mine
