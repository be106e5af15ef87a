"""Shared by the ledger services: refusal messages (tests assert these exact texts), the posting
line a caller asks for, and small helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from caseledger.ledger.account_cache import AccountInfo
from caseledger.ledger.models import Account

ENTRY_KIND_UNKNOWN = "kind: must be one of the entry kinds (got {kind!r})"
ENTRY_KIND_REVERSAL_RESERVED = "kind: REVERSAL entries are made only by reversing an entry"
ENTRY_EMPTY = "lines: an entry needs at least two postings (got none)"
ENTRY_MEMO_TOO_LONG = "memo: at most 500 characters (got {length})"
ENTRY_DATE_INVALID = "entry_date: must be a date (got {value!r})"
POSTING_AMOUNT_NOT_INTEGER = "lines[{index}].amount_cents: must be whole cents (got {value!r})"
POSTING_AMOUNT_ZERO = "lines[{index}].amount_cents: must not be zero"
POSTING_AMOUNT_TOO_LARGE = "lines[{index}].amount_cents: must not exceed {limit} (got {value})"
ENTRY_UNBALANCED = "lines: debits and credits must sum to zero (off by {difference} cents)"
ACCOUNT_UNKNOWN = "lines[{index}].account: no account with code {code!r}"
ACCOUNT_INACTIVE = "lines[{index}].account: account {code} is inactive"
ENTRY_MIXED_CURRENCY = "lines: every posting must be in one currency (got {currencies})"
POSTING_MATTER_OTHER_CLIENT = "lines[{index}].matter: matter {matter} belongs to another client"
TRUST_POSTING_NEEDS_CLIENT_MATTER = (
    "lines[{index}]: a posting on trust account {code} needs a client and a matter"
)
TRUST_BANK_LIABILITY_MISMATCH = (
    "lines: trust bank postings ({bank} cents) must equal client trust liability postings "
    "({liability} cents) so trust bank always equals the sum of client trust ledgers"
)
TRUST_CARD_FEE = "lines: card processing fees are never paid from or with trust money"
TRUST_OUTFLOW_UNAUTHORIZED = (
    "lines: money leaves trust only as earned fees against an issued invoice "
    "(kind TRUST_TRANSFER_EARNED) or with an approved disbursement"
)
TRUST_DISBURSEMENT_NOT_APPROVED = "disbursement: disbursement {id} is not approved"
TRUST_TRANSFER_NEEDS_INVOICE = (
    "lines[{index}].invoice: every posting of an earned-fee transfer must name its issued invoice"
)
TRUST_TRANSFER_INVOICE_NOT_ISSUED = (
    "lines[{index}].invoice: invoice {invoice} is {status}; fees are earned only against an "
    "issued invoice"
)
TRUST_TRANSFER_BEFORE_INVOICE = (
    "entry_date: {entry_date} is before invoice {invoice} was issued ({issue_date})"
)
TRUST_TRANSFER_UNCHECKED = (
    "kind: no app checks earned-fee transfers against their invoices here, so none is allowed"
)
TRUST_TRANSFER_OTHER_CLIENT = (
    "lines[{index}].invoice: invoice {invoice} belongs to another client or matter"
)
TRUST_BALANCE_NEGATIVE = (
    "lines[{index}].amount_cents: client trust balance for matter {matter} would be {balance} "
    "(available {available}); a client's trust balance is never negative"
)
TRUST_ACCOUNT_NEGATIVE = (
    "lines[{index}].amount_cents: trust account {account} holds {available} for matter "
    "{matter}; this would leave {balance} (money leaves a trust bank account only from what the "
    "matter holds in that account)"
)
IDEMPOTENCY_KEY_REUSED = (
    "idempotency_key: {key!r} was already used for a different entry (JE-{entry_id})"
)
IDEMPOTENCY_KEY_TOO_LONG = "idempotency_key: at most 120 characters (got {length})"
ENTRY_ALREADY_REVERSED = "entry: JE-{entry_id} has already been reversed (by JE-{by_id})"
ENTRY_IS_REVERSAL = "entry: JE-{entry_id} is itself a reversal; post a new entry instead"
REVERSAL_BEFORE_ORIGINAL = (
    "entry_date: a reversal cannot be dated before the entry it reverses ({original_date})"
)
ACCOUNT_NAME_REQUIRED = "name: required"
ACCOUNT_CODE_TAKEN = "code: account code {code} is already used"
ACCOUNT_CODE_OUT_OF_RANGE = "code: trust bank accounts use codes {low} to {high} (got {code!r})"
ACCOUNT_LAST4_INVALID = "account_number_last4: must be exactly four digits (got {value!r})"
ACCOUNT_HAS_BALANCE = "account: {code} still has a balance of {balance}; move it first"
ACCOUNT_ALREADY_INACTIVE = "account: {code} is already inactive"
ACCOUNT_ALREADY_ACTIVE = "account: {code} is already active"
PERIOD_CLOSED = (
    "entry_date: {account} is closed through {through} (signed reconciliation); post the "
    "correction in an open month"
)
PERIOD_CLOSE_NOT_LATER = (
    "closed_through: {account} is already closed through {through}; close a later date"
)
PERIOD_REOPEN_REASON_REQUIRED = "reason: say why the closed period is reopened"
PERIOD_NOT_ACTIVE = "closed_period: {account} through {through} is not closed any more"
ENTRY_NOT_SAVED = (
    "entry: the database refused the entry ({detail}); neither a concurrent retry with the same "
    "idempotency key nor a concurrent reversal explains it"
)
LEDGER_TRUST_OUT_OF_BALANCE = (
    "ledger: after JE-{entry_id} trust bank is {bank} cents but client trust liability is "
    "{liability} cents"
)


@dataclass(frozen=True, slots=True)
class PostingLine:
    """One requested posting: ``amount_cents`` positive = debit, negative = credit."""

    account: str | Account
    amount_cents: int
    client: Any = None
    matter: Any = None
    invoice: Any = None


_Resolved = list[tuple[AccountInfo, PostingLine]]


def _pk(obj: Any) -> int | None:
    if obj is None:
        return None
    return int(getattr(obj, "pk", obj))
