"""Reads of the credits app: what is left to credit, approval rules, reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from caseledger.billing.hooks import InvoiceActivity
from caseledger.billing.models import Invoice
from caseledger.core import clock
from caseledger.core.amounts import firm_decimal
from caseledger.core.selectors import firm_get
from caseledger.credits.choices import (
    RETRYABLE_REFUND_STATUSES,
    CreditNoteStatus,
    ReasonCode,
    RefundSource,
    RefundStatus,
    WriteOffStatus,
)
from caseledger.credits.models import CreditNote, CreditRefund, CreditSettings, WriteOff


def credit_settings_get() -> CreditSettings:
    """The firm's credit rules; their defaults, unsaved, until someone saves them (a read never
    writes: ``credit_settings_update`` creates the row under its lock)."""
    return CreditSettings.objects.filter(id=1).first() or CreditSettings(id=1)


def credit_note_needs_approval(*, amount_cents: int, reason_code: str) -> bool:
    """Above the firm's threshold, or for a reason code the firm listed, a partner approves."""
    firm = firm_get()
    if amount_cents > firm.credit_note_approval_cents:
        return True
    return reason_code in credit_settings_get().approval_reason_codes


def write_off_needs_approval(*, amount_cents: int) -> bool:
    return amount_cents > firm_get().write_off_approval_cents


def invoice_credit_reserved_cents(invoice: Invoice) -> int:
    """Cents already credited or waiting for approval on ``invoice``."""
    total = CreditNote.objects.filter(
        invoice=invoice,
        status__in=[CreditNoteStatus.ISSUED, CreditNoteStatus.PENDING_APPROVAL],
    ).aggregate(s=Coalesce(Sum("amount_cents"), 0))["s"]
    return int(total)


def invoice_written_off_cents(invoice: Invoice, *, include_pending: bool = False) -> int:
    statuses = [WriteOffStatus.POSTED]
    if include_pending:
        statuses.append(WriteOffStatus.PENDING_APPROVAL)
    total = WriteOff.objects.filter(invoice=invoice, status__in=statuses).aggregate(
        s=Coalesce(Sum("amount_cents"), 0)
    )["s"]
    return int(total)


def invoice_pending_write_off_cents(invoice: Invoice) -> int:
    total = WriteOff.objects.filter(
        invoice=invoice, status=WriteOffStatus.PENDING_APPROVAL
    ).aggregate(s=Coalesce(Sum("amount_cents"), 0))["s"]
    return int(total)


def invoice_creditable_cents(invoice: Invoice) -> int:
    """What a new credit note on ``invoice`` may still take: the total less what is already
    credited (or requested) and what is written off."""
    return (
        invoice.total_cents
        - invoice_credit_reserved_cents(invoice)
        - invoice_written_off_cents(invoice, include_pending=True)
    )


def credit_note_list(*, status: str | None = None) -> QuerySet[CreditNote]:
    qs = CreditNote.objects.select_related("invoice", "client", "matter", "requested_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-requested_at", "-id")


def write_off_list(*, status: str | None = None) -> QuerySet[WriteOff]:
    qs = WriteOff.objects.select_related("invoice", "client", "matter", "requested_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-requested_at", "-id")


REPORT_DIMENSIONS = {
    "reason": ("reason_code", "Reason"),
    "client": ("client__name", "Client"),
    "partner": ("matter__responsible_partner__username", "Responsible partner"),
    "case_type": ("matter__case_type__name", "Case type"),
    "month": ("month", "Month"),
}


@dataclass(frozen=True)
class ReportRow:
    key: str
    credit_notes: int
    credited_cents: int
    operating_refunds_cents: int
    trust_refunds_cents: int


def _case_type_available() -> bool:
    from caseledger.matters.models import Matter

    return any(f.name == "case_type" for f in Matter._meta.get_fields())


def credit_report(*, by: str, date_from: date, date_to: date) -> list[ReportRow]:
    """Issued credit notes and their refunds grouped by one dimension (grouped in the database).

    Operating and trust refunds are separate columns, as they are separate ledger entries."""
    if by not in REPORT_DIMENSIONS:
        raise ValueError(by)
    field = REPORT_DIMENSIONS[by][0]
    if by == "case_type" and not _case_type_available():
        field = "matter__number"
    notes = CreditNote.objects.filter(
        status=CreditNoteStatus.ISSUED, issue_date__gte=date_from, issue_date__lte=date_to
    )
    # A trust refund whose disbursement was rejected or expired never left trust.
    refunds = CreditRefund.objects.filter(
        credit_note__status=CreditNoteStatus.ISSUED,
        credit_note__issue_date__gte=date_from,
        credit_note__issue_date__lte=date_to,
    ).exclude(
        status__in=[
            RefundStatus.DISBURSEMENT_REJECTED,
            RefundStatus.DISBURSEMENT_EXPIRED,
            RefundStatus.CARD_FAILED,
        ]
    )
    if by == "month":
        notes = notes.annotate(month=TruncMonth("issue_date"))
        refunds = refunds.annotate(month=TruncMonth("credit_note__issue_date"))
        refund_field = "month"
    else:
        refund_field = f"credit_note__{field}"
    note_rows = notes.values(field).annotate(n=Count("id"), s=Sum("amount_cents")).order_by(field)
    refund_rows = refunds.values(refund_field).annotate(
        op=Coalesce(Sum("amount_cents", filter=Q(source=RefundSource.OPERATING)), 0),
        tr=Coalesce(Sum("amount_cents", filter=Q(source=RefundSource.TRUST)), 0),
    )
    refund_by_key = {_key(r[refund_field], by): (r["op"], r["tr"]) for r in refund_rows}
    out = []
    for row in note_rows:
        key = _key(row[field], by)
        op, tr = refund_by_key.get(key, (0, 0))
        out.append(ReportRow(key, row["n"], int(row["s"] or 0), int(op), int(tr)))
    return out


