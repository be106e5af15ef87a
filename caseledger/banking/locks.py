"""Every select_for_update of the banking app. A statement import locks its bank account row
first, so two imports into one account run one after the other (no duplicate line races)."""

from __future__ import annotations

from caseledger.banking.models import BankAccount, Reconciliation, StatementImport


def bank_account_lock(pk: int) -> BankAccount:
    return BankAccount.objects.select_for_update().get(pk=pk)


def statement_import_lock(pk: int) -> StatementImport:
    return StatementImport.objects.select_for_update().get(pk=pk)


def reconciliation_lock(pk: int) -> Reconciliation:
    """After the bank account row (bank account -> reconciliation -> ledger balance rows)."""
    return (
        Reconciliation.objects.select_related("prepared_by")
        .select_for_update(of=("self",))
        .get(pk=pk)
    )
