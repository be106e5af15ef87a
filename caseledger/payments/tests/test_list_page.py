"""The staff payments list: its order, its totals over every filtered payment, and a statement
count that does not grow with the payments."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caseledger.payments import services
from caseledger.payments.choices import PaymentMethod
from caseledger.payments.tests.factories import MatterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def matter():
    return MatterFactory()


def _record(matter, now, user, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        services.payment_record(
            client=matter.client,
            amount_cents=1_000 + i,
            received_date=date(2026, 9, 1) + timedelta(days=i % 7),
            method=PaymentMethod.ACH,
            payer="Payer",
            actor=user,
            now=now,
        )


def _statements(web) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        r = web.get(reverse("payments:list"))
    assert r.status_code == 200
    return len(ctx.captured_queries), r.content.decode()


def test_list_page_statements_do_not_grow_and_totals_cover_every_payment(matter, now, users, login):
    web = login(users["PARTNER"])
    _record(matter, now, users["BILLING"], 3)
    few, _ = _statements(web)
    _record(matter, now, users["BILLING"], 60, start=3)
    many, page = _statements(web)
    assert many <= few
    # the totals and the count are over all 63 payments, not the 50 shown
    assert "(all 63 payments)" in page
    assert f"{sum(1_000 + i for i in range(63)) / 100:,.2f}" in page


def test_list_order_is_newest_received_first_then_newest_id(matter, now, users):
    from caseledger.payments import selectors

    _record(matter, now, users["BILLING"], 10)
    rows = list(selectors.payment_list().values_list("received_date", "id"))
    assert rows == sorted(rows, reverse=True)
