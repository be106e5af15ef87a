"""Every refusal of the payments services that no other test triggered: each is raised with the
message naming the field and the rule, and a refused call leaves payments, allocations,
settlements, refunds, checkouts, journal entries and audit events as they were
(``scripts/refusal_coverage.py --list`` lists them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from caseledger.core.models import AuditEvent
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.tests.factories import InvoiceFactory
from caseledger.payments import corrections, services
from caseledger.payments.choices import CheckoutPurpose, PaymentMethod, RefundMethod
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    CheckoutSession,
    CreditRefund,
    InvoiceSettlement,
    Payment,
    PaymentAllocation,
)
from caseledger.payments.services import Allocation
from caseledger.payments.tests.factories import MatterFactory, issued_invoice

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 20)


def _state() -> dict[str, Any]:
    return {
        "payments": list(Payment.objects.values().order_by("pk")),
        "allocations": list(PaymentAllocation.objects.values().order_by("pk")),
        "settlements": list(InvoiceSettlement.objects.values().order_by("pk")),
        "refunds": list(CreditRefund.objects.values().order_by("pk")),
        "checkouts": list(CheckoutSession.objects.values().order_by("pk")),
        "entries": JournalEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., **kwargs)``: the call raises PaymentError whose whole message
    is ``match`` (literal text) and changes nothing."""

    def check(call: Callable[..., Any], *, match: str, **kwargs: Any) -> None:
        before = _state()
        with pytest.raises(PaymentError, match=f"^{re.escape(match)}$"):
            call(**kwargs)
        assert _state() == before

    return check


@pytest.fixture
def matter() -> Any:
    return MatterFactory()


def record_args(on: Any, now: Any, **kw: Any) -> dict[str, Any]:
    """payment_record's arguments for a payment by ``on``'s client, with ``kw`` replaced."""
    args: dict[str, Any] = {
        "client": on.client,
        "method": PaymentMethod.ACH,
        "payer": "Acme Corp",
        "reference": "ACH-1",
        "amount_cents": 10_000,
        "received_date": DAY,
        "actor": None,
        "now": now,
    }
    return {**args, **kw}


def credit_payment(matter: Any, now: Any, cents: int = 10_000) -> Payment:
    """A received payment whose whole amount is unapplied credit."""
    return services.payment_record(**record_args(matter, now, amount_cents=cents, allocations=[]))


def test_payment_record_refuses_each_bad_input_naming_its_field(matter, now, refused):
    refused(
        services.payment_record,
        match=(f"method: must be one of {', '.join(PaymentMethod.values)} (got 'BARTER')"),
        **record_args(matter, now, method="BARTER"),
    )
    refused(
        services.payment_record,
        match="amount: must be positive (got $0.00)",
        **record_args(matter, now, amount_cents=0),
    )
    refused(
        services.payment_record,
        match="payer: who paid is required",
        **record_args(matter, now, payer="  "),
    )
    refused(
        services.payment_record,
        match="reference: a wire payment needs the wire reference",
        **record_args(matter, now, method=PaymentMethod.WIRE, reference=" "),
    )
    refused(
        services.payment_record,
        match="received_date: cannot be after today (2026-11-02) (got 2026-11-04)",
        **record_args(matter, now, received_date=date(2026, 11, 4)),
    )
    other = MatterFactory()
    refused(
        services.payment_record,
        match=f"matter: {other} belongs to another client",
        **record_args(matter, now, matter=other),
    )


def test_settlement_for_refuses_an_invoice_that_is_not_issued(matter, refused):
    draft = InvoiceFactory(
        matter=matter, client=matter.client, status="DRAFT", number=None, issue_date=None
    )
    refused(
        services.settlement_for,
        match=f"invoice: {draft} is not issued; it has no settlement",
        invoice=draft,
    )


def test_payment_allocate_refuses_no_allocation_and_a_non_positive_amount(matter, now, refused):
    invoice = issued_invoice(matter=matter, cents=5_000, now=now)
    payment = credit_payment(matter, now)
    args = {"payment": payment, "actor": None, "now": now}
    refused(
        services.payment_allocate,
        match="allocations: choose at least one invoice and amount",
        allocations=[],
        **args,
    )
    refused(
        services.payment_allocate,
        match=f"allocations: the amount for invoice {invoice} must be positive (got $0.00)",
        allocations=[Allocation(invoice, 0)],
        **args,
    )
    refused(
        services.payment_credit_apply_to_receivable,
        match="allocations: the amount for invoice LEG-7 must be positive (got -$1.00)",
        payment=payment,
        amount_cents=-100,
        matter=matter,
        reference="LEG-7",
        applied_date=DAY,
        actor=None,
        now=now,
    )


