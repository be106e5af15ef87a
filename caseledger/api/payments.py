"""Payments API: create a payment (with allocations), list payments. POSTs honour
``Idempotency-Key`` (applied to every POST in ``api.api``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from caseledger.api.pagination import Page, paginate
from caseledger.api.types import DEFAULT_LIMIT, Cents, Day, Id, Limit, Offset, choice, column
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core import clock
from caseledger.core.permissions import require
from caseledger.matters.models import Matter
from caseledger.payments import selectors, services
from caseledger.payments.choices import PaymentMethod, PaymentStatus
from caseledger.payments.models import Payment

router = Router(tags=["payments"])


def _user(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "role", None) else request.user


class AllocationIn(Schema):
    invoice_id: Id
    amount_cents: Cents


class PaymentIn(Schema):
    client_id: Id
    matter_id: Id | None = None
    method: choice(PaymentMethod)  # type: ignore[valid-type]
    payer: column(Payment, "payer", min_length=1)  # type: ignore[valid-type]
    reference: column(Payment, "reference") = ""  # type: ignore[valid-type]
    received_date: Day
    amount_cents: Cents
    # None: oldest open invoices first; []: keep it all as unapplied credit.
    allocations: list[AllocationIn] | None = Field(default=None, max_length=200)


class AllocationOut(Schema):
    invoice: str
    invoice_id: int
    amount_cents: int


class PaymentOut(Schema):
    id: int
    number: str
    client_id: int
    matter_id: int | None
    method: str
    status: str
    payer: str
    reference: str
    received_date: date
    amount_cents: int
    fee_cents: int
    unapplied_cents: int
    allocations: list[AllocationOut]


def payment_out(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "number": payment.number,
        "client_id": payment.client_id,
        "matter_id": payment.matter_id,
        "method": payment.method,
        "status": payment.status,
        "payer": payment.payer,
        "reference": payment.reference,
        "received_date": payment.received_date,
        "amount_cents": payment.amount_cents,
        "fee_cents": payment.fee_cents,
        "unapplied_cents": payment.unapplied_cents,
        "allocations": [
            {"invoice": str(a.invoice), "invoice_id": a.invoice_id, "amount_cents": a.amount_cents}
            for a in payment.allocations.all()
        ],
    }


@router.post("", response={201: PaymentOut}, url_name="payments_create")
def payment_create(request: HttpRequest, payload: PaymentIn) -> Status[dict[str, Any]]:
    user = _user(request)
    require(user, "payments.record")
    client = get_object_or_404(Client, pk=payload.client_id)
    matter = get_object_or_404(Matter, pk=payload.matter_id) if payload.matter_id else None
    allocations = None
    if payload.allocations is not None:
        allocations = [
            services.Allocation(get_object_or_404(Invoice, pk=a.invoice_id), a.amount_cents)
            for a in payload.allocations
        ]
    payment = services.payment_record(
        client=client,
        matter=matter,
        method=payload.method,
        payer=payload.payer,
        reference=payload.reference,
        received_date=payload.received_date,
        amount_cents=payload.amount_cents,
        allocations=allocations,
        actor=user,
        now=clock.now(),
    )
    return Status(201, payment_out(selectors.payment_detail(payment.pk)))


def _payments_out(payments: list[Payment]) -> list[dict[str, Any]]:
    return [payment_out(p) for p in payments]


@router.get("", response=Page[PaymentOut], url_name="payments_list")
def payment_list(
    request: HttpRequest,
    client_id: Id | None = None,
    status: choice(PaymentStatus) | None = None,  # type: ignore[valid-type]
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Payments, newest first, of one client or all; ``count`` and ``next`` page through."""
    user = _user(request)
    require(user, "payments.view")
    client = get_object_or_404(Client, pk=client_id) if client_id else None
    payments = selectors.payment_list(client=client, status=status).prefetch_related(
        "allocations__invoice"
    )
    return paginate(request, payments, limit=limit, offset=offset, serialize=_payments_out)
