"""List pages and API lists must not grow queries with rows (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caseledger.matters import services
from caseledger.matters.tests.factories import make_matter


def _count(http, url):
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        reverse("matters:list"),
        reverse("clients:list"),
        reverse("matters:my_tasks"),
        "/api/v1/matters",
        "/api/v1/clients",
        "/api/v1/tasks",
    ],
)
def test_lists_do_not_grow_with_rows(url, users, login, now):
    partner = users["PARTNER"]
    http = login(partner)

    def add(n):
        for _ in range(n):
            matter = make_matter(attorney=partner)
            services.receipt_add(matter=matter, number=f"EAC25{matter.pk:08d}", actor=None, now=now)
            services.task_create(title="t", matter=matter, assignee=partner, actor=None, now=now)
            services.deadline_create(
                matter=matter, kind="OTHER", due_date=now.date(), actor=None, now=now
            )

    add(2)
    few = _count(http, url)
    add(5)
    assert _count(http, url) == few
