"""API authentication, JSON errors and the docs page."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from caseledger.api.api import SERVER_ERROR
from caseledger.core import services

pytestmark = pytest.mark.django_db


def test_me_by_session(login, users):
    r = login(users["CLIENT"]).get("/api/v1/me")
    assert r.status_code == 200
    assert r.json()["role"] == "CLIENT"


def test_anonymous_gets_json_401():
    r = Client().get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"


def test_garbage_bearer_token_is_refused():
    r = Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer cl_not-a-real-token")
    assert r.status_code == 401


def test_openapi_schema_lists_bearer_auth_and_me():
    r = Client().get("/api/v1/openapi.json")
    schema = r.json()
    assert "/api/v1/me" in schema["paths"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_docs_page_uses_local_assets_only():
    r = Client().get("/api/v1/docs")
    html = r.content.decode()
    assert r.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert "script-src 'self'" in r["Content-Security-Policy"]


@pytest.mark.parametrize("debug", [True, False])
def test_unhandled_error_is_json_without_a_traceback(debug, login, users, monkeypatch):
    def broken_device_read(user):
        raise RuntimeError("secret internals: db password is hunter2")

    client = login(users["ATTORNEY"])
    # A read only the view makes (the middleware's reads fail before any view: Django's 500).
    monkeypatch.setattr("caseledger.core.selectors.totp_device_confirmed", broken_device_read)
    with override_settings(DEBUG=debug):
        r = client.get("/api/v1/me")
    assert r.status_code == 500
    assert r.json() == {"error": {"code": "server_error", "message": SERVER_ERROR, "field": None}}
    assert b"hunter2" not in r.content
    assert b"Traceback" not in r.content


def test_application_error_is_409_with_field(rf):
    # A service's refusal of a request that passed the schema: the firm's records refuse it.
    from caseledger.api.api import _application_error
    from caseledger.core.exceptions import ApplicationError

    error = ApplicationError("amount: must be positive", field="amount")
    response = _application_error(rf.get("/api/v1/me"), error)
    assert response.status_code == 409
    assert b'"field": "amount"' in response.content


def test_unknown_api_path_is_json_404():
    r = Client().get("/api/v1/no-such-route")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_token_via_management_command(users):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_token", users["BILLING"].username, stdout=out)
    secret = out.getvalue().strip()
    r = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.json()["username"] == users["BILLING"].username


def test_token_command_refuses_client_role(users):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="may not hold API tokens"):
        call_command("create_api_token", users["CLIENT"].username)
    assert services.api_token_authenticate(secret="", now=None) is None  # type: ignore[arg-type]
