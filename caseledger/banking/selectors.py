"""Banking reads."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from caseledger.banking.models import BankAccount, BankStatement, StatementImport, StatementLine
from caseledger.ledger.choices import AccountType
from caseledger.ledger.models import Account


def bank_account_list() -> QuerySet[BankAccount]:
    """Every bank account with its ledger account, line count and latest statement date."""
    return (
        BankAccount.objects.select_related("ledger_account")
        .annotate(
            line_count=Count("lines", distinct=True), last_period_end=Max("statements__period_end")
        )
        .order_by("-is_active", "name", "id")
    )


def ledger_bank_accounts_unmapped() -> QuerySet[Account]:
    """Ledger bank accounts (operating and trust banks) not yet mapped to a bank account."""
    from caseledger.ledger import accounts as codes

    return (
        Account.objects.filter(is_active=True, account_type=AccountType.ASSET)
        .filter(Q(code=codes.OPERATING_BANK) | Q(is_trust=True))
        .filter(bank_account__isnull=True)
        .order_by("code", "id")
    )


def bank_account_statements(bank_account: BankAccount) -> QuerySet[BankStatement]:
    return BankStatement.objects.filter(bank_account=bank_account).order_by("-period_end", "-id")


def bank_account_imports(bank_account: BankAccount) -> QuerySet[StatementImport]:
    return (
        StatementImport.objects.filter(bank_account=bank_account)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-created_at", "-id")
    )


def statement_lines(statement: BankStatement) -> QuerySet[StatementLine]:
    return StatementLine.objects.filter(statement=statement).order_by("booking_date", "id")


def bank_account_latest_lines(bank_account: BankAccount, limit: int = 50) -> list[StatementLine]:
    return list(
        StatementLine.objects.filter(bank_account=bank_account).order_by("-booking_date", "-id")[
            :limit
        ]
    )
