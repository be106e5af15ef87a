"""Banking API: upload a statement (import or dry run), accounts, import status."""

from __future__ import annotations

from typing import Any

import pytest

from caseledger.banking.models import StatementLine
from caseledger.banking.tests.factories import fixture_bytes, trust_bank_account
from caseledger.core.services import api_token_create

pytestmark = pytest.mark.django_db


def _auth(user: Any, now: Any) -> dict[str, str]:
    _, secret = api_token_create(user=user, name="t", now=now)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_upload_dry_run_then_import(client: Any, users: dict[str, Any], now: Any) -> None:
    account = trust_bank_account(now)
    headers = _auth(users["BILLING"], now)
    url = f"/api/v1/banking/accounts/{account.pk}/statements"
    content = fixture_bytes("camt053_v02_two_statements.xml")
    from django.core.files.uploadedfile import SimpleUploadedFile

    dry = client.post(
        url + "?dry_run=true", {"file": SimpleUploadedFile("m.xml", content)}, **headers
    )
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert body["status"] == "CHECKED"
    assert body["statements"][0] == {
        "format": "CAMT053",
        "account": "••••3456",
        "currency": "USD",
        "opening_cents": 1_000_000,
        "closing_cents": 1_379_000,
        "entries": 3,
        "credits_cents": 425_000,
        "debits_cents": 46_000,
    }
    assert not StatementLine.objects.exists()
    done = client.post(url, {"file": SimpleUploadedFile("m.xml", content)}, **headers)
    assert done.status_code == 201, done.content
    assert done.json()["lines_added"] == 5
    status = client.get(f"/api/v1/banking/imports/{done.json()['import_id']}", **headers)
    assert status.json()["status"] == "DONE"
    assert status.json()["percent"] == 100
    again = client.post(url, {"file": SimpleUploadedFile("m.xml", content)}, **headers)
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "file"
    assert "already imported" in again.json()["error"]["message"]
    accounts = client.get("/api/v1/banking/accounts", **headers).json()["results"]
    assert accounts[0]["number_masked"] == "••••3456"
    assert "4400123456" not in str(accounts)


def test_upload_refusal_is_409_with_the_figures(
    client: Any, users: dict[str, Any], now: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    account = trust_bank_account(now)
    response = client.post(
        f"/api/v1/banking/accounts/{account.pk}/statements",
        {"file": SimpleUploadedFile("bad.xml", fixture_bytes("camt053_unbalanced.xml"))},
        **_auth(users["PARTNER"], now),
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "statement_refused",
        "message": "balance: statement STMT-BAD does not balance: opening 1,000.00 + credits "
        "100.00 - debits 0.00 = 1,100.00, but the closing balance is 1,150.00 (difference 50.00)",
        "field": "balance",
    }
    assert not StatementLine.objects.exists()
