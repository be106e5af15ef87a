"""Refusals of the credits app. Messages name the field and the rule; tests assert the text."""

from __future__ import annotations

from caseledger.core.exceptions import ApplicationError


class CreditError(ApplicationError):
    code = "credit_refused"


INVOICE_NOT_ISSUED = (
    "invoice: only an issued invoice can be credited or written off (it is {status})"
)
REASON_INVALID = "reason_code: must be one of {choices} (got {value!r})"
REASON_TEXT_REQUIRED = "reason_text: required when the reason is Other"
AMOUNT_NOT_POSITIVE = "amount: must be positive (got {amount})"
LINES_AND_AMOUNT = "lines: give either lines or an amount, not both"
LINES_EMPTY = "lines: give at least one line or an amount"
LINE_DESCRIPTION_REQUIRED = "lines[{index}].description: required"
LINE_NOT_ON_INVOICE = "lines[{index}]: that line is not on invoice {invoice}"
LINE_OVER_INVOICE_LINE = (
    "lines[{index}].amount: {amount} is over what is left to credit on that invoice line ({left})"
)
CREDIT_OVER_CREDITABLE = (
    "amount: {amount} is over what is left to credit on invoice {invoice} ({left}: total {total}, "
    "already credited or waiting for approval {credited}, written off {written_off})"
)
REFUND_OVER_AMOUNT = "refund: {refund} is over the credit note amount {amount}"
REFUND_NEGATIVE = "refund: must be zero or positive (got {refund})"
REFUND_METHOD_REQUIRED = "refund_method: choose how to refund {refund} (check, transfer or card)"
REFUND_METHOD_INVALID = "refund_method: must be one of {choices} (got {value!r})"
REFUND_OVER_CLIENT_CREDIT = (
    "refund: {refund} is over the unapplied credit this credit note creates ({credit}); only the "
    "part of the invoice already paid can be refunded"
)
REFUND_TRUST_BYPASS = (
    "refund_method: invoice {invoice} was paid from trust; the refund must go back through a "
    "trust disbursement with its approvals, not by {method}"
)
REFUND_TRUST_NOT_FROM_TRUST = (
    "refund_method: invoice {invoice} was not paid from trust; refund by check, transfer or card"
)
SELF_APPROVAL = "approver: the person who requested {document} cannot approve it"
REFUND_NOT_RETRYABLE = (
    "refund: {refund} is {status}; only a rejected or expired trust refund is requested again"
)
REFUND_ALREADY_REQUESTED = (
    "refund: credit note {note} already has {live} refunded or waiting through trust; another "
    "{amount} would exceed its refund of {limit}"
)
DECISION_NOTE_REQUIRED = "note: a reason is required to reject"
WRITE_OFF_PAID = "invoice: {invoice} has nothing left to write off (balance due 0.00)"
WRITE_OFF_OVER_BALANCE = (
    "amount: {amount} is over the balance due on invoice {invoice} ({balance}, of which "
    "{pending} is already waiting in other write-off requests)"
)
WRITE_OFF_REASON_REQUIRED = "reason: say why the balance is written off"
REVERSAL_REASON_REQUIRED = "reason: say why the write-off is reversed"
APPROVAL_REASONS_INVALID = "approval_reason_codes: unknown reason code {value!r}"
