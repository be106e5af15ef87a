"""The chart of accounts: seeding, trust bank accounts, deactivating and reactivating."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from caseledger.core import audit
from caseledger.core.money import Money
from caseledger.core.selectors import firm_get
from caseledger.ledger import accounts as codes
from caseledger.ledger import locks
from caseledger.ledger.account_cache import accounts_cache_clear
from caseledger.ledger.choices import AccountType, NormalBalance
from caseledger.ledger.exceptions import LedgerError
from caseledger.ledger.models import Account, AccountBalance
from caseledger.ledger.services.common import (
    ACCOUNT_ALREADY_ACTIVE,
    ACCOUNT_ALREADY_INACTIVE,
    ACCOUNT_CODE_OUT_OF_RANGE,
    ACCOUNT_CODE_TAKEN,
    ACCOUNT_HAS_BALANCE,
    ACCOUNT_LAST4_INVALID,
    ACCOUNT_NAME_REQUIRED,
)


def chart_ensure(*, now: datetime) -> int:
    """Create any missing seeded account and balance row; returns how many accounts it made.

    Idempotent; run by the data migration and after every migrate/flush (apps.py).
    """
    currency = firm_get().currency
    made = 0
    existing = set(Account.objects.values_list("code", flat=True))
    for spec in codes.CHART:
        if spec.code in existing:
            continue
        Account.objects.create(
            code=spec.code,
            name=spec.name,
            account_type=spec.account_type,
            normal_balance=spec.normal_balance,
            is_trust=spec.is_trust,
            description=spec.description,
            currency=currency,
            created_at=now,
        )
        made += 1
    missing = Account.objects.filter(balance__isnull=True).values_list("id", flat=True)
    AccountBalance.objects.bulk_create(
        [AccountBalance(account_id=a) for a in missing], ignore_conflicts=True
    )
    if made:
        accounts_cache_clear()
    return made


def account_trust_bank_create(
    *,
    name: str,
    actor: Any,
    now: datetime,
    code: str | None = None,
    bank_name: str = "",
    account_number_last4: str = "",
) -> Account:
    """Add a trust (IOLTA) bank account to the chart, with its balance row. Code: next free in
    1011-1099 unless given."""
    name = (name or "").strip()
    if not name:
        raise LedgerError(ACCOUNT_NAME_REQUIRED, "name")
    if account_number_last4 and (
        len(account_number_last4) != 4 or not account_number_last4.isdigit()
    ):
        raise LedgerError(
            ACCOUNT_LAST4_INVALID.format(value=account_number_last4), "account_number_last4"
        )
    low, high = codes.TRUST_BANK_CODE_MIN + 1, codes.TRUST_BANK_CODE_MAX
    with transaction.atomic():
        used = set(Account.objects.values_list("code", flat=True))
        if code is None:
            free = [str(c) for c in range(low, high + 1) if str(c) not in used]
            if not free:
                raise LedgerError(
                    ACCOUNT_CODE_OUT_OF_RANGE.format(low=low, high=high, code="(none free)"),
                    "code",
                )
            code = free[0]
        if not code.isdigit() or not low <= int(code) <= high:
            raise LedgerError(
                ACCOUNT_CODE_OUT_OF_RANGE.format(low=low, high=high, code=code), "code"
            )
        if code in used:
            raise LedgerError(ACCOUNT_CODE_TAKEN.format(code=code), "code")
        account = Account.objects.create(
            code=code,
            name=name,
            account_type=AccountType.ASSET,
            normal_balance=NormalBalance.DEBIT,
            is_trust=True,
            currency=firm_get().currency,
            bank_name=bank_name.strip(),
            account_number_last4=account_number_last4,
            description="Trust (IOLTA) bank account",
            created_at=now,
        )
        AccountBalance.objects.create(account=account)
        audit.record(
            actor=actor,
            action="ledger.account_created",
            at=now,
            obj=account,
            after={"code": code, "name": name, "is_trust": True, "bank_name": bank_name},
        )
    accounts_cache_clear()
    return account


def account_deactivate(*, account: Account, actor: Any, now: datetime) -> Account:
    """Mark an account inactive (entries on it are then refused). Refused while it has a
    balance, so nothing is stranded."""
    with transaction.atomic():
        locked = locks.account_balances_lock([account.pk])
        balance, code, active = locked[account.pk]
        if not active:
            raise LedgerError(ACCOUNT_ALREADY_INACTIVE.format(code=code), "account")
        if balance != 0:
            raise LedgerError(
                ACCOUNT_HAS_BALANCE.format(
                    code=code, balance=Money(abs(balance), account.currency).format()
                ),
                "account",
            )
        Account.objects.filter(pk=account.pk).update(is_active=False)
        audit.record(
            actor=actor,
            action="ledger.account_deactivated",
            at=now,
            obj=account,
            before={"is_active": True},
            after={"is_active": False},
        )
    account.is_active = False
    return account


def account_reactivate(*, account: Account, actor: Any, now: datetime) -> Account:
    with transaction.atomic():
        locked = locks.account_balances_lock([account.pk])
        _, code, active = locked[account.pk]
        if active:
            raise LedgerError(ACCOUNT_ALREADY_ACTIVE.format(code=code), "account")
        Account.objects.filter(pk=account.pk).update(is_active=True)
        audit.record(
            actor=actor,
            action="ledger.account_reactivated",
            at=now,
            obj=account,
            before={"is_active": False},
            after={"is_active": True},
        )
    account.is_active = True
    return account
