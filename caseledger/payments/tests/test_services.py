from __future__ import annotations

from datetime import date

import pytest

from caseledger.billing.models import Invoice
from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as A
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.selectors import account_balance
from caseledger.payments import selectors, services
from caseledger.payments.choices import PaymentMethod, RefundMethod
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import InvoiceSettlement, Payment
from caseledger.payments.services import Allocation
from caseledger.payments.tests.factories import MatterFactory, issued_invoice

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 20)


@pytest.fixture
def matter():
    return MatterFactory()


def record(matter, now, user, amount, **kw):
    kw.setdefault("method", PaymentMethod.ACH)
    kw.setdefault("payer", "Acme Corp")
    kw.setdefault("reference", "ACH-1")
    return services.payment_record(
        client=matter.client, amount_cents=amount, received_date=DAY, actor=user, now=now, **kw
    )


def test_oldest_first_allocation_partial_and_overpayment_to_unapplied(matter, now, users):
    old = issued_invoice(matter=matter, cents=30_000, now=now, day=date(2026, 9, 1))
    new = issued_invoice(matter=matter, cents=50_000, now=now, day=date(2026, 10, 1))
    p1 = record(matter, now, users["BILLING"], 40_000)
    assert [(a.invoice_id, a.amount_cents) for a in p1.allocations.order_by("id")] == [
        (old.pk, 30_000),
        (new.pk, 10_000),
    ]
    assert selectors.invoice_balance_due(old) == 0
    assert selectors.invoice_balance_due(new) == 40_000
    p2 = record(matter, now, users["BILLING"], 45_000, reference="ACH-2")
    assert p2.unapplied_cents == 5_000
    assert selectors.invoice_balance_due(new) == 0
    assert account_balance(code=A.ACCOUNTS_RECEIVABLE) == 0
    assert account_balance(code=A.UNAPPLIED_CLIENT_CREDITS) == 5_000
    assert account_balance(code=A.OPERATING_BANK) == 85_000
    assert AuditEvent.objects.filter(action="payments.payment_recorded").count() == 2


def test_manual_allocation_and_card_fee(matter, now, users):
    inv = issued_invoice(matter=matter, cents=20_000, now=now)
    p = record(
        matter,
        now,
        users["BILLING"],
        20_000,
        method=PaymentMethod.CARD,
        reference="",
        fee_cents=610,
        allocations=[Allocation(inv, 15_000)],
    )
    assert p.unapplied_cents == 5_000
    assert account_balance(code=A.CARD_PROCESSING_FEES) == 610
    assert account_balance(code=A.OPERATING_BANK) == 20_000 - 610
    assert selectors.invoice_balance_due(inv) == 5_000


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"amount": 0}, "amount: must be positive (got $0.00)"),
        (
            {"method": PaymentMethod.CHECK, "reference": ""},
            "reference: a check payment needs the check number",
        ),
        (
            {"method": PaymentMethod.WIRE, "reference": " "},
            "reference: a wire payment needs the wire reference",
        ),
        ({"payer": ""}, "payer: who paid is required"),
    ],
)
def test_bad_input_one_message_nothing_moved(matter, now, users, kw, message):
    amount = kw.pop("amount", 1_000)
    with pytest.raises(PaymentError) as err:
        record(matter, now, users["BILLING"], amount, **kw)
    assert err.value.message == message
    assert not Payment.objects.exists()
    assert not JournalEntry.objects.filter(kind="PAYMENT_RECEIVED").exists()


def test_allocation_over_invoice_balance_refused(matter, now, users):
    inv = issued_invoice(matter=matter, cents=10_000, now=now)
    before = JournalEntry.objects.count()
    with pytest.raises(PaymentError) as err:
        record(matter, now, users["BILLING"], 20_000, allocations=[Allocation(inv, 12_000)])
    assert err.value.message == (
        f"allocations: $120.00 exceeds the balance due on invoice {inv} ($100.00)"
    )
    assert JournalEntry.objects.count() == before
    assert InvoiceSettlement.objects.get(invoice=inv).paid_cents == 0


def test_allocation_over_payment_refused(matter, now, users):
    a = issued_invoice(matter=matter, cents=10_000, now=now)
    b = issued_invoice(matter=matter, cents=10_000, now=now)
    with pytest.raises(PaymentError) as err:
        record(
            matter,
            now,
            users["BILLING"],
            15_000,
            allocations=[Allocation(a, 10_000), Allocation(b, 6_000)],
        )
    assert err.value.message == "allocations: total $160.00 exceeds the payment amount $150.00"
    assert not Payment.objects.exists()


def test_payment_to_void_invoice_refused(matter, now, users):
    inv = issued_invoice(matter=matter, cents=10_000, now=now)
    Invoice.objects.filter(pk=inv.pk).update(status="VOID")
    with pytest.raises(PaymentError) as err:
        record(matter, now, users["BILLING"], 5_000, allocations=[Allocation(inv, 5_000)])
    assert err.value.message == f"allocations: invoice {inv} is void; nothing can be paid on it"
    assert not Payment.objects.exists()


