"""The inputs schemathesis found answering 500 are 4xx naming the field; the schema documents
every error status; unknown /api/ paths are JSON 404 whatever DEBUG says."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from caseledger.api.api import ERROR_STATUSES
from caseledger.api.types import MAX_LIMIT, NO_NUL_MESSAGE, NOT_UNICODE_MESSAGE

pytestmark = pytest.mark.django_db


def _schema() -> dict:
    return Client().get("/api/v1/openapi.json").json()


def list_routes() -> list[str]:
    schema = _schema()
    return sorted(
        path
        for path, methods in schema["paths"].items()
        if "get" in methods
        and any(p["name"] == "offset" for p in methods["get"].get("parameters", []))
    )


LIST_ROUTES = [
    "/api/v1/banking/accounts",
    "/api/v1/banking/accounts/{account_id}/suggestions",
    "/api/v1/billing/invoices",
    "/api/v1/clients",
    "/api/v1/collections/aging",
    "/api/v1/ledger/accounts",
    "/api/v1/matters",
    "/api/v1/payments",
    "/api/v1/portal/cases",
    "/api/v1/portal/documents",
    "/api/v1/portal/invoices",
    "/api/v1/portal/trust",
    "/api/v1/tasks",
    "/api/v1/trust/balances",
]


def test_every_list_route_pages_with_limit_and_offset():
    assert list_routes() == LIST_ROUTES


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_list_bounds_are_422_naming_the_parameter(route, login, users, now):
    # The portal routes are a client user's (``users["CLIENT"]``); the others the firm's.
    http = login(users["CLIENT" if route.startswith("/api/v1/portal/") else "ADMIN"])
    if "{account_id}" in route:
        from caseledger.banking.tests.factories import operating_bank_account

        route = route.format(account_id=operating_bank_account(now).pk)
    for query, name in (
        ({"offset": -1}, "offset"),
        ({"offset": 2**64}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"limit": 2**70}, "limit"),
    ):
        response = http.get(route, query)
        assert response.status_code == 422, (route, query, response.content)
        assert response.json()["error"]["field"] == name
        assert response.json()["error"]["message"].startswith(f"{name}: ")
    page = http.get(route, {"limit": 1, "offset": 0}).json()
    # The envelope; the aging report adds its as-of date, grouping and totals beside it.
    assert {"count", "next", "results"} <= set(page)
    assert set(page) - {"count", "next", "results"} <= {"as_of", "group", "totals"}
    assert len(page["results"]) <= 1


def test_huge_ids_are_422_not_an_overflow(login, users):
    http = login(users["ADMIN"])
    response = http.get(f"/api/v1/clients/{2**64}")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "client_id"


def _post(http, url, body, method="post"):
    return getattr(http, method)(url, data=json.dumps(body), content_type="application/json")


def test_nul_and_lone_surrogates_are_422_naming_the_field(login, users):
    http = login(users["PARTNER"])
    response = http.get("/api/v1/clients", {"q": "ab\x00c"})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid",
        "message": f"q: {NO_NUL_MESSAGE}",
        "field": "q",
    }
    body = '{"name": "Ada\\u0000", "kind": "PERSON", "client_type": "PRIVATE"}'
    response = http.post("/api/v1/clients", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == f"name: {NO_NUL_MESSAGE}"
    body = '{"name": "Ada \\ud800", "kind": "PERSON", "client_type": "PRIVATE"}'
    response = http.post("/api/v1/clients", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == f"name: {NOT_UNICODE_MESSAGE}"


def test_null_for_a_required_field_in_a_patch_is_422(login, users):
    from caseledger.clients.tests.factories import make_person

    person = make_person()
    http = login(users["PARTNER"])
    response = _post(http, f"/api/v1/clients/{person.pk}", {"name": None}, "patch")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "name"
    # true/false only: 0, 1 or "yes" are not booleans in JSON.
    response = _post(http, f"/api/v1/clients/{person.pk}", {"ledes_required": 0}, "patch")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "ledes_required"
    # A nullable column takes null.
    response = _post(
        http, f"/api/v1/clients/{person.pk}", {"responsible_partner_id": None}, "patch"
    )
    assert response.status_code == 200, response.content


def test_longer_than_the_column_is_422(login, users):
    http = login(users["PARTNER"])
    body = {"name": "x" * 201, "kind": "PERSON", "client_type": "PRIVATE"}
    response = _post(http, "/api/v1/clients", body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "name"
    assert "at most 200 characters" in response.json()["error"]["message"]


def test_a_body_that_is_not_an_object_is_400(login, users):
    http = login(users["PARTNER"])
    response = http.post("/api/v1/clients", "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_out_of_range_dates_and_unknown_choices_are_422(login, users):
    http = login(users["BILLING"])
    body = {
        "client_id": 1,
        "method": "BITCOIN",
        "payer": "Acme",
        "received_date": "2026-11-02",
        "amount_cents": 100,
    }
    response = _post(http, "/api/v1/payments", body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "method"
    response = _post(
        http, "/api/v1/payments", {**body, "method": "CHECK", "received_date": "1989-12-31"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "received_date"


def test_every_operation_documents_its_errors_with_the_error_schema():
    schema = _schema()
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for status in ERROR_STATUSES:
                response = operation["responses"][str(status)]
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, status)


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-route", "/api/no-such-version/x", "/api/", "/api/v1/me/extra"]
)
def test_unknown_api_paths_are_json_404_in_every_mode(path, debug):
    with override_settings(DEBUG=debug):
        for method in ("get", "post", "delete"):
            response = getattr(Client(), method)(path)
            assert response.status_code == 404, (method, path)
            assert response["Content-Type"] == "application/json"
            assert response.json()["error"]["code"] == "not_found"
