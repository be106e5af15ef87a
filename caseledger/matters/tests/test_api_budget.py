"""The matters API reads a matter's budget (kind and amount) as the matter page shows it."""

from __future__ import annotations

import pytest

from caseledger.matters import services
from caseledger.matters.choices import BudgetKind
from caseledger.matters.tests.factories import make_matter

pytestmark = pytest.mark.django_db


def test_the_api_reads_the_budget(users, login, now):
    partner = users["PARTNER"]
    matter = make_matter(attorney=partner)
    http = login(partner)
    body = http.get(f"/api/v1/matters/{matter.pk}").json()
    assert (body["budget_kind"], body["budget_cents"]) == ("", None)
    services.matter_budget_set(
        matter=matter,
        kind=BudgetKind.values[0],
        amount_cents=450_000,
        reason="Engagement letter",
        actor=partner,
        now=now,
    )
    body = http.get(f"/api/v1/matters/{matter.pk}").json()
    assert (body["budget_kind"], body["budget_cents"]) == (BudgetKind.values[0], 450_000)
    (row,) = [m for m in http.get("/api/v1/matters").json()["results"] if m["id"] == matter.pk]
    assert row["budget_cents"] == 450_000
