"""Every row lock the ledger takes, in one fixed order (see docs/adr/004).

Global order across apps: matter -> trust balance (SubledgerBalance) -> invoice -> payment ->
account balance (AccountBalance, inside entry_post only) -> audit chain head (last: take every row
lock before the first ``audit.record`` of the transaction). Within one kind of row, locks are
taken in ascending key order, so two writers can never wait on each other in a cycle.

On PostgreSQL these are ``SELECT ... FOR UPDATE``; on SQLite ``select_for_update`` is a no-op and
the IMMEDIATE transaction (settings) already holds the database write lock from BEGIN.

A service that locks an invoice or payment and then posts a trust entry must call
``trust_balances_lock`` for the affected (client, matter) first, so the trust balance is locked
before the invoice, as the order says.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

from caseledger.ledger.account_cache import account_info
from caseledger.ledger.accounts import CLIENT_TRUST_LIABILITY
from caseledger.ledger.models import SubledgerBalance

SubKey = tuple[int, int, int]  # (account_id, client_id, matter_id)


def subledger_balances_lock(
    keys: Iterable[SubKey], *, trust_liability_account_id: int | None
) -> dict[SubKey, tuple[int, int]]:
    """Lock (creating when missing) the balance rows for ``keys``, in sorted key order.

    Returns ``{key: (row id, balance_cents)}`` read after the lock, so a check on the balance
    sees every committed entry and no other writer can change it until this transaction ends.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = _select_locked(wanted)
    missing = [k for k in wanted if k not in rows]
    if missing:
        SubledgerBalance.objects.bulk_create(
            [
                SubledgerBalance(
                    account_id=a,
                    client_id=c,
                    matter_id=m,
                    balance_cents=0,
                    is_trust_liability=a == trust_liability_account_id,
                )
                for a, c, m in missing
            ],
            ignore_conflicts=True,
        )
        rows = _select_locked(wanted)
    return rows


def _for_update() -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _select_locked(keys: list[SubKey]) -> dict[SubKey, tuple[int, int]]:
    # Raw SQL: this runs on every posting and the ORM's query building cost more than the query.
    where = " OR ".join(["(account_id = %s AND client_id = %s AND matter_id = %s)"] * len(keys))
    params = [v for key in keys for v in key]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT account_id, client_id, matter_id, id, balance_cents "
            f"FROM ledger_subledgerbalance WHERE {where} "
            f"ORDER BY account_id, client_id, matter_id{_for_update()}",
            params,
        )
        return {(a, c, m): (row_id, bal) for a, c, m, row_id, bal in cur.fetchall()}


def account_balances_lock(account_ids: Iterable[int]) -> dict[int, tuple[int, str, bool]]:
    """Lock the account balance rows in ascending account id order.

    Returns ``{account_id: (balance_cents, code, is_active)}``; ``is_active`` is read here, in
    the locked row's transaction, so a deactivation committed by another process is honoured.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    lock = " FOR UPDATE OF b" if connection.features.has_select_for_update_of else _for_update()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT b.account_id, b.balance_cents, a.code, a.is_active "
            "FROM ledger_accountbalance b JOIN ledger_account a ON a.id = b.account_id "
            f"WHERE b.account_id IN ({marks}) ORDER BY b.account_id{lock}",
            ids,
        )
        return {a: (bal, code, bool(active)) for a, bal, code, active in cur.fetchall()}


def trust_balances_lock(*, pairs: Iterable[tuple[Any, Any]]) -> None:
    """Lock the client trust liability rows of these (client, matter) pairs, in sorted order.

    For services that must hold the trust balance before locking an invoice or payment.
    """
    liability = account_info(CLIENT_TRUST_LIABILITY)
    keys = [(liability.id, _pk(client), _pk(matter)) for client, matter in pairs]
    subledger_balances_lock(keys, trust_liability_account_id=liability.id)


def _pk(obj: Any) -> int:
    return int(getattr(obj, "pk", obj))