def test_a_reversed_payment_is_not_applied_refunded_or_credited(matter, now, users, refused):
    invoice = issued_invoice(matter=matter, cents=5_000, now=now)
    payment = credit_payment(matter, now, cents=1_000)
    corrections.payment_reversal_request(
        payment=payment, reason="check returned unpaid", actor=users["BILLING"], now=now
    )
    refused(
        services.payment_allocate,
        match=f"payment: {payment} is reversed; only received payments can be applied",
        payment=payment,
        allocations=[Allocation(invoice, 500)],
        actor=None,
        now=now,
    )
    refused(
        services.payment_credit_apply_to_receivable,
        match=f"payment: {payment} is reversed; only received payments can be applied",
        payment=payment,
        amount_cents=500,
        matter=matter,
        reference="LEG-7",
        applied_date=DAY,
        actor=None,
        now=now,
    )
    refused(
        services.unapplied_credit_refund,
        match=f"payment: {payment} is reversed; only received payments can be applied",
        payment=payment,
        amount_cents=500,
        method=RefundMethod.CHECK,
        actor=None,
        now=now,
    )
    refused(
        services.payment_unapplied_credit_add,
        match=f"payment: {payment} is reversed; only received payments can be applied",
        payment=payment,
        amount_cents=500,
        currency="USD",
        client=matter.client,
        reason="credit note",
        actor=None,
        now=now,
    )


def test_credit_applies_only_to_the_payments_own_client(matter, now, refused):
    payment = credit_payment(matter, now)
    other = MatterFactory()
    refused(
        services.payment_credit_apply_to_receivable,
        match=(f"matter: {other} does not belong to {matter.client}, payment {payment}'s client"),
        payment=payment,
        amount_cents=500,
        matter=other,
        reference="LEG-7",
        applied_date=DAY,
        actor=None,
        now=now,
    )


def test_unapplied_credit_apply_refuses_a_client_without_credit(matter, now, refused):
    invoice = issued_invoice(matter=matter, cents=5_000, now=now)
    refused(
        services.unapplied_credit_apply,
        match=f"client: {matter.client} has no unapplied credit",
        client=matter.client,
        invoice=invoice,
        actor=None,
        now=now,
    )


def test_unapplied_credit_refund_refuses_a_bad_method_or_amount(matter, now, refused):
    payment = credit_payment(matter, now)
    args = {"payment": payment, "actor": None, "now": now}
    refused(
        services.unapplied_credit_refund,
        match=f"method: must be one of {', '.join(RefundMethod.values)} (got 'CASH')",
        amount_cents=500,
        method="CASH",
        **args,
    )
    refused(
        services.unapplied_credit_refund,
        match="amount: must be positive (got $0.00)",
        amount_cents=0,
        method=RefundMethod.CHECK,
        **args,
    )


def test_payment_unapplied_credit_add_refusals(matter, now, refused):
    payment = credit_payment(matter, now)
    args = {
        "payment": payment,
        "amount_cents": 500,
        "currency": "USD",
        "client": matter.client,
        "reason": "credit note CN-1",
        "actor": None,
        "now": now,
    }
    refused(
        services.payment_unapplied_credit_add,
        match="amount: must be positive (got -$5.00)",
        **{**args, "amount_cents": -500},
    )
    refused(
        services.payment_unapplied_credit_add,
        match="reason: say why the credit goes back to the payment",
        **{**args, "reason": "   "},
    )
    refused(
        services.payment_unapplied_credit_add,
        match=f"currency: payment {payment} is in USD; the credit is in EUR",
        **{**args, "currency": "EUR"},
    )
    stranger = MatterFactory().client
    refused(
        services.payment_unapplied_credit_add,
        match=f"client: payment {payment} belongs to {matter.client}, not {stranger}",
        **{**args, "client": stranger},
    )


def test_checkout_create_refuses_mismatched_invoices_and_a_non_positive_amount(
    matter, now, refused
):
    invoice = issued_invoice(matter=matter, cents=5_000, now=now)
    args = {
        "purpose": CheckoutPurpose.INVOICE,
        "client": matter.client,
        "matter": matter,
        "invoice": invoice,
        "now": now,
        "description": "Invoice",
        "return_url": "https://example.com/back",
    }
    refused(
        services.checkout_create,
        match=(
            "invoices: the checkout's invoice must be the first of its invoices and its amount "
            "their sum"
        ),
        amount_cents=6_000,
        invoice_amounts=[(invoice, 5_000)],
        **args,
    )
    refused(
        services.checkout_create,
        match="amount: must be positive (got $0.00)",
        amount_cents=0,
        **args,
    )


def test_a_payment_not_held_is_neither_released_nor_rejected(matter, now, users, refused):
    payment = credit_payment(matter, now)
    refused(
        services.held_payment_release,
        match=f"payment: {payment} is not held for review",
        payment=payment,
        actor=users["PARTNER"],
        now=now,
    )
    refused(
        services.held_payment_reject,
        match=f"payment: {payment} is not held for review",
        payment=payment,
        actor=users["PARTNER"],
        now=now,
        note="returned",
    )
