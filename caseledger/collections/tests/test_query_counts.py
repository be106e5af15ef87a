"""The aging page at two sizes: its query count does not grow with the rows, and the one
grouped query that reads the page also gives the row count and the totals, exactly."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseledger.collections import selectors
from caseledger.credits.tests import factories as F

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 10, 31)


def _add(n, start=0):
    for i in range(n):
        F.invoice(
            matter_obj=F.matter(),
            cents=1_000 * (start + i + 1),
            issued=date(2026, 7, 15),
            due=date(2026, 8, 15) if i % 2 else date(2026, 10, 15),
        )


def _count(http, params):
    with CaptureQueriesContext(connection) as ctx:
        response = http.get("/collections/aging/", params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("group", ["client", "matter", "partner"])
def test_aging_page_does_not_grow_with_rows(group, login, users, monkeypatch):
    from caseledger.collections import views

    monkeypatch.setattr(views, "PAGE_ROWS", 2)
    http = login(users["BILLING"])
    params = {"as_of": AS_OF.isoformat(), "group": group}
    _add(3)
    few, _ = _count(http, params)
    _add(6, start=3)
    many, response = _count(http, params)
    assert many == few
    rows = selectors.aging_rows(as_of=AS_OF, group=group)
    assert response.context["page"].paginator.count == len(rows)
    assert response.context["totals"] == selectors.aging_totals(as_of=AS_OF)


def test_one_window_reads_rows_count_and_totals(login, users, monkeypatch):
    from caseledger.collections import views

    monkeypatch.setattr(views, "PAGE_ROWS", 2)
    _add(5)
    http = login(users["BILLING"])
    with CaptureQueriesContext(connection) as ctx:
        last = http.get("/collections/aging/", {"as_of": AS_OF.isoformat(), "page": 3})
    aging = [q["sql"] for q in ctx.captured_queries if "collections_aragingfact" in q["sql"]]
    assert len(aging) == 1, aging
    assert [r.total for r in last.context["page"].object_list] == [1_000]
    assert last.context["total"] == 15_000
    assert last.context["totals"] == selectors.aging_totals(as_of=AS_OF)
    # a page past the end falls back to the paginator's own reads and shows the last page
    beyond = http.get("/collections/aging/", {"as_of": AS_OF.isoformat(), "page": 9})
    assert [r.total for r in beyond.context["page"].object_list] == [1_000]
    assert beyond.context["total"] == 15_000


def test_aging_api_reads_one_grouped_query_at_any_size(login, users):
    http = login(users["BILLING"])
    params = {"as_of": AS_OF.isoformat(), "limit": 2, "offset": 2}

    def read():
        with CaptureQueriesContext(connection) as ctx:
            body = http.get("/api/v1/collections/aging", params).json()
        return [q for q in ctx.captured_queries if "collections_aragingfact" in q["sql"]], body

    _add(3)
    few, _ = read()
    _add(6, start=3)
    many, body = read()
    assert len(many) == len(few) == 1
    assert body["count"] == 9
    totals = selectors.aging_totals(as_of=AS_OF)
    assert body["totals"]["total_cents"] == sum(totals.values()) == 45_000
