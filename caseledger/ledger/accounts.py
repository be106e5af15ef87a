"""The seeded chart of accounts: code constants every app posts against, and their definitions.

Codes are strings and never change once seeded. The firm may add more trust bank accounts
(``services.account_trust_bank_create``); every other account here exists exactly once.
"""

from __future__ import annotations

from typing import NamedTuple

from caseledger.ledger.choices import AccountType, NormalBalance

OPERATING_BANK = "1000"
TRUST_BANK = "1010"  # the firm's first IOLTA account; more trust banks get codes 1011..1099
ACCOUNTS_RECEIVABLE = "1200"
CLIENT_COST_ADVANCES = "1300"
PROCESSOR_CLEARING = "1400"
CLIENT_TRUST_LIABILITY = "2100"
UNAPPLIED_CLIENT_CREDITS = "2200"
# Interest the bank credited to an IOLTA account: owed to the state bar foundation, neither the
# clients' nor the firm's. A trust liability with no client (banking resolutions).
IOLTA_INTEREST_PAYABLE = "2400"
EQUITY = "3000"
FEE_REVENUE = "4000"
WRITE_OFFS = "5100"
CARD_PROCESSING_FEES = "5200"
REFUNDS = "5300"
BANK_SERVICE_CHARGES = "5400"

# Trust liabilities held for someone other than a client: their postings carry no client or
# matter, and an entry that moves trust bank only against them (and firm accounts) needs none on
# its trust bank postings either. Trust bank = client trust liability + these, always.
TRUST_NON_CLIENT_LIABILITIES = frozenset({IOLTA_INTEREST_PAYABLE})

# Range reserved for trust bank accounts the firm adds.
TRUST_BANK_CODE_MIN = 1010
TRUST_BANK_CODE_MAX = 1099


class AccountSpec(NamedTuple):
    code: str
    name: str
    account_type: str
    normal_balance: str
    is_trust: bool
    description: str


CHART: tuple[AccountSpec, ...] = (
    AccountSpec(
        OPERATING_BANK,
        "Operating bank",
        AccountType.ASSET,
        NormalBalance.DEBIT,
        False,
        "The firm's own bank account: earned fees and firm expenses.",
    ),
    AccountSpec(
        TRUST_BANK,
        "Trust bank (IOLTA)",
        AccountType.ASSET,
        NormalBalance.DEBIT,
        True,
        "Pooled client trust account. Holds only client money.",
    ),
    AccountSpec(
        ACCOUNTS_RECEIVABLE,
        "Accounts receivable",
        AccountType.ASSET,
        NormalBalance.DEBIT,
        False,
        "Issued invoices not yet paid, per client, matter and invoice.",
    ),
    AccountSpec(
        CLIENT_COST_ADVANCES,
        "Client cost advances",
        AccountType.ASSET,
        NormalBalance.DEBIT,
        False,
        "Government and third-party fees the firm paid for clients, to be re-billed.",
    ),
    AccountSpec(
        PROCESSOR_CLEARING,
        "Payment processor clearing",
        AccountType.ASSET,
        NormalBalance.DEBIT,
        False,
        "Card payments captured but not yet paid out by the processor.",
    ),
    AccountSpec(
        CLIENT_TRUST_LIABILITY,
        "Client trust liability",
        AccountType.LIABILITY,
        NormalBalance.CREDIT,
        True,
        "What the firm owes each client from trust; sub-ledger per client and matter.",
    ),
    AccountSpec(
        UNAPPLIED_CLIENT_CREDITS,
        "Unapplied client credits",
        AccountType.LIABILITY,
        NormalBalance.CREDIT,
        False,
        "Client payments and credits not yet applied to an invoice.",
    ),
    AccountSpec(
        IOLTA_INTEREST_PAYABLE,
        "IOLTA interest payable (bar foundation)",
        AccountType.LIABILITY,
        NormalBalance.CREDIT,
        True,
        "Interest the bank credited to an IOLTA account, owed to the state bar foundation; "
        "never client or firm money.",
    ),
    AccountSpec(
        EQUITY,
        "Owners' equity",
        AccountType.EQUITY,
        NormalBalance.CREDIT,
        False,
        "Opening balances and owners' capital.",
    ),
    AccountSpec(
        FEE_REVENUE,
        "Fee revenue",
        AccountType.REVENUE,
        NormalBalance.CREDIT,
        False,
        "Legal fees billed.",
    ),
    AccountSpec(
        WRITE_OFFS,
        "Write-offs",
        AccountType.EXPENSE,
        NormalBalance.DEBIT,
        False,
        "Receivables the firm gave up collecting.",
    ),
    AccountSpec(
        CARD_PROCESSING_FEES,
        "Card processing fees",
        AccountType.EXPENSE,
        NormalBalance.DEBIT,
        False,
        "Processor fees; always paid from operating, never from trust.",
    ),
    AccountSpec(
        REFUNDS,
        "Refunds",
        AccountType.EXPENSE,
        NormalBalance.DEBIT,
        False,
        "Fees refunded to clients from operating.",
    ),
    AccountSpec(
        BANK_SERVICE_CHARGES,
        "Bank service charges",
        AccountType.EXPENSE,
        NormalBalance.DEBIT,
        False,
        "Bank fees; always borne by the firm (a fee charged to trust is replaced from operating "
        "the same day).",
    ),
)

CHART_CODES = frozenset(spec.code for spec in CHART)
