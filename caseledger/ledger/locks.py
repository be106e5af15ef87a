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
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # The keys as three arrays joined to the table: a batch's thousand keys are three
            # parameters and one hash join (an OR of a thousand conditions took 70-90 ms to
            # plan and run, this 7 ms). Rows are locked as the sort emits them: in key order.
            cur.execute(
                "SELECT t.account_id, t.client_id, t.matter_id, t.id, t.balance_cents "
                "FROM ledger_subledgerbalance t JOIN unnest(%s::bigint[], %s::bigint[], "
                "%s::bigint[]) AS k(a, c, m) "
                "ON t.account_id = k.a AND t.client_id = k.c AND t.matter_id = k.m "
                "ORDER BY t.account_id, t.client_id, t.matter_id FOR UPDATE OF t",
                [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]],
            )
        else:
            where = " OR ".join(
                ["(account_id = %s AND client_id = %s AND matter_id = %s)"] * len(keys)
            )
            cur.execute(
                "SELECT account_id, client_id, matter_id, id, balance_cents "
                f"FROM ledger_subledgerbalance WHERE {where} "
                f"ORDER BY account_id, client_id, matter_id{_for_update()}",
                [v for key in keys for v in key],
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


def posting_balances_lock(
    keys: Iterable[SubKey], account_ids: Iterable[int], *, trust_liability_account_id: int
) -> tuple[dict[SubKey, tuple[int, int]], dict[int, tuple[int, str, bool]]]:
    """``subledger_balances_lock(keys)`` then ``account_balances_lock(account_ids)``, in that
    order, with the same results: what one entry's posting locks.

    On PostgreSQL it is ONE statement: the sub-ledger rows are upserted in sorted key order
    (``INSERT ... ON CONFLICT DO UPDATE`` setting the balance to itself: a missing row is
    created, an existing one locked as ``FOR UPDATE`` would, and ``RETURNING`` reads it after
    the lock), then the account rows are locked (``SELECT ... FOR UPDATE``, ascending id). The
    ``UNION ALL`` runs its first branch to the end before its second, so the documented order
    holds. Elsewhere the two locks run one after the other.
    """
    wanted = sorted(set(keys))
    ids = sorted(set(account_ids))
    if connection.vendor != "postgresql" or not wanted or not ids:
        return (
            subledger_balances_lock(wanted, trust_liability_account_id=trust_liability_account_id),
            account_balances_lock(ids),
        )
    values = ", ".join(["(%s, %s, %s, 0, %s)"] * len(wanted))
    marks = ", ".join(["%s"] * len(ids))
    params: list[Any] = [
        v for a, c, m in wanted for v in (a, c, m, a == trust_liability_account_id)
    ]
    params += ids
    with connection.cursor() as cur:
        cur.execute(
            "WITH s AS (INSERT INTO ledger_subledgerbalance AS t (account_id, client_id, "
            f"matter_id, balance_cents, is_trust_liability) VALUES {values} "
            "ON CONFLICT (account_id, client_id, matter_id) "
            "DO UPDATE SET balance_cents = t.balance_cents "
            "RETURNING t.account_id, t.client_id, t.matter_id, t.id, t.balance_cents), "
            "a AS (SELECT b.account_id, b.balance_cents, a.code, a.is_active "
            "FROM ledger_accountbalance b JOIN ledger_account a ON a.id = b.account_id "
            f"WHERE b.account_id IN ({marks}) ORDER BY b.account_id FOR UPDATE OF b) "
            "SELECT account_id, client_id, matter_id, id, balance_cents, NULL, NULL FROM s "
            "UNION ALL "
            "SELECT account_id, NULL, NULL, NULL, balance_cents, code, is_active FROM a",
            params,
        )
        sub_rows: dict[SubKey, tuple[int, int]] = {}
        acct_rows: dict[int, tuple[int, str, bool]] = {}
        for a, c, m, row_id, bal, code, active in cur.fetchall():
            if row_id is None:
                acct_rows[a] = (bal, code, bool(active))
            else:
                sub_rows[(a, c, m)] = (row_id, bal)
    return sub_rows, acct_rows


def trust_balances_lock(*, pairs: Iterable[tuple[Any, Any]]) -> None:
    """Lock the client trust liability rows of these (client, matter) pairs, in sorted order.

    For services that must hold the trust balance before locking an invoice or payment.
    """
    liability = account_info(CLIENT_TRUST_LIABILITY)
    keys = [(liability.id, _pk(client), _pk(matter)) for client, matter in pairs]
    subledger_balances_lock(keys, trust_liability_account_id=liability.id)


def _pk(obj: Any) -> int:
    return int(getattr(obj, "pk", obj))
