"""``/api/v1/billing/invoices``: each invoice's payment state and money, the payment-state
filter, and the count/next envelope."""

from __future__ import annotations

from datetime import date

import pytest

from caseledger.credits.choices import CreditNoteStatus, ReasonCode, RefundMethod
from caseledger.credits.services import credit_note_approve, credit_note_request
from caseledger.credits.tests import factories as F

pytestmark = pytest.mark.django_db

URL = "/api/v1/billing/invoices"


@pytest.fixture
def invoices(users, now):
    m = F.matter(partner=users["PARTNER"])
    paid, credited, partly, unpaid = (
        F.invoice(matter_obj=m, cents=100_000, issued=date(2026, 9, 1), due=date(2099, 1, 1))
        for _ in range(4)
    )
    F.pay(invoice_obj=paid, cents=100_000, day=date(2026, 9, 5))
    F.pay(invoice_obj=credited, cents=100_000, day=date(2026, 9, 5))
    note = credit_note_request(
        invoice=credited,
        reason_code=ReasonCode.OVERPAYMENT,
        amount_cents=100_000,
        refund_cents=100_000,
        refund_method=RefundMethod.CHECK,
        actor=users["BILLING"],
        now=now,
    )
    if note.status == CreditNoteStatus.PENDING_APPROVAL:
        credit_note_approve(credit_note=note, approver=users["PARTNER"], now=now)
    F.pay(invoice_obj=partly, cents=25_000, day=date(2026, 9, 5))
    return {"paid": paid, "credited": credited, "partly": partly, "unpaid": unpaid}


def _money(row):
    keys = (
        "payment_state",
        "paid_cents",
        "credited_cents",
        "written_off_cents",
        "refunded_cents",
        "balance_due_cents",
    )
    return tuple(row[k] for k in keys)


def test_each_invoice_carries_its_payment_state_and_money(login, users, invoices):
    api = login(users["BILLING"])
    body = api.get(URL).json()
    assert body["count"] == 4
    assert body["next"] is None
    rows = {row["id"]: row for row in body["results"]}
    assert _money(rows[invoices["paid"].pk]) == ("paid", 100_000, 0, 0, 0, 0)
    assert _money(rows[invoices["credited"].pk]) == ("credited", 0, 100_000, 0, 100_000, 0)
    assert _money(rows[invoices["partly"].pk]) == ("partly_paid", 25_000, 0, 0, 0, 75_000)
    assert _money(rows[invoices["unpaid"].pk]) == ("open", 0, 0, 0, 0, 100_000)
    one = api.get(f"{URL}/{invoices['credited'].pk}").json()
    assert _money(one) == ("credited", 0, 100_000, 0, 100_000, 0)


def test_filter_by_payment_state(login, users, invoices):
    api = login(users["BILLING"])
    body = api.get(URL, {"payment_state": "partly_paid"}).json()
    assert [row["id"] for row in body["results"]] == [invoices["partly"].pk]
    assert body["count"] == 1
    bad = api.get(URL, {"payment_state": "settled"})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "payment_state"


def test_count_and_next_page_through_the_list(login, users, invoices):
    api = login(users["BILLING"])
    first = api.get(URL, {"limit": 3}).json()
    assert first["count"] == 4
    assert len(first["results"]) == 3
    assert first["next"] == "http://testserver/api/v1/billing/invoices?limit=3&offset=3"
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    seen = {row["id"] for row in first["results"] + second["results"]}
    assert seen == {inv.pk for inv in invoices.values()}


@pytest.mark.parametrize("limit", [2, 4])
def test_list_query_count_does_not_grow_with_the_page(
    login, users, invoices, limit, django_assert_max_num_queries
):
    api = login(users["BILLING"])
    api.get(URL)  # session, firm and permission reads warmed
    with django_assert_max_num_queries(12):
        assert len(api.get(URL, {"limit": limit}).json()["results"]) == limit


def test_the_count_comes_from_the_tally_when_the_filters_allow(login, users, invoices):
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from caseledger.billing.models import Invoice

    api = login(users["BILLING"])
    api.get(URL)  # session, firm and permission reads warmed

    def counts(params):
        with CaptureQueriesContext(connection) as ctx:
            body = api.get(URL, params).json()
        sql = [
            q["sql"]
            for q in ctx.captured_queries
            if re.search(r"COUNT\(", q["sql"]) and "billing_invoice" in q["sql"]
        ]
        return body, sql

    issued = Invoice.objects.filter(status="ISSUED").count()
    # every invoice, or one status: the tally's count, no COUNT over the invoices
    for params, expected in (({}, 4), ({"status": "ISSUED"}, issued), ({"status": "VOID"}, 0)):
        body, sql = counts({**params, "limit": 2})
        assert (body["count"], sql) == (expected, []), params
        assert (body["next"] is not None) == (expected > 2)
    # a client or payment-state filter: the rows are counted, with the same answer
    client_id = invoices["paid"].client_id
    for params, expected in (({"client_id": client_id}, 4), ({"payment_state": "paid"}, 1)):
        body, sql = counts(params)
        assert (body["count"], len(sql)) == (expected, 1), params
