"""One rule of who sees which matters (matters.selectors.matters_visible_to), on every page,
list and API route: an attorney who may see only their matters sees the same set on /matters/,
/trust/, the trust home panel and the trust API; with the firm's "all matters open" setting on,
all of them on each."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from caseledger.core.selectors import firm_get
from caseledger.matters.selectors import matters_visible_to
from caseledger.payments.tests.factories import MatterFactory
from caseledger.trust.services import deposit_record

pytestmark = pytest.mark.django_db


def _open_all(value: bool) -> None:
    firm = firm_get()
    firm.matters_open_to_all = value
    firm.save()


def _funded(now: Any, **kw: Any) -> Any:
    matter = MatterFactory(**kw)
    deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W",
        amount_cents=10_000,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )
    return matter


def _seen(web: Any, numbers: set[str]) -> dict[str, set[str]]:
    """Which of ``numbers`` each place shows."""
    matters_page = web.get(reverse("matters:list")).content.decode()
    trust_page = web.get(reverse("trust:dashboard")).content.decode()
    api = web.get("/api/v1/trust/balances")
    assert api.status_code == 200, api.content
    return {
        "/matters/": {n for n in numbers if n in matters_page},
        "/trust/": {n for n in numbers if n in trust_page},
        "api": {row["matter"] for row in api.json()["results"]},
    }


@pytest.mark.parametrize("open_to_all", [False, True])
def test_an_attorney_sees_the_same_matters_everywhere(login, users, now, open_to_all):
    attorney = users["ATTORNEY"]
    mine = [_funded(now, attorney=attorney), _funded(now, paralegal=None, attorney=attorney)]
    others = [_funded(now), _funded(now)]
    _open_all(open_to_all)
    numbers = {m.number for m in mine + others}
    expected = numbers if open_to_all else {m.number for m in mine}
    assert {m.number for m in matters_visible_to(attorney)} == expected
    web = login(attorney)
    assert _seen(web, numbers) == {"/matters/": expected, "/trust/": expected, "api": expected}


def test_the_trust_home_panel_follows_the_same_rule(users, now, rf):
    from caseledger.trust.home import _trust_context

    attorney = users["ATTORNEY"]
    _funded(now, attorney=attorney)
    _funded(now)
    request = rf.get("/")
    request.user = attorney
    assert _trust_context(request, now)["balance"] == 10_000
    _open_all(True)
    assert _trust_context(request, now)["balance"] == 20_000