def test_unapplied_credit_applied_later_and_refunded(matter, now, users):
    p = record(matter, now, users["BILLING"], 30_000)
    assert p.unapplied_cents == 30_000
    inv = issued_invoice(matter=matter, cents=12_000, now=now)
    services.unapplied_credit_apply(
        client=matter.client, invoice=inv, actor=users["BILLING"], now=now
    )
    p.refresh_from_db()
    assert p.unapplied_cents == 18_000
    assert selectors.invoice_balance_due(inv) == 0
    with pytest.raises(PaymentError) as err:
        services.unapplied_credit_refund(
            payment=p,
            amount_cents=20_000,
            method=RefundMethod.CHECK,
            actor=users["BILLING"],
            now=now,
        )
    assert err.value.message == (
        f"amount: refund $200.00 exceeds the unapplied credit of payment {p.number} ($180.00)"
    )
    services.unapplied_credit_refund(
        payment=p,
        amount_cents=18_000,
        method=RefundMethod.CHECK,
        reference="CHK 9001",
        actor=users["BILLING"],
        now=now,
    )
    p.refresh_from_db()
    assert p.unapplied_cents == 0
    assert account_balance(code=A.UNAPPLIED_CLIENT_CREDITS) == 0
    assert account_balance(code=A.OPERATING_BANK) == 12_000


def test_payment_allocate_over_unapplied_refused(matter, now, users):
    p = record(matter, now, users["BILLING"], 5_000)
    inv = issued_invoice(matter=matter, cents=10_000, now=now)
    with pytest.raises(PaymentError) as err:
        services.payment_allocate(
            payment=p, allocations=[Allocation(inv, 6_000)], actor=None, now=now
        )
    assert err.value.message == (
        f"allocations: total $60.00 exceeds the unapplied credit of payment {p.number} ($50.00)"
    )


def test_settlement_constraint_in_database(matter, now):
    from django.db import IntegrityError, transaction

    inv = issued_invoice(matter=matter, cents=10_000, now=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceSettlement.objects.filter(invoice=inv).update(paid_cents=10_001)


def test_a_receipt_entry_belongs_to_one_payment_only(matter, now, users):
    """The reports join a receipt's A/R postings to its payment's method by the entry: the
    database refuses a second payment on the same entry (held payments have none)."""
    from django.db import IntegrityError, transaction

    issued_invoice(matter=matter, cents=10_000, now=now)
    p = record(matter, now, users["BILLING"], 10_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            number="P-DUP",
            client=p.client,
            method=p.method,
            payer=p.payer,
            received_date=p.received_date,
            amount_cents=1,
            entry_id=p.entry_id,
            created_at=now,
        )


# Credit returned to a payment's unapplied balance (credit notes) ------------------------------


def _fully_applied(matter, now, users):
    inv = issued_invoice(matter=matter, cents=40_000, now=now)
    p = record(matter, now, users["BILLING"], 40_000)
    assert p.unapplied_cents == 0
    return inv, p


def test_unapplied_credit_add_locks_updates_and_audits(matter, now, users):
    _, p = _fully_applied(matter, now, users)
    out = services.payment_unapplied_credit_add(
        payment=p,
        amount_cents=15_000,
        currency="USD",
        client=matter.client,
        reason="Credit note CN-2026-000001",
        actor=users["BILLING"],
        now=now,
    )
    assert out.unapplied_cents == 15_000
    p.refresh_from_db()
    assert p.unapplied_cents == 15_000
    event = AuditEvent.objects.filter(action="payments.unapplied_credit_added").get()
    assert event.object_id == str(p.pk)
    assert event.before == {"unapplied_cents": 0}
    assert event.after == {"unapplied_cents": 15_000, "reason": "Credit note CN-2026-000001"}


@pytest.mark.parametrize(
    ("kw", "field", "message"),
    [
        ({"amount_cents": 0}, "amount", "amount: must be positive (got $0.00)"),
        ({"amount_cents": -500}, "amount", "amount: must be positive (got -$5.00)"),
        (
            {"currency": "EUR"},
            "currency",
            "currency: payment {payment} is in USD; the credit is in EUR",
        ),
        (
            {"client": "other"},
            "client",
            "client: payment {payment} belongs to {owner}, not {other}",
        ),
        (
            {"amount_cents": 40_001},
            "amount",
            "amount: $400.01 would raise the unapplied credit of payment {payment} to $400.01, "
            "more than the payment itself ($400.00)",
        ),
        ({"reason": "  "}, "reason", "reason: say why the credit goes back to the payment"),
    ],
)
def test_unapplied_credit_add_bad_input_one_message_nothing_changed(
    matter, now, users, kw, field, message
):
    _, p = _fully_applied(matter, now, users)
    other = MatterFactory().client
    args = {
        "payment": p,
        "amount_cents": 1_000,
        "currency": "USD",
        "client": matter.client,
        "reason": "Credit note",
        "actor": users["BILLING"],
        "now": now,
    }
    args.update(kw)
    if args["client"] == "other":
        args["client"] = other
    events = AuditEvent.objects.count()
    with pytest.raises(PaymentError) as err:
        services.payment_unapplied_credit_add(**args)
    assert err.value.field == field
    assert err.value.message == message.format(payment=p.number, owner=matter.client, other=other)
    p.refresh_from_db()
    assert p.unapplied_cents == 0
    assert AuditEvent.objects.count() == events
