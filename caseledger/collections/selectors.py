"""Reads of the collections app: aging, the work queue, reminder history, at-risk matters.

Aging design (see docs/architecture.md, "Credits and collections"): the report is one grouped
query over the ledger's postings to accounts receivable dated on or before the as-of date, each
posting joined to its invoice and bucketed by that invoice's due date:

    SELECT p.client_id, SUM(CASE WHEN i.due_date >= :as_of THEN p.amount_cents ELSE 0 END), ...
    FROM ledger_posting p LEFT JOIN billing_invoice i ON i.id = p.invoice_id
    WHERE p.account_id = <A/R> AND p.entry_date <= :as_of GROUP BY p.client_id

Summing the postings of an invoice into the bucket of its due date gives the same totals as
first computing each invoice's balance and bucketing it, without the per-invoice step; and since
the rows are exactly the postings that make up the A/R balance as of that date, the grand total
equals ``ledger.selectors.account_balance(code=ACCOUNTS_RECEIVABLE, as_of=...)`` to the cent by
construction. A/R postings without an invoice (an opening balance, say) count as current rather
than vanish. The group key is read from the posting itself (client, matter) or its matter
(responsible partner, case type); the row labels come from one small lookup afterwards, so the
aggregate touches only postings and invoices.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet, Sum

from caseledger.collections.choices import HoldStatus
from caseledger.collections.models import (
    AtRiskMatter,
    CollectionActivity,
    CollectionHold,
    CollectionPolicy,
    CollectionRun,
    InvoiceDispute,
    PaymentPlan,
    Reminder,
)

BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")
BUCKET_LABELS = {
    "current": "Current",
    "d1_30": "1-30",
    "d31_60": "31-60",
    "d61_90": "61-90",
    "d90_plus": "90+",
}
# Group dimension -> the key on the A/R posting (the posting carries client and matter; partner
# and case type come from the posting's matter).
GROUPS: dict[str, str] = {
    "client": "client_id",
    "matter": "matter_id",
    "partner": "matter__responsible_partner_id",
    "case_type": "matter__case_type_id",
}
GROUP_LABELS = {
    "client": "Client",
    "matter": "Matter",
    "partner": "Responsible partner",
    "case_type": "Case type",
}


def bucket_conditions(as_of: date, prefix: str = "invoice__") -> dict[str, Q]:
    """Q per bucket on the invoice's due date: current = not yet due (or no invoice)."""
    due = f"{prefix}due_date"
    return {
        "current": Q(**{f"{prefix}isnull": True})
        | Q(**{f"{due}__isnull": True})
        | Q(**{f"{due}__gte": as_of}),
        "d1_30": Q(**{f"{due}__lt": as_of, f"{due}__gte": as_of - timedelta(days=30)}),
        "d31_60": Q(
            **{f"{due}__lt": as_of - timedelta(days=30), f"{due}__gte": as_of - timedelta(days=60)}
        ),
        "d61_90": Q(
            **{f"{due}__lt": as_of - timedelta(days=60), f"{due}__gte": as_of - timedelta(days=90)}
        ),
        "d90_plus": Q(**{f"{due}__lt": as_of - timedelta(days=90)}),
    }


def bucket_of(due_date: date | None, as_of: date) -> str:
    """The bucket of one due date (the Python twin of ``bucket_conditions``)."""
    if due_date is None or due_date >= as_of:
        return "current"
    days = (as_of - due_date).days
    if days <= 30:
        return "d1_30"
    if days <= 60:
        return "d31_60"
    if days <= 90:
        return "d61_90"
    return "d90_plus"


@dataclass
class AgingRow:
    key: Any
    label: str
    buckets: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


@dataclass
class AgingReport:
    as_of: date
    group: str
    rows: list[AgingRow] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {b: sum(r.buckets[b] for r in self.rows) for b in BUCKETS}

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def _ar_postings(as_of: date) -> QuerySet[Any]:
    from caseledger.ledger import accounts
    from caseledger.ledger.models import Posting
    from caseledger.ledger.services import account_info

    return Posting.objects.filter(
        account_id=account_info(accounts.ACCOUNTS_RECEIVABLE).id, entry_date__lte=as_of
    )


