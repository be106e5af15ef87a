"""The invoice tally under concurrency (PostgreSQL, real threads on their own connections): a
settlement change and a void of the same invoice committed at once leave it exact, because the
settlement's trigger takes FOR SHARE on the invoice row (payments 0008)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from caseledger.billing.models import Invoice
from caseledger.credits.tests import factories as F
from caseledger.payments.models import InvoiceSettlement
from caseledger.payments.selectors import invoice_tally_verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_payment_and_a_void_at_once_keep_the_tally_exact(require_postgres, users):
    inv = F.invoice(matter_obj=F.matter(partner=users["PARTNER"]), cents=50_000)
    paid = threading.Event()
    errors: list[BaseException] = []

    def pay() -> None:
        try:
            with transaction.atomic():
                InvoiceSettlement.objects.filter(invoice=inv).update(paid_cents=10_000)
                paid.set()
                # the void runs now, on its own connection, and must wait for this commit
                threading.Event().wait(0.5)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            paid.set()
        finally:
            connection.close()

    def void() -> None:
        try:
            paid.wait(5)
            with transaction.atomic():
                Invoice.objects.filter(pk=inv.pk).update(status="VOID")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay), threading.Thread(target=void)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert Invoice.objects.get(pk=inv.pk).status == "VOID"
    assert invoice_tally_verify() == []
