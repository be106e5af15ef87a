"""The ledger's write services: the ONLY code that creates postings or changes balance rows
(``entry_post``, ``entries_post``), ``entry_reverse`` (an entry's mirror), the chart of accounts
and closed periods. Import them from here; the modules split them by area:

- ``common``: refusal messages, ``PostingLine``;
- ``checks``: an entry's checks before any lock (lines, trust rules, payload hash);
- ``balances``: locking the balance rows and the checks made under those locks;
- ``sql``: the hot path's raw INSERTs and UPDATEs;
- ``posting``: ``entry_post`` and its steps (``_post``);
- ``reversal``: ``entry_reverse``;
- ``batch``: ``entries_post``;
- ``chart``: seeding the chart, trust bank accounts, (de)activation;
- ``periods``: closing and reopening periods.

Amounts are signed integer cents: positive debit, negative credit. The account cache
(``account_info``) lives in ``ledger.account_cache`` and is re-exported here.
"""

from caseledger.core.money import MAX_MINOR_UNITS
from caseledger.ledger.account_cache import AccountInfo, account_info, accounts_cache_clear
from caseledger.ledger.services.batch import (
    BATCH_EMPTY,
    BATCH_LIMIT,
    BATCH_TOO_LARGE,
    EntryRequest,
    entries_post,
)
from caseledger.ledger.services.chart import (
    account_deactivate,
    account_reactivate,
    account_trust_bank_create,
    chart_ensure,
)
from caseledger.ledger.services.common import (
    ACCOUNT_ALREADY_ACTIVE,
    ACCOUNT_ALREADY_INACTIVE,
    ACCOUNT_CODE_OUT_OF_RANGE,
    ACCOUNT_CODE_TAKEN,
    ACCOUNT_HAS_BALANCE,
    ACCOUNT_INACTIVE,
    ACCOUNT_LAST4_INVALID,
    ACCOUNT_NAME_REQUIRED,
    ACCOUNT_UNKNOWN,
    ENTRY_ALREADY_REVERSED,
    ENTRY_DATE_INVALID,
    ENTRY_EMPTY,
    ENTRY_IS_REVERSAL,
    ENTRY_KIND_REVERSAL_RESERVED,
    ENTRY_KIND_UNKNOWN,
    ENTRY_MEMO_TOO_LONG,
    ENTRY_MIXED_CURRENCY,
    ENTRY_NOT_SAVED,
    ENTRY_UNBALANCED,
    IDEMPOTENCY_KEY_REUSED,
    IDEMPOTENCY_KEY_TOO_LONG,
    LEDGER_TRUST_OUT_OF_BALANCE,
    PERIOD_CLOSE_NOT_LATER,
    PERIOD_CLOSED,
    PERIOD_NOT_ACTIVE,
    PERIOD_REOPEN_REASON_REQUIRED,
    POSTING_AMOUNT_NOT_INTEGER,
    POSTING_AMOUNT_TOO_LARGE,
    POSTING_AMOUNT_ZERO,
    POSTING_MATTER_OTHER_CLIENT,
    REVERSAL_BEFORE_ORIGINAL,
    TRUST_ACCOUNT_NEGATIVE,
    TRUST_BALANCE_NEGATIVE,
    TRUST_BANK_LIABILITY_MISMATCH,
    TRUST_CARD_FEE,
    TRUST_DISBURSEMENT_NOT_APPROVED,
    TRUST_OUTFLOW_UNAUTHORIZED,
    TRUST_POSTING_NEEDS_CLIENT_MATTER,
    TRUST_TRANSFER_BEFORE_INVOICE,
    TRUST_TRANSFER_INVOICE_NOT_ISSUED,
    TRUST_TRANSFER_NEEDS_INVOICE,
    TRUST_TRANSFER_OTHER_CLIENT,
    TRUST_TRANSFER_UNCHECKED,
    PostingLine,
)
from caseledger.ledger.services.periods import (
    period_close,
    period_closed_through,
    period_reopen,
)
from caseledger.ledger.services.posting import entry_post
from caseledger.ledger.services.reversal import entry_reverse
from caseledger.ledger.services.sql import Statement

__all__ = [
    "ACCOUNT_ALREADY_ACTIVE",
    "ACCOUNT_ALREADY_INACTIVE",
    "ACCOUNT_CODE_OUT_OF_RANGE",
    "ACCOUNT_CODE_TAKEN",
    "ACCOUNT_HAS_BALANCE",
    "ACCOUNT_INACTIVE",
    "ACCOUNT_LAST4_INVALID",
    "ACCOUNT_NAME_REQUIRED",
    "ACCOUNT_UNKNOWN",
    "AccountInfo",
    "BATCH_EMPTY",
    "BATCH_LIMIT",
    "BATCH_TOO_LARGE",
    "ENTRY_ALREADY_REVERSED",
    "ENTRY_DATE_INVALID",
    "ENTRY_EMPTY",
    "ENTRY_IS_REVERSAL",
    "ENTRY_KIND_REVERSAL_RESERVED",
    "ENTRY_KIND_UNKNOWN",
    "ENTRY_MEMO_TOO_LONG",
    "ENTRY_MIXED_CURRENCY",
    "ENTRY_NOT_SAVED",
    "ENTRY_UNBALANCED",
    "EntryRequest",
    "IDEMPOTENCY_KEY_REUSED",
    "IDEMPOTENCY_KEY_TOO_LONG",
    "LEDGER_TRUST_OUT_OF_BALANCE",
    "MAX_MINOR_UNITS",
    "PERIOD_CLOSED",
    "PERIOD_CLOSE_NOT_LATER",
    "PERIOD_NOT_ACTIVE",
    "PERIOD_REOPEN_REASON_REQUIRED",
    "POSTING_AMOUNT_NOT_INTEGER",
    "POSTING_AMOUNT_TOO_LARGE",
    "POSTING_AMOUNT_ZERO",
    "POSTING_MATTER_OTHER_CLIENT",
    "PostingLine",
    "REVERSAL_BEFORE_ORIGINAL",
    "Statement",
    "TRUST_ACCOUNT_NEGATIVE",
    "TRUST_BALANCE_NEGATIVE",
    "TRUST_BANK_LIABILITY_MISMATCH",
    "TRUST_CARD_FEE",
    "TRUST_DISBURSEMENT_NOT_APPROVED",
    "TRUST_OUTFLOW_UNAUTHORIZED",
    "TRUST_POSTING_NEEDS_CLIENT_MATTER",
    "TRUST_TRANSFER_BEFORE_INVOICE",
    "TRUST_TRANSFER_INVOICE_NOT_ISSUED",
    "TRUST_TRANSFER_NEEDS_INVOICE",
    "TRUST_TRANSFER_OTHER_CLIENT",
    "TRUST_TRANSFER_UNCHECKED",
    "account_deactivate",
    "account_info",
    "account_reactivate",
    "account_trust_bank_create",
    "accounts_cache_clear",
    "chart_ensure",
    "entries_post",
    "entry_post",
    "entry_reverse",
    "period_close",
    "period_closed_through",
    "period_reopen",
]