def _labels(group: str, keys: list[Any]) -> dict[Any, str]:
    """Display names of the group keys (one lookup query for the rows shown)."""
    ids = [k for k in keys if k is not None]
    if not ids:
        return {}
    if group == "client":
        from caseledger.clients.models import Client

        return dict(Client.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group == "matter":
        from caseledger.matters.models import Matter

        return {
            pk: f"{number} {title}".strip()
            for pk, number, title in Matter.objects.filter(pk__in=ids).values_list(
                "pk", "number", "title"
            )
        }
    if group == "partner":
        from caseledger.core.models import User

        return {
            pk: f"{first} {last}".strip() or username
            for pk, first, last, username in User.objects.filter(pk__in=ids).values_list(
                "pk", "first_name", "last_name", "username"
            )
        }
    from caseledger.matters.models import CaseType

    return dict(CaseType.objects.filter(pk__in=ids).values_list("pk", "name"))


def _aging_rows(*, as_of: date, group: str) -> list[dict[str, Any]]:
    """The grouped aggregate in portable SQL (SQLite and PostgreSQL)."""
    from django.db import connection

    from caseledger.billing.models import Invoice
    from caseledger.ledger import accounts
    from caseledger.ledger.models import Posting
    from caseledger.ledger.services import account_info
    from caseledger.matters.models import Matter

    posting, invoice, matter = (
        Posting._meta.db_table,
        Invoice._meta.db_table,
        Matter._meta.db_table,
    )
    key_sql = {
        "client": "p.client_id",
        "matter": "p.matter_id",
        "partner": "m.responsible_partner_id",
        "case_type": "m.case_type_id",
    }[group]
    matter_join = (
        f" LEFT JOIN {matter} m ON m.id = p.matter_id" if group in {"partner", "case_type"} else ""
    )
    d30, d60, d90 = (as_of - timedelta(days=n) for n in (30, 60, 90))
    sql = (
        f"SELECT {key_sql} AS k, "
        "SUM(CASE WHEN i.due_date IS NULL OR i.due_date >= %s THEN p.amount_cents ELSE 0 END), "
        "SUM(CASE WHEN i.due_date < %s AND i.due_date >= %s THEN p.amount_cents ELSE 0 END), "
        "SUM(CASE WHEN i.due_date < %s AND i.due_date >= %s THEN p.amount_cents ELSE 0 END), "
        "SUM(CASE WHEN i.due_date < %s AND i.due_date >= %s THEN p.amount_cents ELSE 0 END), "
        "SUM(CASE WHEN i.due_date < %s THEN p.amount_cents ELSE 0 END) "
        f"FROM {posting} p LEFT JOIN {invoice} i ON i.id = p.invoice_id{matter_join} "
        "WHERE p.account_id = %s AND p.entry_date <= %s "
        "GROUP BY 1 ORDER BY 1"
    )
    params: list[Any] = [as_of, as_of, d30, d30, d60, d60, d90, d90]
    params += [account_info(accounts.ACCOUNTS_RECEIVABLE).id, as_of]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            {"k": k, **{b: int(v or 0) for b, v in zip(BUCKETS, values, strict=True)}}
            for k, *values in cursor.fetchall()
        ]


def aging_report(*, as_of: date, group: str = "client") -> AgingReport:
    """Open A/R as of ``as_of`` by ``group`` in the five buckets: ONE grouped SQL query (plus one
    lookup of the row labels)."""
    from caseledger.collections.exceptions import AGING_GROUP_INVALID, CollectionsError

    if group not in GROUPS:
        raise CollectionsError(
            AGING_GROUP_INVALID.format(choices=", ".join(GROUPS), value=group), field="group"
        )
    rows = _aging_rows(as_of=as_of, group=group)
    key = "k"
    rows = [r for r in rows if any(r[b] for b in BUCKETS)]
    labels = _labels(group, [r[key] for r in rows])
    report = AgingReport(as_of=as_of, group=group)
    for values in rows:
        k = values[key]
        label = labels.get(k) or ("Unassigned" if group in {"client", "matter"} else "(none)")
        report.rows.append(
            AgingRow(key=k, label=label, buckets={b: int(values[b]) for b in BUCKETS})
        )
    report.rows.sort(key=lambda r: (-r.total, r.label))
    return report


@dataclass
class AgingInvoice:
    invoice_id: int | None
    number: str
    client: str
    matter: str
    due_date: date | None
    days_past_due: int
    bucket: str
    balance_cents: int


