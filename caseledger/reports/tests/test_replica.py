"""Report reads go to the replica; money decisions and read-your-writes never do (core.replica).

The ``replica`` alias is a second connection to the test database (``TEST: {"MIRROR":
"default"}``), so which alias each query went to is what these tests measure. They commit
(transaction=True): a mirror connection does not see another connection's open transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caseledger.core.replica import PIN_SESSION_KEY, REPLICA, read_alias, replica_reads
from caseledger.reports.tests.fixtures import PERIOD, book

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])

QUERY = f"?start={PERIOD.start}&end={PERIOD.end}"


@contextmanager
def queries() -> Iterator[dict[str, CaptureQueriesContext]]:
    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in ("default", REPLICA)}
    for context in captured.values():
        context.__enter__()
    try:
        yield captured
    finally:
        for context in captured.values():
            context.__exit__(None, None, None)


@pytest.fixture
def replica_on(settings: Any) -> None:
    settings.REPLICA_READS = True


@pytest.fixture
def partner(users: dict[str, Any], login: Callable[..., Any]) -> Any:
    book(users)
    return login(users["PARTNER"])


def test_report_pages_and_their_exports_read_the_replica(replica_on: None, partner: Any) -> None:
    for url in ("/reports/", "/reports/rows/billed/", "/reports/cohorts/"):
        with queries() as q:
            response = partner.get(url + QUERY)
        assert response.status_code == 200
        report_sql = [x["sql"] for x in q[REPLICA].captured_queries]
        # The firm-wide dashboard reads the KPI summaries (ADR 020, 021), the rows the invoices.
        read = ("billing_invoice", "reports_kpi")
        assert any(t in sql for sql in report_sql for t in read), url
        default_sql = [x["sql"] for x in q["default"].captured_queries]
        assert not any(t in sql for sql in default_sql for t in read), url
    with queries() as q:
        csv = partner.get("/reports/rows/collected/" + QUERY + "&format=csv")
    assert csv.status_code == 200
    assert csv["Content-Type"] == "text/csv"
    assert any("billing_invoice" in x["sql"] for x in q[REPLICA].captured_queries)


def test_without_a_replica_the_same_pages_read_only_the_primary(partner: Any) -> None:
    with queries() as q:
        assert partner.get("/reports/" + QUERY).status_code == 200
    assert q[REPLICA].captured_queries == []
    assert q["default"].captured_queries


def test_after_a_post_the_session_reads_its_writes_from_the_primary(
    replica_on: None, partner: Any
) -> None:
    response = partner.post(
        "/reports/settings/",
        {
            "target_days": "45",
            "staff_cost": "60.00",
            "billing_activity_code": "A111",
            "baseline_start": "",
            "baseline_end": "",
        },
    )
    assert response.status_code == 302
    assert partner.session[PIN_SESSION_KEY] > 0
    with queries() as q:
        assert partner.get("/reports/" + QUERY).status_code == 200
    assert q[REPLICA].captured_queries == []
    # Once the pin has run out, the same page reads the replica again.
    session = partner.session
    session[PIN_SESSION_KEY] = 0
    session.save()
    with queries() as q:
        assert partner.get("/reports/" + QUERY).status_code == 200
    assert q[REPLICA].captured_queries


def test_a_disbursement_approval_never_reads_the_replica(
    replica_on: None, users: dict[str, Any], login: Callable[..., Any]
) -> None:
    from caseledger.trust.models import Disbursement
    from caseledger.trust.services import disbursement_approve
    from caseledger.trust.tests.authz import disbursement

    # The view approves at the wall clock's time: the request must not have expired by then.
    ctx = SimpleNamespace(users=users, now=timezone.now())
    first = disbursement(ctx)
    client = login(users["PARTNER"])
    with queries() as q:
        response = client.post(f"/trust/disbursements/{first.pk}/approve/")
    assert response.status_code == 302
    assert Disbursement.objects.get(pk=first.pk).status == "POSTED"
    assert q[REPLICA].captured_queries == []
    assert q["default"].captured_queries

    # Even code that ran inside a marked report scope: the approval's reads and locks happen
    # in its transaction, and a transaction always reads the primary.
    second = disbursement(ctx)
    with queries() as q, replica_reads():
        assert read_alias() == REPLICA
        disbursement_approve(disbursement=second, approver=users["PARTNER"], now=ctx.now)
    assert q[REPLICA].captured_queries == []


def test_a_marked_scope_inside_a_transaction_reads_the_primary(replica_on: None) -> None:
    from django.db import transaction

    with replica_reads():
        assert read_alias() == REPLICA
        with transaction.atomic():
            assert read_alias() == "default"
    assert read_alias() == "default"
