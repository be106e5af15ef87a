"""Demo firm: credit notes (issued, one waiting for a partner, one with a refund) and a
write-off, on the invoices the billing and payments demos issued and paid. Idempotent: nothing
happens once any credit note exists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps as django_apps

from caseledger.core.choices import Role
from caseledger.core.demo_context import DemoContext
from caseledger.core.models import User


def _user(ctx: DemoContext, username: str, role: str) -> User | None:
    user = ctx.users.get(username)
    if user is not None:
        return user  # type: ignore[no-any-return]
    return User.objects.filter(role=role, is_active=True).order_by("id").first()


def _open_invoices() -> list[Any]:
    from caseledger.payments.models import InvoiceSettlement

    return [
        s.invoice
        for s in InvoiceSettlement.objects.filter(invoice__status="ISSUED", balance_due_cents__gt=0)
        .select_related("invoice", "invoice__client", "invoice__matter")
        .order_by("invoice__due_date", "invoice_id")
    ]


def _paid_by_payment() -> Any:
    from caseledger.payments.models import PaymentAllocation

    allocation = (
        PaymentAllocation.objects.filter(invoice__status="ISSUED")
        .select_related("invoice")
        .order_by("-amount_cents", "id")
        .first()
    )
    return allocation.invoice if allocation else None


def seed(ctx: DemoContext) -> None:
    from caseledger.credits.choices import ReasonCode, RefundMethod
    from caseledger.credits.models import CreditNote
    from caseledger.credits.services import credit_note_request, write_off_request

    if CreditNote.objects.exists():
        return
    if not django_apps.is_installed("caseledger.payments"):
        return  # invoices have no settlement rows without the payments app
    billing = _user(ctx, "billing", Role.BILLING)
    if billing is None:
        return
    now = ctx.now - timedelta(days=3)
    open_invoices = _open_invoices()
    if open_invoices:
        first = open_invoices[-1]
        credit_note_request(
            invoice=first,
            reason_code=ReasonCode.BILLING_ERROR,
            reason_text="Premium processing billed twice",
            amount_cents=min(25_000, first.total_cents // 4) or 1,
            actor=billing,
            now=now,
        )
    if len(open_invoices) > 1:
        second = open_invoices[-2]
        credit_note_request(
            invoice=second,
            reason_code=ReasonCode.FEE_WAIVER,
            reason_text="Hardship: partner agreed by phone",
            amount_cents=min(15_000, second.total_cents // 5) or 1,
            actor=billing,
            now=now,
        )
    if len(open_invoices) > 2:
        oldest = open_invoices[0]
        write_off_request(
            invoice=oldest,
            amount_cents=min(30_000, oldest.total_cents // 3) or 1,
            reason="Client left the country; balance uncollectable",
            actor=billing,
            now=now,
        )
    paid = _paid_by_payment()
    if paid is not None:
        credit_note_request(
            invoice=paid,
            reason_code=ReasonCode.SCOPE_CHANGE,
            reason_text="Dependent petition withdrawn",
            amount_cents=min(20_000, paid.total_cents // 5) or 1,
            refund_cents=min(10_000, paid.total_cents // 10) or 0,
            refund_method=RefundMethod.CHECK if paid.total_cents >= 10 else "",
            actor=billing,
            now=now,
        )
