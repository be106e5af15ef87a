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


def trust_balance(*, client_id: int, matter_id: int) -> int:
    from caseledger.clients.models import Client
    from caseledger.ledger.selectors import client_trust_balance
    from caseledger.matters.models import Matter

    return int(
        client_trust_balance(
            client=Client(pk=client_id), matter=Matter(pk=matter_id, client_id=client_id)
        )
    )


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


def task_open(
    *,
    key: str,
    matter: Any,
    title: str,
    due_date: date,
    now: datetime,
    assignee: Any = None,
    assignee_role: str | None = None,
    description: str = "",
) -> Any:
    from caseledger.matters.services import task_open_for_system

    return task_open_for_system(
        key=key,
        matter=matter,
        title=title,
        due_date=due_date,
        now=now,
        assignee=assignee,
        assignee_role=assignee_role,
        description=description,
    )


def hold_set(*, matter: Any, reason: str, now: datetime) -> None:
    from caseledger.matters.services import matter_hold_set

    matter_hold_set(matter=matter, actor=None, reason=reason, now=now)


def hold_lift(*, matter: Any, actor: Any, reason: str, now: datetime) -> None:
    from caseledger.matters.services import matter_hold_lift

    matter_hold_lift(matter=matter, actor=actor, reason=reason, now=now)


def client_billing_email(client: Any) -> str:
    try:
        from caseledger.clients.selectors import client_billing_email as billing_email
    except ImportError:
        return str(client.email or "")
    return str(billing_email(client) or "")
