"""The matter's fee facts through the API: read on every matter, set on create and PATCH,
unknown values a 422 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from caseledger.matters.tests.factories import make_matter

pytestmark = pytest.mark.django_db


def _patch(http: Any, url: str, body: dict[str, Any]) -> Any:
    return http.patch(url, data=json.dumps(body), content_type="application/json")


def test_fee_facts_read_and_patch(login: Any, users: Any) -> None:
    matter = make_matter(responsible_partner=users["PARTNER"])
    http = login(users["PARTNER"])
    url = f"/api/v1/matters/{matter.pk}"
    body = http.get(url).json()
    assert (body["beneficiary_location"], body["employer_prior_extensions"]) == ("", 0)
    response = _patch(
        http, url, {"beneficiary_location": "OUTSIDE_US", "employer_prior_extensions": 2}
    )
    assert response.status_code == 200, response.content
    assert (
        response.json()["beneficiary_location"],
        response.json()["employer_prior_extensions"],
    ) == (
        "OUTSIDE_US",
        2,
    )
    for field, value in (("beneficiary_location", "MARS"), ("employer_prior_extensions", 21)):
        response = _patch(http, url, {field: value})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field
    matter.refresh_from_db()
    assert (matter.beneficiary_location, matter.employer_prior_extensions) == ("OUTSIDE_US", 2)
