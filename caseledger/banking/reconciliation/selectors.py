"""Reconciliation reads: records of an account, the status of its months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet

from caseledger.banking.choices import ReconciliationStatus as Status
from caseledger.banking.models import BankAccount, Reconciliation
from caseledger.banking.reconciliation.services import first_period_end, month_bounds


def reconciliation_list(bank_account: BankAccount) -> QuerySet[Reconciliation]:
    """Every record of the account, newest month first (the PDF left unread)."""
    return (
        Reconciliation.objects.filter(bank_account=bank_account)
        .select_related("prepared_by", "signed_by", "reopened_by")
        .defer("pdf", "report")
        .order_by("-period_end", "-id")
    )


def reconciliation_live(bank_account: BankAccount, period_end: date) -> Reconciliation | None:
    """The prepared or signed record of the month, if any."""
    return (
        Reconciliation.objects.filter(
            bank_account=bank_account,
            period_end=period_end,
            status__in=[Status.PREPARED, Status.SIGNED],
        )
        .select_related("prepared_by", "signed_by")
        .defer("pdf")
        .first()
    )


def default_period_end(today: date) -> date:
    """The last day of the previous month."""
    return today.replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class MonthStatus:
    period_end: date
    status: str  # "SIGNED" | "PREPARED" | "OPEN"
    reconciliation_id: int | None
    is_balanced: bool | None


def month_statuses(bank_account: BankAccount, today: date, limit: int = 12) -> list[MonthStatus]:
    """The account's months from its first statement, or the month its books start (the
    cutover), to last month (newest first, at most ``limit``), each signed, prepared or
    open."""
    first = first_period_end(bank_account)
    if first is None:
        return []
    live = {
        r.period_end: r
        for r in Reconciliation.objects.filter(
            bank_account=bank_account, status__in=[Status.PREPARED, Status.SIGNED]
        ).only("id", "period_end", "status", "is_balanced")
    }
    out: list[MonthStatus] = []
    end = month_bounds(first)[1]
    last = default_period_end(today)
    while end <= last:
        rec = live.get(end)
        out.append(
            MonthStatus(
                period_end=end,
                status=rec.status if rec else "OPEN",
                reconciliation_id=rec.pk if rec else None,
                is_balanced=rec.is_balanced if rec else None,
            )
        )
        end = month_bounds(end + timedelta(days=1))[1]
    return list(reversed(out))[:limit]
