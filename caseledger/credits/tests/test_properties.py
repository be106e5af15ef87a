"""Property test: any sequence of payments, credit notes (with refunds), write-offs and write-off
reversals on an invoice never leaves it negative, the ledger's invariants still hold, and the
aging report (its fact table) still equals the ledger's A/R after every step."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.core.exceptions import ApplicationError
from caseledger.credits.choices import ReasonCode, RefundMethod, WriteOffStatus
from caseledger.credits.models import WriteOff
from caseledger.credits.services import credit_note_request, write_off_request, write_off_reverse
from caseledger.credits.tests import factories as F
from caseledger.ledger import accounts as A
from caseledger.ledger.selectors import account_balance, ledger_verify

TOTAL = 100_000

amount = st.integers(min_value=1, max_value=TOTAL + 10_000)
op = st.one_of(
    st.tuples(st.just("pay"), amount),
    st.tuples(st.just("credit"), amount, st.integers(min_value=0, max_value=TOTAL)),
    st.tuples(st.just("write_off"), amount),
    st.tuples(st.just("reverse"), st.just(0)),
)


def _check(invoice) -> None:
    from django.db.models import Sum

    from caseledger.ledger.models import Posting
    from caseledger.payments.models import InvoiceSettlement, Payment

    s = InvoiceSettlement.objects.get(invoice=invoice)
    assert s.balance_due_cents >= 0
    assert s.paid_cents + s.credited_cents + s.written_off_cents <= s.total_cents
    ar = Posting.objects.filter(invoice=invoice, account__code=A.ACCOUNTS_RECEIVABLE).aggregate(
        t=Sum("amount_cents")
    )["t"]
    assert ar == s.balance_due_cents  # the ledger and the settlement row agree
    unapplied = Payment.objects.aggregate(t=Sum("unapplied_cents"))["t"] or 0
    assert account_balance(code=A.UNAPPLIED_CLIENT_CREDITS) == unapplied
    assert ledger_verify() == []
    from caseledger.collections.selectors import aging_facts_verify, aging_report

    assert aging_facts_verify() == []
    for as_of in (date(2026, 9, 15), date(2027, 12, 31)):
        assert aging_report(as_of=as_of).total == account_balance(
            code=A.ACCOUNTS_RECEIVABLE, as_of=as_of
        )


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(op, min_size=1, max_size=7))
def test_credits_refunds_and_write_offs_never_leave_an_invoice_negative(users, now, ops):
    invoice = F.invoice(matter_obj=F.matter(), cents=TOTAL, issued=date(2026, 9, 1))
    for step in ops:
        try:
            if step[0] == "pay":
                from caseledger.payments.models import InvoiceSettlement

                due = InvoiceSettlement.objects.get(invoice=invoice).balance_due_cents
                if due:
                    F.pay(invoice_obj=invoice, cents=min(step[1], due), day=date(2026, 10, 1))
            elif step[0] == "credit":
                refund = min(step[2], step[1])
                credit_note_request(
                    invoice=invoice,
                    reason_code=ReasonCode.BILLING_ERROR,
                    amount_cents=step[1],
                    refund_cents=refund,
                    refund_method=RefundMethod.CHECK if refund else "",
                    actor=users["BILLING"],
                    now=now,
                )
            elif step[0] == "write_off":
                write_off_request(
                    invoice=invoice,
                    amount_cents=step[1],
                    reason="bad debt",
                    actor=users["BILLING"],
                    now=now,
                )
            else:
                posted = WriteOff.objects.filter(
                    invoice=invoice, status=WriteOffStatus.POSTED
                ).first()
                if posted is not None:
                    write_off_reverse(
                        write_off=posted, reason="client paid", actor=users["BILLING"], now=now
                    )
        except ApplicationError:
            pass  # refused with a message: nothing may have changed
        _check(invoice)
