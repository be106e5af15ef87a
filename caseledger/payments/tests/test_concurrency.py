"""Race tests on PostgreSQL with real threads, each on its own connection: concurrent payments
for one client with the default oldest-first allocation are all recorded (the balances are read
only after they are locked)."""

from __future__ import annotations

from datetime import date
from functools import partial

import pytest

from caseledger.ledger.selectors import ledger_verify
from caseledger.ledger.tests.test_concurrency import run_together
from caseledger.payments import selectors, services
from caseledger.payments.choices import PaymentMethod
from caseledger.payments.models import InvoiceSettlement, Payment, PaymentAllocation
from caseledger.payments.tests.factories import MatterFactory, issued_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_payments_for_one_client_are_all_recorded(require_postgres, now):
    matter = MatterFactory()
    client = matter.client
    invoices = [
        issued_invoice(matter=matter, cents=cents, now=now, day=date(2026, 9, day))
        for day, cents in ((1, 7_000), (2, 11_000), (3, 13_000))
    ]
    owed = sum(i.total_cents for i in invoices)  # 31,000 cents

    def pay(n: int) -> Payment:
        return services.payment_record(
            client=client,
            method=PaymentMethod.ACH,
            payer=client.name,
            amount_cents=2_000,
            received_date=date(2026, 10, 5),
            reference=f"ach-{n}",
            actor=None,
            now=now,
        )

    results = run_together([partial(pay, n) for n in range(20)])

    refused = [r for r in results if isinstance(r, Exception)]
    assert refused == []
    assert Payment.objects.filter(client=client).count() == 20
    for invoice in invoices:
        settlement = InvoiceSettlement.objects.get(invoice=invoice)
        assert settlement.paid_cents == invoice.total_cents  # paid in full, never more
        allocated = sum(
            PaymentAllocation.objects.filter(invoice=invoice).values_list("amount_cents", flat=True)
        )
        assert allocated == invoice.total_cents
    assert selectors.client_unapplied_cents(client) == 20 * 2_000 - owed
    assert ledger_verify() == []
