"""The payment state of every invoice (``payments.selectors.invoice_money``): each state, the
money identity, the SQL rule equal to the Python rule, and a constant number of queries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from caseledger.credits.choices import CreditNoteStatus, ReasonCode, RefundMethod
from caseledger.credits.services import credit_note_approve, credit_note_request, write_off_request
from caseledger.credits.tests import factories as F
from caseledger.ledger.tests.factories import make_invoice
from caseledger.payments.choices import InvoicePaymentState as S
from caseledger.payments.selectors import (
    invoice_money,
    invoice_money_annotate,
    invoice_money_one,
    payment_state_for,
)

pytestmark = pytest.mark.django_db

ISSUED = date(2026, 9, 1)
DUE = date(2026, 10, 1)
BEFORE_DUE = date(2026, 9, 15)
AFTER_DUE = date(2026, 11, 2)


@pytest.fixture
def matter(users):
    return F.matter(partner=users["PARTNER"])


def _invoice(matter, cents=100_000):
    return F.invoice(matter_obj=matter, cents=cents, issued=ISSUED, due=DUE)


def _credit(invoice, users, now, cents, **kw):
    note = credit_note_request(
        invoice=invoice,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=cents,
        actor=users["BILLING"],
        now=now,
        **kw,
    )
    if note.status == CreditNoteStatus.PENDING_APPROVAL:
        note = credit_note_approve(credit_note=note, approver=users["PARTNER"], now=now)
    return note


def _figures(m):
    return (
        m.state,
        m.total_cents,
        m.paid_cents,
        m.credited_cents,
        m.written_off_cents,
        m.refunded_cents,
        m.balance_due_cents,
    )


def test_unpaid_is_open_until_due_then_overdue(matter):
    inv = _invoice(matter)
    assert _figures(invoice_money_one(inv, as_of=BEFORE_DUE)) == (
        S.OPEN,
        100_000,
        0,
        0,
        0,
        0,
        100_000,
    )
    assert invoice_money_one(inv, as_of=DUE).state == S.OPEN  # due today is not yet overdue
    assert invoice_money_one(inv, as_of=AFTER_DUE).state == S.OVERDUE


def test_partly_paid_shows_what_is_left(matter):
    inv = _invoice(matter)
    F.pay(invoice_obj=inv, cents=40_000, day=date(2026, 9, 10))
    money = invoice_money_one(inv, as_of=BEFORE_DUE)
    assert _figures(money) == (S.PARTLY_PAID, 100_000, 40_000, 0, 0, 0, 60_000)
    assert money.settled_on is None
    # Past due with a balance: overdue wins over partly paid.
    assert invoice_money_one(inv, as_of=AFTER_DUE).state == S.OVERDUE


def test_paid_by_card(matter):
    inv = _invoice(matter)
    F.pay(invoice_obj=inv, cents=100_000, day=date(2026, 9, 12), method="CARD", provider="sandbox")
    money = invoice_money_one(inv, as_of=AFTER_DUE)
    assert _figures(money) == (S.PAID, 100_000, 100_000, 0, 0, 0, 0)
    assert money.settled_on == date(2026, 9, 12)


def test_paid_from_trust(matter, users, now):
    inv = _invoice(matter)
    F.trust_deposit(matter_obj=matter, cents=150_000, day=date(2026, 9, 2))
    F.trust_pay(invoice_obj=inv, cents=100_000, day=date(2026, 9, 3), actor=users["BILLING"])
    money = invoice_money_one(inv, as_of=AFTER_DUE)
    assert _figures(money) == (S.PAID, 100_000, 100_000, 0, 0, 0, 0)


def test_fully_credited_after_payment_and_refunded(matter, users, now):
    inv = _invoice(matter)
    F.pay(invoice_obj=inv, cents=100_000, day=date(2026, 9, 12))
    _credit(inv, users, now, 100_000, refund_cents=100_000, refund_method=RefundMethod.CHECK)
    money = invoice_money_one(inv, as_of=AFTER_DUE)
    # The payment went back to the client as credit and was refunded: nothing paid is kept.
    assert _figures(money) == (S.CREDITED, 100_000, 0, 100_000, 0, 100_000, 0)


def test_fully_credited_before_payment(matter, users, now):
    inv = _invoice(matter)
    _credit(inv, users, now, 100_000)
    assert _figures(invoice_money_one(inv, as_of=AFTER_DUE)) == (
        S.CREDITED,
        100_000,
        0,
        100_000,
        0,
        0,
        0,
    )


def test_discount_then_payment_is_paid(matter, users, now):
    inv = _invoice(matter)
    _credit(inv, users, now, 20_000)
    F.pay(invoice_obj=inv, cents=80_000, day=date(2026, 9, 12))
    assert _figures(invoice_money_one(inv, as_of=AFTER_DUE)) == (
        S.PAID,
        100_000,
        80_000,
        20_000,
        0,
        0,
        0,
    )


def test_written_off(matter, users, now):
    inv = _invoice(matter, cents=30_000)
    F.pay(invoice_obj=inv, cents=5_000, day=date(2026, 9, 12))
    wo = write_off_request(invoice=inv, reason="Client gone", actor=users["PARTNER"], now=now)
    if wo.status != "POSTED":
        from caseledger.credits.services import write_off_approve

        write_off_approve(write_off=wo, approver=users["ADMIN"], now=now)
    money = invoice_money_one(inv, as_of=AFTER_DUE)
    assert _figures(money) == (S.WRITTEN_OFF, 30_000, 5_000, 0, 25_000, 0, 0)
    assert money.settled_on == now.date()


def test_void_and_draft_owe_nothing(matter):
    void = make_invoice(matter=matter, client=matter.client, status="VOID", total_cents=5_000)
    draft = make_invoice(
        matter=matter, client=matter.client, status="DRAFT", number=None, total_cents=7_000
    )
    result = invoice_money([void, draft], as_of=AFTER_DUE)
    assert _figures(result[void.pk]) == (S.VOID, 5_000, 0, 0, 0, 0, 0)
    assert _figures(result[draft.pk]) == (S.DRAFT, 7_000, 0, 0, 0, 0, 0)


def test_identity_and_sql_rule_equal_python_rule(matter, users, now):
    """total = paid + credited + written off + balance due, and the SQL state (used by list
    filters) equals ``payment_state_for`` over the same figures, for a mix of invoices."""
    a, b, c, d = (_invoice(matter) for _ in range(4))
    F.pay(invoice_obj=b, cents=30_000, day=date(2026, 9, 12))
    F.pay(invoice_obj=c, cents=100_000, day=date(2026, 9, 12))
    _credit(c, users, now, 60_000)
    _credit(d, users, now, 50_000)
    for as_of in (BEFORE_DUE, AFTER_DUE):
        money = invoice_money([a, b, c, d], as_of=as_of)
        for inv in (a, b, c, d):
            m = money[inv.pk]
            assert m.total_cents == (
                m.paid_cents + m.credited_cents + m.written_off_cents + m.balance_due_cents
            )
            assert m.state == payment_state_for(
                status=inv.status,
                total_cents=m.total_cents,
                paid_cents=m.paid_cents,
                credited_cents=m.credited_cents,
                written_off_cents=m.written_off_cents,
                balance_due_cents=m.balance_due_cents,
                due_date=inv.due_date,
                as_of=as_of,
            )
    annotated: Any = invoice_money_annotate(
        type(a).objects.filter(pk__in=[a.pk, b.pk, c.pk, d.pk]), as_of=BEFORE_DUE
    )
    states = dict(annotated.values_list("pk", "payment_state"))
    # c kept 40,000 and credited 60,000: named after the larger part.
    assert states == {a.pk: S.OPEN, b.pk: S.PARTLY_PAID, c.pk: S.CREDITED, d.pk: S.PARTLY_PAID}


@pytest.mark.parametrize("size", [2, 12])
def test_batch_selector_query_count_is_constant(
    matter, users, now, size, django_assert_num_queries
):
    invoices = [_invoice(matter, cents=10_000) for _ in range(size)]
    F.pay(invoice_obj=invoices[0], cents=10_000, day=date(2026, 9, 12))
    _credit(invoices[1], users, now, 10_000)
    # One query for the money of every invoice, one for the credits app's refunds.
    with django_assert_num_queries(2):
        money = invoice_money(invoices, as_of=AFTER_DUE)
    assert len(money) == size
