"""Payments received after the cutover on legacy (imported) invoices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from caseledger.core import audit
from caseledger.imports import locks
from caseledger.imports.choices import CutoverStatus
from caseledger.imports.exceptions import ImportRefused
from caseledger.imports.models import (
    Cutover,
    LegacyInvoice,
    LegacyPayment,
)

LEGACY_NOT_CUT_OVER = (
    "invoice: {invoice} reaches accounts receivable at the cutover; finalize the cutover before "
    "recording payments on it"
)
LEGACY_OVER_OPEN = "amount: {amount} is more than the {open} still open on {invoice}"
LEGACY_BEFORE_CUTOVER = "received_date: {date} is before the cutover date {as_of}"


@transaction.atomic
def legacy_invoice_pay(
    *,
    invoice: LegacyInvoice,
    method: str,
    payer: str,
    amount_cents: int,
    received_date: date,
    reference: str,
    actor: Any,
    now: datetime,
) -> LegacyPayment:
    """Record money received for an imported open invoice: payments records the payment (into
    operating, as the client's unapplied credit) and applies that credit to the invoice's A/R
    opened at the cutover (Dr unapplied client credits, Cr A/R of its client and matter, aged
    under the invoice's number and due date). Refused before the cutover is finalized, before
    its date, or beyond what is open."""
    from caseledger.collections.services.aging_facts import receivables
    from caseledger.core.amounts import firm_money
    from caseledger.payments.services import payment_credit_apply_to_receivable, payment_record

    invoice = locks.legacy_invoice_lock(invoice_id=invoice.pk)
    cutover = Cutover.objects.filter(status=CutoverStatus.FINALIZED).order_by("-as_of").first()
    if cutover is None:
        raise ImportRefused(LEGACY_NOT_CUT_OVER.format(invoice=invoice), field="invoice")
    if received_date < cutover.as_of:
        raise ImportRefused(
            LEGACY_BEFORE_CUTOVER.format(date=received_date, as_of=cutover.as_of),
            field="received_date",
        )
    if amount_cents > invoice.open_cents:
        raise ImportRefused(
            LEGACY_OVER_OPEN.format(
                amount=firm_money(amount_cents),
                open=firm_money(invoice.open_cents),
                invoice=invoice,
            ),
            field="amount",
        )
    payment = payment_record(
        client=invoice.client,
        matter=invoice.matter,
        method=method,
        payer=payer,
        amount_cents=amount_cents,
        received_date=received_date,
        reference=reference,
        allocations=[],
        memo=f"for {invoice}",
        actor=actor,
        now=now,
    )
    entry = payment_credit_apply_to_receivable(
        payment=payment,
        amount_cents=amount_cents,
        matter=invoice.matter,
        reference=str(invoice),
        applied_date=received_date,
        actor=actor,
        now=now,
        posting_scope=lambda: receivables([(invoice.due_date, str(invoice))]),
    )
    LegacyInvoice.objects.filter(pk=invoice.pk).update(paid_cents=F("paid_cents") + amount_cents)
    paid = LegacyPayment.objects.create(
        invoice=invoice,
        payment=payment,
        entry=entry,
        amount_cents=amount_cents,
        created_by=actor,
        created_at=now,
    )
    audit.record(
        actor=actor,
        action="imports.legacy_invoice_paid",
        at=now,
        obj=invoice,
        before={"open_cents": invoice.open_cents},
        after={
            "open_cents": invoice.open_cents - amount_cents,
            "payment": payment.number,
            "entry": entry.pk,
        },
    )
    return paid
