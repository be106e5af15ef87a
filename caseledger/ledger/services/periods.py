"""Closed periods: after a signed reconciliation the database refuses postings on an account
dated on or before its closed-through date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from caseledger.core import audit
from caseledger.ledger.exceptions import LedgerError
from caseledger.ledger.models import Account, ClosedPeriod
from caseledger.ledger.services.common import (
    PERIOD_CLOSE_NOT_LATER,
    PERIOD_NOT_ACTIVE,
    PERIOD_REOPEN_REASON_REQUIRED,
)


def period_close(
    *, account: Account, closed_through: date, reference: str, actor: Any, now: datetime
) -> ClosedPeriod:
    """Close ``account`` through ``closed_through``: from the commit on, the database refuses
    every posting on it dated on or before that date. Callers lock the account's balance row
    first (``locks.account_balances_lock``) so no entry slips in between their figures and
    this row. Refused when the account is already closed through that date or later."""
    current = period_closed_through(account=account)
    if current is not None and current >= closed_through:
        raise LedgerError(
            PERIOD_CLOSE_NOT_LATER.format(account=account, through=current.isoformat()),
            "closed_through",
        )
    row = ClosedPeriod.objects.create(
        account=account,
        closed_through=closed_through,
        reference=reference[:80],
        closed_by=actor if getattr(actor, "pk", None) else None,
        closed_at=now,
    )
    audit.record(
        actor=actor,
        action="ledger.period_closed",
        at=now,
        obj=row,
        after={
            "account": account.code,
            "closed_through": closed_through.isoformat(),
            "reference": reference,
        },
    )
    return row


def period_reopen(*, closed_period: ClosedPeriod, actor: Any, reason: str, now: datetime) -> None:
    """Reopen a closed period (the row stays, inactive, with who, when and why). Who may
    reopen is the caller's rule (banking: a partner)."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(PERIOD_REOPEN_REASON_REQUIRED, "reason")
    updated = ClosedPeriod.objects.filter(pk=closed_period.pk, is_active=True).update(
        is_active=False, reopened_by=actor, reopened_at=now, reopen_reason=reason[:500]
    )
    if not updated:
        raise LedgerError(
            PERIOD_NOT_ACTIVE.format(
                account=closed_period.account, through=closed_period.closed_through
            ),
            "closed_period",
        )
    audit.record(
        actor=actor,
        action="ledger.period_reopened",
        at=now,
        obj=closed_period,
        before={"is_active": True},
        after={"is_active": False, "reason": reason},
    )


def period_closed_through(*, account: Account | int) -> date | None:
    """The latest date ``account`` is closed through, or None when no period is closed."""
    account_id = account.pk if isinstance(account, Account) else int(account)
    return (
        ClosedPeriod.objects.filter(account_id=account_id, is_active=True)
        .order_by("-closed_through", "-id")
        .values_list("closed_through", flat=True)
        .first()
    )
