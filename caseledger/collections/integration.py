"""The few reads collections makes of other apps' data, in one place, through their public
modules (payments settlement rows, ledger postings, matters deadlines and services)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db.models import F, QuerySet


def settlement_model() -> Any:
    from caseledger.payments.models import InvoiceSettlement

    return InvoiceSettlement


def open_settlements(*, due_before: date) -> QuerySet[Any]:
    """Settlement rows of issued invoices due before ``due_before`` with a balance due, annotated
    with ``balance`` (cents)."""
    from caseledger.billing.choices import InvoiceStatus

    return (
        settlement_model()
        .objects.filter(invoice__status=InvoiceStatus.ISSUED, invoice__due_date__lt=due_before)
        .annotate(
            balance=F("total_cents")
            - F("paid_cents")
            - F("credited_cents")
            - F("written_off_cents")
        )
        .filter(balance__gt=0)
    )


def open_settlement_ids(*, after: int, limit: int) -> list[int]:
    """The next ``limit`` invoice ids after ``after`` whose settlement row has a balance due
    (settlement table only, walked along its invoice-id index; the caller applies the invoice
    conditions)."""
    return list(
        settlement_model()
        .objects.filter(invoice_id__gt=after)
        .annotate(
            balance=F("total_cents")
            - F("paid_cents")
            - F("credited_cents")
            - F("written_off_cents")
        )
        .filter(balance__gt=0)
        .order_by("invoice_id")
        .values_list("invoice_id", flat=True)[:limit]
    )


def invoice_balance_due(invoice: Any) -> int:
    from caseledger.payments.selectors import invoice_balance_due as balance

    return int(balance(invoice))


def invoices_paid_between(invoice_ids: Iterable[int], after: date, until: date) -> set[int]:
    """Invoices that received money (a payment applied or an earned trust transfer) with an
    entry date in (after, until]."""
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.models import Posting

    return set(
        Posting.objects.filter(
            invoice_id__in=list(invoice_ids),
            account__code=accounts.ACCOUNTS_RECEIVABLE,
            amount_cents__lt=0,
            entry__kind__in=[
                EntryKind.PAYMENT_RECEIVED,
                EntryKind.PAYMENT_APPLIED,
                EntryKind.TRUST_TRANSFER_EARNED,
            ],
            entry__entry_date__gt=after,
            entry__entry_date__lte=until,
        ).values_list("invoice_id", flat=True)
    )


def trust_balances(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Trust held (cents) per (client id, matter id) pair, read from the ledger's balance rows in
    one query; pairs holding nothing are absent."""
    from caseledger.ledger.selectors import client_trust_balances

    wanted = set(pairs)
    if not wanted:
        return {}
    rows = (
        client_trust_balances()
        .filter(matter_id__in={matter for _, matter in wanted})
        .order_by()
        .values_list("client_id", "matter_id", "balance_cents")
    )
    # Balance rows are debit-positive; the liability held for the client is the credit.
    return {
        (client, matter): -int(raw) for client, matter, raw in rows if (client, matter) in wanted
    }


def matter_deadlines(
    matter_ids: Iterable[int], *, start: date, until: date
) -> dict[int, tuple[date, str]]:
    """The earliest unmet case deadline per matter between ``start`` and ``until``."""
    from caseledger.matters.models import Deadline

    out: dict[int, tuple[date, str]] = {}
    rows = (
        Deadline.objects.filter(
            matter_id__in=list(matter_ids),
            due_date__gte=start,
            due_date__lte=until,
            met_at__isnull=True,
        )
        .order_by("matter_id", "due_date", "id")
        .only("matter_id", "due_date", "kind", "description")
    )
    for deadline in rows:
        label = deadline.get_kind_display()
        if deadline.description:
            label = f"{label}: {deadline.description}"
        out.setdefault(deadline.matter_id, (deadline.due_date, label))
    return out


def tasks_open(*, specs: list[Any], now: datetime) -> list[Any]:
    """Open system tasks in one batch (``matters.services.SystemTaskSpec``); returns the ones
    opened (keys with an open task are skipped)."""
    from caseledger.matters.services import task_open_for_system_bulk

    return task_open_for_system_bulk(specs=specs, now=now, actor_label="collections run")


def task_spec(
    *,
    key: str,
    matter_id: int,
    title: str,
    due_date: date,
    assignee_id: int | None = None,
    assignee_role: str = "",
    description: str = "",
) -> Any:
    from caseledger.matters.services import SystemTaskSpec

    return SystemTaskSpec(
        key=key,
        matter_id=matter_id,
        title=title,
        due_date=due_date,
        assignee_id=assignee_id,
        assignee_role=assignee_role,
        description=description,
    )


def holds_set(*, reasons: dict[int, str], now: datetime) -> list[Any]:
    """Hold new work on these matters (system actor; locks them in id order); returns the
    matters this call put on hold."""
    from caseledger.matters.services import matter_hold_set_bulk

    return matter_hold_set_bulk(reasons=reasons, actor=None, now=now, actor_label="collections run")


def hold_lift(*, matter: Any, actor: Any, reason: str, now: datetime) -> None:
    from caseledger.matters.services import matter_hold_lift

    matter_hold_lift(matter=matter, actor=actor, reason=reason, now=now)


def client_billing_email(client: Any) -> str:
    from caseledger.clients.selectors import client_billing_email as billing_email

    return str(billing_email(client) or client.email or "")
