"""Payments and trust API, with the Idempotency-Key helper."""

from __future__ import annotations

import json
from datetime import date

import pytest

from caseledger.api.models import IdempotentRequest
from caseledger.payments.models import Payment
from caseledger.payments.tests.factories import MatterFactory, issued_invoice
from caseledger.trust.models import Disbursement
from caseledger.trust.services import deposit_record

pytestmark = pytest.mark.django_db


def post(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def invoice(now):
    return issued_invoice(matter=MatterFactory(), cents=30_000, now=now)


def body(invoice, amount=10_000):
    return {
        "client_id": invoice.client_id,
        "method": "CHECK",
        "payer": "Acme Corp",
        "reference": "1001",
        "received_date": "2026-11-02",
        "amount_cents": amount,
    }


def test_create_payment_allocates_and_lists(login, users, invoice):
    api = login(users["BILLING"])
    response = post(api, "/api/v1/payments", body(invoice))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["allocations"] == [
        {"invoice": str(invoice), "invoice_id": invoice.pk, "amount_cents": 10_000}
    ]
    listed = api.get("/api/v1/payments").json()
    assert listed["count"] == 1
    assert listed["next"] is None
    assert [p["number"] for p in listed["results"]] == [data["number"]]


def test_idempotency_key_replays_first_response_and_refuses_other_body(login, users, invoice):
    api = login(users["BILLING"])
    first = post(api, "/api/v1/payments", body(invoice), key="pay-1")
    again = post(api, "/api/v1/payments", body(invoice), key="pay-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    other = post(api, "/api/v1/payments", body(invoice, amount=5_000), key="pay-1")
    assert other.status_code == 409
    assert (
        other.json()["error"]["message"]
        == "Idempotency-Key: already used with a different request (method, path or body)"
    )
    assert Payment.objects.count() == 1
    # Keys are per user: another user's identical key is a different request.
    partner = login(users["PARTNER"])
    assert post(partner, "/api/v1/payments", body(invoice), key="pay-1").status_code == 201
    assert Payment.objects.count() == 2


def test_refused_request_is_not_remembered(login, users, invoice):
    api = login(users["BILLING"])
    bad = body(invoice)
    bad["reference"] = ""
    response = post(api, "/api/v1/payments", bad, key="k-2")
    assert response.status_code == 409
    assert (
        response.json()["error"]["message"] == "reference: a check payment needs the check number"
    )
    assert not IdempotentRequest.objects.exists()
    assert post(api, "/api/v1/payments", body(invoice), key="k-2").status_code == 201


def test_api_allocation_over_balance_409(login, users, invoice):
    api = login(users["BILLING"])
    data = body(invoice, amount=40_000)
    data["allocations"] = [{"invoice_id": invoice.pk, "amount_cents": 35_000}]
    response = post(api, "/api/v1/payments", data)
    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        f"allocations: $350.00 exceeds the balance due on invoice {invoice} ($300.00)"
    )
    assert not Payment.objects.exists()


def test_trust_balances_and_disbursement_flow(login, users, make_user, now):
    matter = MatterFactory(attorney=users["ATTORNEY"], paralegal=users["PARALEGAL"])
    deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W",
        amount_cents=600_000,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )
    api = login(users["PARALEGAL"])
    req = {
        "matter_id": matter.pk,
        "payee": "USCIS",
        "amount_cents": 460_00,
        "purpose": "FILING_FEE",
        "method": "CHECK",
    }
    created = post(api, "/api/v1/trust/disbursements", req, key="d-1")
    assert created.status_code == 201, created.content
    assert post(api, "/api/v1/trust/disbursements", req, key="d-1").json() == created.json()
    assert Disbursement.objects.count() == 1
    d_id = created.json()["id"]
    approver = login(users["ATTORNEY"])
    approved = post(approver, f"/api/v1/trust/disbursements/{d_id}/approve", {})
    assert approved.status_code == 200
    assert approved.json()["status"] == "POSTED"
    balances = approver.get("/api/v1/trust/balances").json()["results"]
    assert balances[0]["balance_cents"] == 600_000 - 46_000


def test_api_approval_by_requester_refused(login, users, now):
    matter = MatterFactory()
    deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W",
        amount_cents=100_000,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )
    api = login(users["PARTNER"])
    req = {
        "matter_id": matter.pk,
        "payee": "USCIS",
        "amount_cents": 10_000,
        "purpose": "FILING_FEE",
        "method": "CHECK",
    }
    d_id = post(api, "/api/v1/trust/disbursements", req).json()["id"]
    response = post(api, f"/api/v1/trust/disbursements/{d_id}/approve", {})
    assert response.status_code == 409
    assert (
        response.json()["error"]["message"]
        == "approver: the requester cannot approve their own disbursement"
    )
