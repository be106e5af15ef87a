"""Reads for payments: balances due, open invoices, unapplied credit, payment lists."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet, Sum

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.matters.models import Matter
from caseledger.payments.choices import PaymentStatus
from caseledger.payments.models import InvoiceSettlement, Payment


def invoice_balance_due(invoice: Invoice) -> int:
    """Cents still due on an issued invoice (its total when nothing was received yet; 0 for
    drafts and void invoices)."""
    if invoice.status != InvoiceStatus.ISSUED:
        return 0
    settlement = InvoiceSettlement.objects.filter(invoice_id=invoice.pk).first()
    return invoice.total_cents if settlement is None else settlement.balance_due_cents


def ensure_settlements(invoices: QuerySet[Invoice]) -> None:
    """Create missing settlement rows for issued invoices (issued before the hook existed)."""
    from caseledger.payments.services import settlement_for

    for invoice in invoices.filter(status=InvoiceStatus.ISSUED, settlement__isnull=True):
        settlement_for(invoice)


def open_invoices_for(client: Client, matter: Matter | None = None) -> list[Invoice]:
    """Issued invoices of ``client`` (and ``matter``) with a balance due, oldest first (due
    date, issue date, id), each with ``settlement`` loaded."""
    invoices = Invoice.objects.filter(client=client, status=InvoiceStatus.ISSUED)
    if matter is not None:
        invoices = invoices.filter(matter=matter)
    ensure_settlements(invoices)
    return list(
        invoices.filter(settlement__balance_due_cents__gt=0)
        .select_related("settlement", "matter")
        .order_by("due_date", "issue_date", "id")
    )


def client_unapplied_cents(client: Client) -> int:
    total = Payment.objects.filter(client=client, status=PaymentStatus.RECEIVED).aggregate(
        total=Sum("unapplied_cents")
    )["total"]
    return int(total or 0)


def payment_list(
    *,
    client: Client | None = None,
    status: str | None = None,
    method: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Payment]:
    payments = Payment.objects.select_related("client", "matter", "created_by")
    if client is not None:
        payments = payments.filter(client=client)
    if status:
        payments = payments.filter(status=status)
    if method:
        payments = payments.filter(method=method)
    if date_from:
        payments = payments.filter(received_date__gte=date_from)
    if date_to:
        payments = payments.filter(received_date__lte=date_to)
    return payments.order_by("-received_date", "-id")


def payment_detail(payment_id: int) -> Payment:
    return (
        Payment.objects.select_related("client", "matter", "checkout", "created_by")
        .prefetch_related(
            "allocations__invoice", "refunds", "provider_refunds__reopenings__invoice", "disputes"
        )
        .get(pk=payment_id)
    )
