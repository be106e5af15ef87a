"""Shared pieces of the import services: the problem rules and their per-row messages (cleaning
and writing both report them), and the records a run passes around (Problem, Unit, Change,
Report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Rules, as reported per problem (line + rule + message).
MISSING_REQUIRED = "missing_required"
MISSING_CLIENT = "missing_client"
UNKNOWN_MATTER = "unknown_matter"
BAD_DATE = "bad_date"
DUPLICATE = "duplicate"
BAD_AMOUNT = "bad_amount"
LINES_NOT_SUM = "lines_not_sum"
BAD_VALUE = "bad_value"
REFUSED = "refused"
UNKNOWN_INVOICE = "unknown_invoice"
PAYMENTS_NOT_SUM = "payments_not_sum"

MSG_REQUIRED = "{field}: required (column {header!r} is empty)"
MSG_NO_NAME = "name: a client needs a name, a company or a first and last name"
MSG_CLIENT_MISSING = "client: no client named {name!r} (import the contacts first)"
MSG_CLIENT_AMBIGUOUS = "client: {count} clients are named {name!r}; rename one first"
MSG_MATTER_UNKNOWN = "matter: no matter numbered {ref!r} (import the matters first)"
MSG_BAD_DATE = "{field}: {text!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY)"
MSG_DUPLICATE = "{field}: {key!r} appears again (first on line {first})"
MSG_BAD_AMOUNT = "{field}: {text!r} is not an amount"
MSG_BAD_QUANTITY = "quantity: {text!r} is not a number"
MSG_LINES_NOT_SUM = (
    "total: invoice {number} lines sum to {lines} but its total is {total} (lines {where})"
)
MSG_BALANCE_OVER_TOTAL = "balance: {balance} is more than the invoice total {total}"
MSG_NEGATIVE = "{field}: must not be negative (got {text!r})"
MSG_BAD_CHOICE = "{field}: must be one of {allowed} (got {value!r})"
MSG_BAD_EMAIL = "email: {value!r} is not an email address"
MSG_CASE_TYPE = "case_type: no case type with code {value!r}"
MSG_MATTER_KEY = "matter_key: required for a trust balance"
MSG_NOT_POSITIVE = "{field}: must be more than zero (got {text!r})"
MSG_INVOICE_UNKNOWN = "bill: no imported invoice numbered {number!r} (import the bills first)"
MSG_PAID_AFTER_CUTOVER = (
    "date: {date} is on or after the cutover date {as_of}; a payment received since the cutover "
    "is recorded on the imported invoice (Imports > Imported invoices), not imported"
)
MSG_ADJUSTED_AFTER_CUTOVER = (
    "date: {date} is on or after the cutover date {as_of}; only the credit notes, write-offs and "
    "discounts the old system applied before the cutover are imported as history"
)
# A bill's history adds up: payments + adjustments (credit notes, write-offs, discounts) + its
# balance at cutover = its total (``payments_not_sum`` otherwise).
MSG_PAYMENTS_NOT_SUM = (
    "amount: bill {number}'s payments before the cutover sum to {paid} and its adjustments "
    "(credit notes, write-offs, discounts) to {adjusted} (lines {where}{more}), and its balance at "
    "cutover is {balance}: together {together}, but its total is {total}{hint}"
)
MSG_PAYMENTS_SHORT_HINT = (
    "; a credit note, write-off or discount of the old system is imported before the bill's "
    "payments (caseledger-adjustments)"
)
MSG_ADJUSTMENTS_OVER_TOTAL = (
    "amount: bill {number}'s adjustments (credit notes, write-offs, discounts) before the cutover "
    "sum to {adjusted} and its payments to {paid} (lines {where}{more}), and its balance at "
    "cutover is {balance}: together {together}, more than its total {total}"
)
MSG_TRUST_TWICE = (
    "trust_balance: matter {matter} already has an opening trust balance (imported from another "
    "file); import each matter's trust balance once"
)
MSG_MATTER_OTHER_CLIENT = "matter: {matter} belongs to another client than {client!r}"


@dataclass
class Problem:
    line: int
    rule: str
    message: str
    field: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "rule": self.rule, "field": self.field, "message": self.message}


@dataclass
class Unit:
    """One source record: ``values`` are the cleaned fields the writer uses; ``data`` is what
    is hashed and compared on a rerun (plain JSON)."""

    kind: str
    key: str
    line: int
    data: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)


@dataclass
class Change:
    line: int
    kind: str
    key: str
    diff: dict[str, list[Any]]
    applied: bool


@dataclass
class Report:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)
    units: int = 0

    @property
    def error_lines(self) -> set[int]:
        return {p.line for p in self.problems}

    @property
    def valid(self) -> int:
        return self.rows - len(self.error_lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "errors": [p.as_dict() for p in sorted(self.problems, key=lambda p: p.line)],
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "changed": [
                {"line": c.line, "kind": c.kind, "key": c.key, "diff": c.diff, "applied": c.applied}
                for c in self.changes
            ],
        }