def _key(value: Any, by: str) -> str:
    if value is None:
        return "(none)"
    if by == "month":
        return f"{value:%Y-%m}"
    if by == "reason":
        return str(ReasonCode(value).label)
    return str(value)


def credit_report_csv(rows: list[ReportRow], *, by: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            REPORT_DIMENSIONS[by][1],
            "Credit notes",
            "Credited",
            "Operating refunds",
            "Trust refunds",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.key,
                r.credit_notes,
                firm_decimal(r.credited_cents),
                firm_decimal(r.operating_refunds_cents),
                firm_decimal(r.trust_refunds_cents),
            ]
        )
    return buffer.getvalue()


def trust_refund_live_cents(refunds: Iterable[CreditRefund]) -> int:
    """What a credit note's trust refunds have refunded or still wait to refund (rejected and
    expired ones moved no money)."""
    return sum(
        r.amount_cents
        for r in refunds
        if r.source == RefundSource.TRUST and r.status not in RETRYABLE_REFUND_STATUSES
    )


def trust_refunds_retryable(*, refund_cents: int, refunds: list[CreditRefund]) -> set[int]:
    """Ids of the rejected or expired trust refunds that may be requested again: what is
    refunded or waiting plus the one requested again stays within the note's refund."""
    live = trust_refund_live_cents(refunds)
    return {
        r.pk
        for r in refunds
        if r.source == RefundSource.TRUST
        and r.status in RETRYABLE_REFUND_STATUSES
        and live + r.amount_cents <= refund_cents
    }


def invoice_refunded_cents(invoice_ids: Iterable[int]) -> dict[int, int]:
    """Cents of credit notes on each invoice already paid back to the client (refunds POSTED:
    operating refunds at once, trust refunds once their disbursement posted). One query;
    registered with ``payments.hooks.register_invoice_refunds_provider``."""
    rows = (
        CreditRefund.objects.filter(
            credit_note__invoice_id__in=list(invoice_ids), status=RefundStatus.POSTED
        )
        .values("credit_note__invoice_id")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    return {int(r["credit_note__invoice_id"]): int(r["total"]) for r in rows}


def invoice_credit_activity(invoice: Invoice, user: Any) -> list[InvoiceActivity]:
    """Credit notes (issued or waiting), write-offs (posted, waiting, reversed) and refunds of
    ``invoice``, for its page's "Payments and adjustments"
    (``billing.hooks.register_invoice_activity_listener``)."""
    from django.urls import reverse

    from caseledger.core.permissions import authorize

    may_open = authorize(user, "credits.view")
    rows: list[InvoiceActivity] = []
    notes = (
        CreditNote.objects.filter(invoice_id=invoice.pk)
        .exclude(status=CreditNoteStatus.REJECTED)
        .prefetch_related("refunds")
        .order_by("id")
    )
    for note in notes:
        url = reverse("credits:credit_note_detail", args=[note.pk]) if may_open else None
        issued = note.status == CreditNoteStatus.ISSUED
        detail = note.get_reason_code_display()
        if issued and note.client_credit_cents:
            detail += f" · {_money_text(note.client_credit_cents, note.currency)} to client credit"
        if not issued:
            detail += f" · {note.get_status_display().lower()}"
        rows.append(
            InvoiceActivity(
                on=note.issue_date or clock.firm_date(note.requested_at),
                kind="Credit note",
                document=str(note),
                detail=detail,
                amount_cents=note.amount_cents,
                url=url,
                at=note.issued_at or note.requested_at,
            )
        )
        for refund in sorted(note.refunds.all(), key=lambda r: r.pk):
            rows.append(
                InvoiceActivity(
                    on=refund.refund_date,
                    kind="Refund",
                    document=str(note),
                    detail=f"{refund.get_method_display()} · {refund.get_status_display()}"
                    + (f" · {refund.reference}" if refund.reference else ""),
                    amount_cents=refund.amount_cents,
                    url=url,
                    at=refund.created_at,
                )
            )
    for wo in (
        WriteOff.objects.filter(invoice_id=invoice.pk)
        .exclude(status=WriteOffStatus.REJECTED)
        .order_by("id")
    ):
        url = reverse("credits:write_off_detail", args=[wo.pk]) if may_open else None
        rows.append(
            InvoiceActivity(
                on=wo.posted_date or clock.firm_date(wo.requested_at),
                kind="Write-off",
                document=f"Write-off #{wo.pk}",
                detail=f"{wo.reason} · {wo.get_status_display().lower()}",
                amount_cents=wo.amount_cents,
                url=url,
                at=wo.decided_at or wo.requested_at,
            )
        )
        if wo.status == WriteOffStatus.REVERSED and wo.reversed_at is not None:
            rows.append(
                InvoiceActivity(
                    on=clock.firm_date(wo.reversed_at),
                    kind="Write-off reversed",
                    document=f"Write-off #{wo.pk}",
                    detail=wo.reversal_reason,
                    amount_cents=-wo.amount_cents,
                    url=url,
                    at=wo.reversed_at,
                )
            )
    return rows


def _money_text(cents: int, currency: str) -> str:
    from caseledger.core.money import Money

    return Money(cents, currency).format()
