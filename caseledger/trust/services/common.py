"""Shared by trust services: refusal messages and small checks."""

from __future__ import annotations

from caseledger.clients.models import Client
from caseledger.core.amounts import amount_check, firm_money
from caseledger.core.numbering import counter_next
from caseledger.matters.models import Matter
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import (
    TrustCounter,
)

AMOUNT_NOT_POSITIVE = "amount: must be positive (got {amount})"
MATTER_OTHER_CLIENT = "matter: {matter} belongs to another client"
PAYER_REQUIRED = "payer: who paid is required"
PAYEE_REQUIRED = "payee: who is paid is required"
PURPOSE_INVALID = "purpose: must be one of {choices} (got {value!r})"
METHOD_INVALID = "method: must be one of {choices} (got {value!r})"
KIND_INVALID = "kind: must be one of {choices} (got {value!r})"
CHECK_NUMBER_REQUIRED = "reference: a check deposit needs the check number"
WIRE_REFERENCE_REQUIRED = "reference: a wire deposit needs the wire reference"
DATE_IN_FUTURE = "received_date: cannot be after today ({today}) (got {date})"
DUE_BEFORE_ISSUE = "due_date: cannot be before the issue date {issue} (got {due})"
REQUEST_NOT_OPEN = "trust_request: {request} is {status}; it takes no more payments"
REQUEST_OTHER_MATTER = "trust_request: {request} is for another matter"
REQUEST_CANNOT_CANCEL = (
    "trust_request: {request} is {status}; only an unpaid request can be cancelled"
)
DEPOSIT_REVERSED_NO_CLEARING = "deposit: {deposit} was reversed; its money never clears"
DEPOSIT_ALREADY_CLEARED = "deposit: {deposit} already cleared on {day}"
CLEARED_BEFORE_RECEIVED = "cleared_on: cannot be before the deposit was received ({received})"
INVOICE_VOID = "invoice: {invoice} is void; trust cannot pay it"
INVOICE_NOT_ISSUED = (
    "invoice: {invoice} is not issued; trust moves to operating only against an issued invoice"
)
OVER_UNPAID = "amount: {amount} exceeds the unpaid amount of invoice {invoice} ({unpaid})"
OVER_AVAILABLE = (
    "amount: {amount} exceeds the cleared trust funds available on matter {matter} ({available}; "
    "uncleared {uncleared}, disputed {disputed})"
)
NOTHING_AVAILABLE = "amount: matter {matter} has no cleared, undisputed trust funds available"
OVER_PROMISED = (
    "amount: {amount} exceeds the trust funds of matter {matter} not promised to USCIS: "
    "{available} cleared, {promised} of it for government fees that issued invoices show as "
    "paid from trust ({fees}); pay those fees first"
)
FEE_PROMISE_UNCOVERED = (
    "invoice: approved invoice #{invoice} shows {fees} as paid from trust, but matter {matter} "
    "has {available} of "
    "cleared trust funds for {promised} of fees paid from trust; deposit the fee first, or mark "
    "the line advanced by the firm or paid by the client directly"
)
NOTHING_DUE = "invoice: {invoice} has nothing left to pay"
TRANSFER_BEFORE_INVOICE = (
    "transfer_date: cannot be before the invoice's issue date {issue} (got {date})"
)
TRANSFER_IN_FUTURE = "transfer_date: cannot be after today ({today}) (got {date})"
DISPUTE_OVER_BALANCE = (
    "amount: {amount} exceeds the trust balance not already disputed on matter {matter} ({free})"
)
DISPUTE_REASON_REQUIRED = "reason: say what is disputed"
DISPUTE_NOT_OPEN = "dispute: already released"
APPROVER_NOT_LAWYER = "approver: only partners and attorneys may approve disbursements (got {role})"
APPROVER_IS_REQUESTER = "approver: the requester cannot approve their own disbursement"
APPROVER_TWICE = (
    "approver: {name} has already approved {disbursement}; "
    "the second approval must come from another lawyer"
)
DISBURSEMENT_NOT_APPROVED = (
    "disbursement: {disbursement} needs {required} approval(s) and has {count}"
)
DISBURSEMENT_EXPIRED = "disbursement: {disbursement} expired on {day}"
REJECTER_NOT_LAWYER = "actor: only partners and attorneys may reject disbursements (got {role})"
THRESHOLD_NEGATIVE = "threshold: must be zero or more (got {amount})"
CLEAR_DAYS_INVALID = "{field}: must be between 0 and 30 business days (got {value})"

LOW_BALANCE_TASK_KEY = "trust.low_balance:{matter_id}"


def _next_number(name: str, prefix: str) -> str:
    return f"{prefix}-{counter_next(TrustCounter, name=name):06d}"


def _check_matter(client: Client, matter: Matter) -> None:
    if matter.client_id != client.pk:
        raise TrustError(MATTER_OTHER_CLIENT.format(matter=matter), field="matter")


def _check_amount(amount_cents: int, *, ceiling: bool = True) -> None:
    """Positive and (for an amount someone typed) within the firm's ceiling."""
    if ceiling:
        amount_check(amount_cents)
    if amount_cents <= 0:
        raise TrustError(
            AMOUNT_NOT_POSITIVE.format(amount=firm_money(amount_cents)), field="amount"
        )
