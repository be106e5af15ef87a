"""The portal API: a client user's token reads that client's cases, invoices, trust and shared
documents, and nothing of another client's (404 by id, absent from lists); staff tokens are
refused the portal routes and the client token the firm's routes (403)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from caseledger.clients.tests.factories import make_beneficiary, make_person
from caseledger.core.choices import Role
from caseledger.core.services import api_token_create
from caseledger.matters import documents
from caseledger.matters.tests.factories import make_matter
from caseledger.payments.tests.factories import issued_invoice

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%%EOF\n"


def _bearer(user: Any, now: Any) -> Client:
    secret = api_token_create(user=user, now=now, name="portal")[1]
    return Client(headers={"Authorization": f"Bearer {secret}"})


def _client_world(make_user: Any, users: Any, now: Any) -> dict[str, Any]:
    client = make_person()
    user = make_user(role=Role.CLIENT)
    client.portal_users.add(user)
    matter = make_matter(
        client=client,
        beneficiary=make_beneficiary(client=client, relationship="SPOUSE"),
        case_type_code="i130",
    )
    invoice = issued_invoice(matter=matter, cents=25_000, now=now)
    document = documents.document_upload(
        matter=matter,
        upload=SimpleUploadedFile("notice.pdf", PDF),
        title="Receipt notice",
        kind="RECEIPT_NOTICE",
        actor=users["PARALEGAL"],
        now=now,
        share=True,
    )
    return {"user": user, "matter": matter, "invoice": invoice, "document": document}


def test_a_client_token_reads_only_its_own_clients_data(make_user, users, now):
    mine = _client_world(make_user, users, now)
    theirs = _client_world(make_user, users, now)
    unshared = documents.document_upload(
        matter=mine["matter"],
        upload=SimpleUploadedFile("draft.pdf", PDF),
        title="Internal draft",
        kind="OTHER",
        actor=users["PARALEGAL"],
        now=now,
    )
    http = _bearer(mine["user"], now)

    cases = http.get("/api/v1/portal/cases").json()
    assert cases["count"] == 1
    assert [c["id"] for c in cases["results"]] == [mine["matter"].pk]
    detail = http.get(f"/api/v1/portal/cases/{mine['matter'].pk}").json()
    assert detail["number"] == mine["matter"].number
    assert {row["state"] for row in detail["timeline"]} >= {"current"}
    assert http.get(f"/api/v1/portal/cases/{theirs['matter'].pk}").status_code == 404

    invoices = http.get("/api/v1/portal/invoices").json()
    assert [i["id"] for i in invoices["results"]] == [mine["invoice"].pk]
    assert invoices["results"][0]["balance_due_cents"] == 25_000
    # Issued on the fixed test date: open or, by today's clock, overdue; never paid.
    assert invoices["results"][0]["payment_state"] in {"open", "overdue"}
    assert http.get(f"/api/v1/portal/invoices/{mine['invoice'].pk}").status_code == 200
    response = http.get(f"/api/v1/portal/invoices/{theirs['invoice'].pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

    trust = http.get("/api/v1/portal/trust").json()
    assert {row["case_id"] for row in trust["results"]} <= {mine["matter"].pk}

    docs = http.get("/api/v1/portal/documents").json()
    assert [d["id"] for d in docs["results"]] == [mine["document"].pk]
    assert unshared.pk not in {d["id"] for d in docs["results"]}
    # Asking for another client's case lists nothing rather than their documents.
    other = http.get("/api/v1/portal/documents", {"case_id": theirs["matter"].pk}).json()
    assert other == {"count": 0, "next": None, "results": []}


def test_the_document_link_opens_in_the_clients_portal_session(make_user, users, now, login):
    world = _client_world(make_user, users, now)
    http = _bearer(world["user"], timezone.now())
    (row,) = http.get("/api/v1/portal/documents").json()["results"]
    assert row["download_url"].startswith("http://testserver/portal/documents/")
    browser = login(world["user"])
    response = browser.get(row["download_url"].removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response.content == PDF
    # The same link is refused to another client's session (made for the caller only).
    stranger = _client_world(make_user, users, now)["user"]
    browser = login(stranger)
    assert browser.get(row["download_url"].removeprefix("http://testserver")).status_code == 403


def test_staff_tokens_are_refused_the_portal_routes(users, now):
    http = _bearer(users["PARTNER"], now)
    for route in ("/api/v1/portal/cases", "/api/v1/portal/invoices", "/api/v1/portal/trust"):
        response = http.get(route)
        assert response.status_code == 403, route
        assert response.json()["error"]["message"].startswith("portal.view: not permitted")


def test_the_client_token_is_refused_the_firms_routes(make_user, users, now):
    world = _client_world(make_user, users, now)
    http = _bearer(world["user"], now)
    for route in (
        "/api/v1/clients",
        "/api/v1/billing/invoices",
        f"/api/v1/billing/invoices/{world['invoice'].pk}",
        "/api/v1/trust/balances",
        "/api/v1/payments",
    ):
        response = http.get(route)
        assert response.status_code == 403, (route, response.content)