def aging_invoices(
    *,
    as_of: date,
    group: str | None = None,
    key: Any = None,
    bucket: str | None = None,
) -> list[AgingInvoice]:
    """Drill-down: each invoice's A/R balance as of ``as_of`` (grouped per invoice in the
    database), optionally within one group row and one bucket."""
    qs = _ar_postings(as_of)
    if group:
        lookup = GROUPS[group]
        qs = qs.filter(**({f"{lookup}__isnull": True} if key is None else {lookup: key}))
    if bucket:
        qs = qs.filter(bucket_conditions(as_of)[bucket])
    rows = (
        qs.values(
            "invoice_id",
            "invoice__number",
            "invoice__due_date",
            "invoice__client__name",
            "invoice__matter__number",
        )
        .annotate(balance=Sum("amount_cents"))
        .exclude(balance=0)
        .order_by("invoice__due_date", "invoice_id")
    )
    out = []
    for r in rows:
        due = r["invoice__due_date"]
        out.append(
            AgingInvoice(
                invoice_id=r["invoice_id"],
                number=r["invoice__number"] or "(no invoice)",
                client=r["invoice__client__name"] or "Unassigned",
                matter=r["invoice__matter__number"] or "",
                due_date=due,
                days_past_due=max((as_of - due).days, 0) if due else 0,
                bucket=bucket_of(due, as_of),
                balance_cents=int(r["balance"]),
            )
        )
    return out


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def aging_csv(report: AgingReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([GROUP_LABELS[report.group], *(BUCKET_LABELS[b] for b in BUCKETS), "Total"])
    for row in report.rows:
        writer.writerow([row.label, *(_money(row.buckets[b]) for b in BUCKETS), _money(row.total)])
    totals = report.totals
    writer.writerow(["Total", *(_money(totals[b]) for b in BUCKETS), _money(report.total)])
    return buffer.getvalue()


def aging_invoices_csv(rows: list[AgingInvoice]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["Invoice", "Client", "Matter", "Due date", "Days past due", "Bucket", "Balance"]
    )
    for r in rows:
        writer.writerow(
            [
                r.number,
                r.client,
                r.matter,
                r.due_date.isoformat() if r.due_date else "",
                r.days_past_due,
                BUCKET_LABELS[r.bucket],
                _money(r.balance_cents),
            ]
        )
    return buffer.getvalue()


# --- work queue, history, at risk ----------------------------------------------------------------


def run_latest() -> CollectionRun | None:
    return CollectionRun.objects.order_by("-started_at", "-id").first()


def run_list(limit: int = 20) -> list[CollectionRun]:
    return list(CollectionRun.objects.order_by("-started_at", "-id")[:limit])


def reminders_for_run(run: CollectionRun) -> QuerySet[Reminder]:
    return (
        Reminder.objects.filter(run=run)
        .select_related("invoice", "invoice__client", "invoice__matter", "stage")
        .order_by("invoice_id", "stage__days_from", "channel", "id")
    )


def reminders_letters_ready() -> QuerySet[Reminder]:
    from caseledger.collections.choices import Channel, ReminderStatus

    return (
        Reminder.objects.filter(channel=Channel.LETTER, status=ReminderStatus.LETTER_READY)
        .select_related("invoice", "invoice__client", "stage")
        .order_by("run_date", "id")
    )


def reminders_failed() -> QuerySet[Reminder]:
    from caseledger.collections.choices import ReminderStatus

    return (
        Reminder.objects.filter(status=ReminderStatus.FAILED)
        .select_related("invoice", "invoice__client", "stage")
        .order_by("id")
    )


def invoice_collection_history(invoice: Any) -> list[dict[str, Any]]:
    """Reminders, activities, disputes and plans on one invoice, newest first."""
    items: list[dict[str, Any]] = []
    for r in Reminder.objects.filter(invoice=invoice).select_related("stage"):
        items.append(
            {
                "at": r.sent_at or r.created_at,
                "kind": "reminder",
                "title": f"{r.stage.name}: {r.get_channel_display()}",
                "status": r.get_status_display(),
                "detail": r.note or r.subject,
                "reminder": r,
            }
        )
    for a in CollectionActivity.objects.filter(invoice=invoice).select_related("actor"):
        detail = a.note
        if a.promised_date:
            detail = f"promised by {a.promised_date.isoformat()} {detail}".strip()
        items.append(
            {
                "at": a.at,
                "kind": "activity",
                "title": a.get_kind_display(),
                "status": str(a.actor),
                "detail": detail,
            }
        )
    for d in InvoiceDispute.objects.filter(invoice=invoice):
        items.append(
            {
                "at": d.opened_at,
                "kind": "dispute",
                "title": "Dispute opened" if d.resolved_at is None else "Dispute (resolved)",
                "status": "open" if d.resolved_at is None else "resolved",
                "detail": d.reason if d.resolved_at is None else f"{d.reason} — {d.resolution}",
                "dispute": d,
            }
        )
    for p in PaymentPlan.objects.filter(invoice=invoice):
        items.append(
            {
                "at": p.agreed_at,
                "kind": "plan",
                "title": "Payment plan" + (" (cancelled)" if p.cancelled_at else ""),
                "status": "",
                "detail": (
                    f"{_money(p.installment_cents)} every {p.interval_days} days from "
                    f"{p.first_due_date.isoformat()}"
                ),
                "plan": p,
            }
        )
    items.sort(key=lambda i: i["at"], reverse=True)
    return items


def at_risk_list(*, matters: QuerySet[Any] | None = None) -> QuerySet[AtRiskMatter]:
    qs = AtRiskMatter.objects.select_related(
        "matter", "matter__client", "matter__responsible_partner"
    )
    if matters is not None:
        qs = qs.filter(matter__in=matters)
    return qs.order_by("deadline_date", "-overdue_cents", "id")


def holds_active() -> QuerySet[CollectionHold]:
    return (
        CollectionHold.objects.filter(status=HoldStatus.ACTIVE)
        .select_related("matter", "matter__client", "invoice")
        .order_by("set_at", "id")
    )


def policy_list() -> list[CollectionPolicy]:
    return list(CollectionPolicy.objects.prefetch_related("stages").order_by("client_type", "id"))
