"""Every select_for_update of the banking app. A statement import locks its bank account row
first, so two imports into one account run one after the other (no duplicate line races).

Order: bank account -> statement lines (ascending id) -> (ledger locks, inside entry_post, for a
resolution) -> audit chain head."""

from __future__ import annotations

from collections.abc import Iterable

from caseledger.banking.models import (
    BankAccount,
    Reconciliation,
    ReconciliationSettings,
    StatementImport,
    StatementLine,
)


def reconciliation_settings_lock() -> ReconciliationSettings:
    """The settings singleton, locked (created with its defaults first if nobody saved it yet)."""
    ReconciliationSettings.objects.get_or_create(id=1)
    return ReconciliationSettings.objects.select_for_update().get(id=1)


def bank_account_lock(pk: int) -> BankAccount:
    return BankAccount.objects.select_for_update().get(pk=pk)


def statement_import_lock(pk: int) -> StatementImport:
    return StatementImport.objects.select_for_update().get(pk=pk)


def statement_lines_lock(
    pks: Iterable[int], *, only: tuple[str, ...] | None = None
) -> dict[int, StatementLine]:
    """Lock statement lines in ascending id order (after the bank account, when a service takes
    both). Matching a line, unmatching it and resolving it all hold its row, so two people
    accepting the same suggestion run one after the other and the second finds it matched."""
    ids = sorted(set(pks))
    out: dict[int, StatementLine] = {}
    for i in range(0, len(ids), 5000):
        chunk = ids[i : i + 5000]
        qs = StatementLine.objects.select_for_update().filter(pk__in=chunk).order_by("id")
        if only:
            qs = qs.only(*only)
        for line in qs:
            out[line.pk] = line
    return out


def reconciliation_lock(pk: int) -> Reconciliation:
    """After the bank account row (bank account -> reconciliation -> ledger balance rows)."""
    return (
        Reconciliation.objects.select_related("prepared_by")
        .select_for_update(of=("self",))
        .get(pk=pk)
    )
