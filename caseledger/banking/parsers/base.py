"""What every statement parser returns, and the refusals they raise.

A parser turns a file's bytes into ``ParsedStatement`` values exactly as the file states them
(balances, currencies, references); it stores nothing and checks only what the format itself
guarantees. ``banking.checks`` then checks every statement (balance, control totals, account,
currency, dates) before anything is stored. Amounts are integer minor units: + money into the
account (credit on the bank's side), - money out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from caseledger.core.exceptions import ApplicationError
from caseledger.core.money import CURRENCY_EXPONENTS

FILE_MALFORMED = "file: not a readable {format} file ({detail})"
FILE_UNKNOWN_FORMAT = (
    "file: unknown statement format ({found}); expected CSV, OFX/QFX, camt.053/camt.054, BAI2 "
    "or MT940"
)
FILE_INVESTMENT = (
    "file: an investment statement ({found}) is not a bank statement; export the bank or "
    "credit-card account instead"
)
FILE_INTRADAY = (
    "file: an intraday report ({found}) is not a statement; import the end-of-day statement instead"
)
FILE_EMPTY = "file: the file is empty"
FILE_NO_STATEMENT = "file: the {format} file contains no statement"
AMOUNT_INVALID = "{where}: amount {text!r} is not a number with at most {places} decimals"
CURRENCY_UNSUPPORTED = "{where}: currency {currency!r} is not supported"


class StatementRefused(ApplicationError):
    """A file or statement that cannot be imported; the message says why, naming the figures.
    ``field`` is the message's first word when it names one (file, account, date, ...)."""

    code = "statement_refused"

    def __init__(self, message: str) -> None:
        head = message.split(":", 1)[0]
        super().__init__(message, field=head if re.fullmatch(r"[a-z_]+", head) else "file")


@dataclass(frozen=True)
class TxDetail:
    """One transaction inside a batch entry (camt ``TxDtls``)."""

    amount_cents: int | None  # signed like its entry; None when the bank does not state it
    bank_reference: str
    customer_reference: str
    counterparty: str
    description: str


@dataclass(frozen=True)
class ParsedLine:
    booking_date: date
    amount_cents: int  # + into the account, - out of it
    description: str = ""
    bank_reference: str = ""  # FITID, AcctSvcrRef, BAI2/MT940 bank reference: '' when absent
    customer_reference: str = ""  # EndToEndId, check number, customer reference
    counterparty: str = ""
    code: str = ""  # the bank's transaction code as found (TRNTYPE, BkTxCd, BAI2 type code)
    value_date: date | None = None
    balance_after_cents: int | None = None  # running balance, when the file states one
    details: tuple[TxDetail, ...] = ()  # the transactions of a batch entry (two or more)


@dataclass(frozen=True)
class Control:
    """A total the file states about itself, and what the parser found."""

    what: str
    stated: int
    found: int


@dataclass
class ParsedStatement:
    format: str  # one of banking.choices.StatementFormat
    statement_id: str  # the file's own id of the statement ('' when it has none)
    account: str  # the account identifier as the file states it ('' for CSV)
    currency: str
    period_start: date | None
    period_end: date | None
    opening_cents: int | None  # None when the format states no opening balance
    closing_cents: int | None
    lines: list[ParsedLine] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    # OFX states only the closing (ledger) balance; the opening is then closing - entries.
    opening_stated: bool = True

    @property
    def credits_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines if line.amount_cents > 0)

    @property
    def debits_cents(self) -> int:
        return -sum(line.amount_cents for line in self.lines if line.amount_cents < 0)

    @property
    def label(self) -> str:
        return f"statement {self.statement_id}" if self.statement_id else "statement"


def to_cents(text: str | Decimal, currency: str, where: str) -> int:
    """A decimal amount as the file writes it (``1234.56``, ``-0.5``) -> minor units, exactly."""
    places = CURRENCY_EXPONENTS.get(currency)
    if places is None:
        raise StatementRefused(CURRENCY_UNSUPPORTED.format(where=where, currency=currency))
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise StatementRefused(
            AMOUNT_INVALID.format(where=where, text=str(text), places=places)
        ) from None
    scaled = value.scaleb(places)
    if not value.is_finite() or scaled != scaled.to_integral_value():
        raise StatementRefused(AMOUNT_INVALID.format(where=where, text=str(text), places=places))
    return int(scaled)


_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip().casefold()


def normalise_account(text: str) -> str:
    """'DE89 3704-0044' -> 'DE8937040044': only letters and digits, upper case."""
    return re.sub(r"[^0-9A-Za-z]", "", text or "").upper()


def fingerprint(line: ParsedLine, occurrence: int) -> str:
    """Identity of a line without a bank reference: date, amount, text and its occurrence
    among identical lines of the statement (two equal fees on one day stay two lines)."""
    raw = "|".join(
        [
            line.booking_date.isoformat(),
            str(line.amount_cents),
            normalise_text(line.description),
            normalise_text(line.customer_reference),
            str(occurrence),
        ]
    )
    return hashlib.sha256(raw.encode()).hexdigest()
