"""The invoice list at scale (issue #20): its default order and filters read an index, not a
sort of every invoice, and the client filter is a server-side search whose drop-down never
lists every client."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection

from caseledger.billing import selectors
from caseledger.credits.tests import factories as F

pytestmark = pytest.mark.django_db


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # tiny test tables: forbid the scans and sorts a handful of rows would make
            # cheapest, so the plan shows whether an index CAN serve the list's order
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "billing_inv_created_idx"),
        ({"status": "ISSUED"}, "billing_inv_status_crt_idx"),
        ({"client": True}, "billing_inv_client_crt_idx"),
    ],
)
def test_the_list_order_reads_an_index(users, filters, index):
    matter = F.matter()
    for _ in range(3):
        F.invoice(matter_obj=matter, cents=1_000)
    if filters.get("client"):
        filters = {"client_id": matter.client_id}
    qs = selectors.invoice_list(user=users["BILLING"], **filters)  # type: ignore[arg-type]
    sql, params = qs[:50].query.sql_with_params()  # the page the list reads
    plan = _plan(sql, params)
    assert index in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # SQLite: no sort of every row
    assert not re.search(r"^\s*Sort ", plan, re.MULTILINE), plan  # PostgreSQL: no Sort node


def test_client_filter_is_a_search_not_every_client(users, login):
    for i in range(45):
        F.client(corporate=False, name=f"Filler client {i:02d}")
    wanted = F.invoice(matter_obj=F.matter(), cents=1_000)
    other = F.invoice(matter_obj=F.matter(), cents=2_000)
    http = login(users["BILLING"])
    html = http.get("/billing/invoices/").content.decode()
    select = re.search(r'<select name="client".*?</select>', html, re.S)
    assert select is not None
    assert select.group(0).count("<option") <= 31  # "Any client" and at most 30 matches
    assert 'name="client_q"' in html
    # Find: type part of the name, the drop-down lists the match, the other filters still apply
    name = wanted.client.name
    found = http.get("/billing/invoices/", {"client_q": name, "_pick": "client"})
    options = re.search(r'<select name="client".*?</select>', found.content.decode(), re.S)
    assert options is not None
    assert f'value="{wanted.client_id}"' in options.group(0)
    assert "Filler" not in options.group(0)
    # choose it: only its invoices are listed
    page = http.get("/billing/invoices/", {"client": wanted.client_id, "client_q": name})
    numbers = [inv.pk for inv in page.context["page"].object_list]
    assert numbers == [wanted.pk]
    assert other.pk not in numbers


def test_the_list_does_not_grow_with_invoices_and_counts_once(users, login):
    from django.test.utils import CaptureQueriesContext

    http = login(users["BILLING"])

    def read(params=None):
        with CaptureQueriesContext(connection) as ctx:
            response = http.get("/billing/invoices/", params or {})
        assert response.status_code == 200
        counts = [
            q["sql"]
            for q in ctx.captured_queries
            if re.search(r"COUNT\(", q["sql"]) and "billing_invoice" in q["sql"]
        ]
        return ctx.captured_queries, counts, response

    for i in range(2):
        F.invoice(matter_obj=F.matter(), cents=1_000 * (i + 1))
    few, _, _ = read()
    matter = F.matter()
    for _ in range(6):
        F.invoice(matter_obj=matter, cents=1_000)
    many, counts, response = read()
    assert len(many) == len(few)
    # all invoices (or one status, one partner): the totals come from the tally, which the
    # database keeps (payments.InvoiceTally); no aggregate over the invoices at all
    assert counts == [], counts
    assert any("payments_invoicetally" in q["sql"] for q in many)
    assert response.context["page"].paginator.count == response.context["totals"].count == 8
    assert response.context["totals"].total_cents == 3_000 + 6_000
    # a client filter: the tally cannot answer; one totals query counts the filtered invoices
    # and the paginator takes that count
    _, counts, response = read({"client": matter.client_id})
    assert len(counts) == 1, counts
    assert response.context["page"].paginator.count == response.context["totals"].count == 6
