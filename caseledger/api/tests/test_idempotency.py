"""Every API POST honours ``Idempotency-Key``: the routes are discovered from the API itself,
so a new POST route without a request below fails ``test_every_post_route_has_a_case``.

For each route: a first request with a key succeeds; the same key and body get the same stored
answer (``Idempotent-Replayed: true``) without a second write; the same key with another body
is a 409 naming the header."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from caseledger.api.api import bound_operations
from caseledger.api.idempotency import HEADER, KEY_REUSED, MARK, REPLAYED_HEADER
from caseledger.api.models import IdempotentRequest
from caseledger.core import clock

pytestmark = pytest.mark.django_db


def post_routes() -> list[str]:
    return sorted("/api/v1" + path for path, op in bound_operations() if "POST" in op.methods)


@dataclass
class Case:
    role: str
    path: str  # with ids filled in
    body: dict[str, Any] = field(default_factory=dict)
    other_body: dict[str, Any] = field(default_factory=lambda: {"unrelated": 1})
    multipart: bool = False


def _world(users: dict[str, Any]) -> Any:
    from caseledger.billing.tests.factories import build_world

    return build_world(users)


def _clients(users: Any, now: Any) -> Case:
    body = {"name": "Ada Lovelace", "kind": "PERSON", "client_type": "PRIVATE"}
    return Case("PARTNER", "/api/v1/clients", body, {**body, "name": "Grace Hopper"})


def _matters(users: Any, now: Any) -> Case:
    matter = _world(users).matter
    body = {
        "client_id": matter.client_id,
        "case_type": matter.case_type.code,
        "beneficiary_id": matter.beneficiary_id,
    }
    return Case("PARTNER", "/api/v1/matters", body, {**body, "title": "Another"})


def _advance(users: Any, now: Any) -> Case:
    world = _world(users)
    stages = list(world.matter.case_type.stages.order_by("position", "id"))
    current = world.matter.current_stage_id
    later = next(s for s in stages if s.pk != current and s.position > stages[0].position)
    return Case(
        "PARTNER",
        f"/api/v1/matters/{world.matter.pk}/advance",
        {"stage": later.code, "allow_skip": True},
        {"stage": later.code, "allow_skip": True, "note": "other"},
    )


def _in_review(users: Any) -> Any:
    from caseledger.billing import services

    world = _world(users)
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    return invoice


def _approve(users: Any, now: Any) -> Case:
    return Case("PARTNER", f"/api/v1/billing/invoices/{_in_review(users).pk}/approve")


def _issue(users: Any, now: Any) -> Case:
    from caseledger.billing.tests.factories import approved_draft

    invoice = approved_draft(_world(users))
    return Case("BILLING", f"/api/v1/billing/invoices/{invoice.pk}/issue")


def _time(users: Any, now: Any) -> Case:
    world = _world(users)
    body = {
        "matter_id": world.matter.pk,
        "work_date": "2026-11-02",
        "hours": "1",
        "activity_code": "A103",
        "narrative": "Drafted the petition letter",
    }
    return Case("PARTNER", "/api/v1/billing/time-entries", body, {**body, "hours": "2"})


def _payments(users: Any, now: Any) -> Case:
    from caseledger.payments.tests.factories import MatterFactory, issued_invoice

    invoice = issued_invoice(matter=MatterFactory(), cents=30_000, now=now)
    body = {
        "client_id": invoice.client_id,
        "method": "CHECK",
        "payer": "Acme Corp",
        "reference": "1001",
        "received_date": "2026-11-02",
        "amount_cents": 10_000,
    }
    return Case("BILLING", "/api/v1/payments", body, {**body, "amount_cents": 5_000})


def _funded_matter(users: Any, now: Any) -> Any:
    from caseledger.payments.tests.factories import MatterFactory
    from caseledger.trust.services import deposit_record

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
    return matter


def _disbursements(users: Any, now: Any) -> Case:
    matter = _funded_matter(users, now)
    body = {
        "matter_id": matter.pk,
        "payee": "USCIS",
        "amount_cents": 46_000,
        "purpose": "FILING_FEE",
        "method": "CHECK",
    }
    return Case("PARALEGAL", "/api/v1/trust/disbursements", body, {**body, "payee": "DOL"})


def _disbursement_approve(users: Any, now: Any) -> Case:
    from caseledger.trust.services import disbursement_request

    matter = _funded_matter(users, now)
    d = disbursement_request(
        matter=matter,
        payee="USCIS",
        amount_cents=46_000,
        purpose="FILING_FEE",
        method="CHECK",
        reference="",
        memo="",
        actor=users["PARALEGAL"],
        # Requested today: the API approves on the real clock, and a request expires (30 days).
        now=clock.now(),
    )
    return Case("ATTORNEY", f"/api/v1/trust/disbursements/{d.pk}/approve")


def _statements(users: Any, now: Any) -> Case:
    from caseledger.banking.tests.factories import trust_bank_account

    account = trust_bank_account(now)
    return Case(
        "BILLING", f"/api/v1/banking/accounts/{account.pk}/statements", {}, {}, multipart=True
    )


def _deposits(users: Any, now: Any) -> Case:
    from caseledger.payments.tests.factories import MatterFactory

    matter = MatterFactory()
    body = {
        "matter_id": matter.pk,
        "method": "WIRE",
        "payer": "Acme Corp",
        "reference": "W-77",
        "amount_cents": 250_000,
        "received_date": "2026-10-01",
    }
    return Case("BILLING", "/api/v1/trust/deposits", body, {**body, "amount_cents": 1_000})


def _matches(users: Any, now: Any) -> Case:
    from caseledger.banking.tests.factories import trust_bank_account

    account = trust_bank_account(now)
    return Case(
        "BILLING",
        f"/api/v1/banking/accounts/{account.pk}/matches",
        {"accept_all": True},
        {"accept_all": True, "note": "again"},
    )


def _ledes_import(users: Any, now: Any) -> Case:
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "billing/tests/fixtures/ledes98b_spec_sample.txt"
    text = sample.read_text(encoding="ascii")
    return Case("BILLING", "/api/v1/billing/ledes/import", {"text": text}, {"text": text + "\n"})


def _ledes_export(users: Any, now: Any) -> Case:
    from caseledger.billing import services
    from caseledger.billing.tests.factories import advance_fees
    from caseledger.clients.models import Client
    from caseledger.core.models import Firm

    world = _world(users)
    Client.objects.filter(pk=world.matter.client_id).update(ledes_required=True)
    Firm.objects.filter(id=1).update(taxpayer_id="94-3170425")
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    advance_fees(invoice, actor=world.billing, now=world.now)
    invoice = services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    day = str(invoice.issue_date)
    body = {"client_id": world.matter.client_id, "start": day, "end": day}
    return Case("BILLING", "/api/v1/billing/ledes/export", body, {**body, "start": "2026-01-01"})


CASES: dict[str, Callable[[Any, Any], Case]] = {
    "/api/v1/clients": _clients,
    "/api/v1/matters": _matters,
    "/api/v1/matters/{matter_id}/advance": _advance,
    "/api/v1/billing/invoices/{invoice_id}/approve": _approve,
    "/api/v1/billing/invoices/{invoice_id}/issue": _issue,
    "/api/v1/billing/time-entries": _time,
    "/api/v1/payments": _payments,
    "/api/v1/trust/disbursements": _disbursements,
    "/api/v1/trust/disbursements/{disbursement_id}/approve": _disbursement_approve,
    "/api/v1/banking/accounts/{account_id}/statements": _statements,
    "/api/v1/banking/accounts/{account_id}/matches": _matches,
    "/api/v1/trust/deposits": _deposits,
    "/api/v1/billing/ledes/import": _ledes_import,
    "/api/v1/billing/ledes/export": _ledes_export,
}


def test_every_post_route_has_a_case_and_the_wrapper():
    routes = post_routes()
    assert routes == sorted(CASES), "POST routes without an idempotency case: " + ", ".join(
        sorted(set(routes) ^ set(CASES))
    )
    for path, operation in bound_operations():
        if "POST" in operation.methods:
            assert getattr(operation.view_func, MARK, False), path


def test_every_post_documents_the_header(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path in post_routes():
        params = schema["paths"][path]["post"].get("parameters", [])
        assert any(p["name"] == HEADER and p["in"] == "header" for p in params), path


def _send(http: Any, case: Case, body: dict[str, Any], key: str) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key}
    if case.multipart:
        from caseledger.banking.tests.factories import fixture_bytes

        content = fixture_bytes("camt053_v02_two_statements.xml")
        if body:
            content = content.replace(b"</Document>", b"<!-- other --></Document>")
        data = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("m.xml", content)})
        return http.generic(
            "POST", case.path + "?dry_run=true", data, content_type=MULTIPART_CONTENT, **headers
        )
    return http.post(case.path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("route", sorted(CASES))
def test_post_route_replays_the_first_answer_and_refuses_another_body(
    route, users, login, now, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    case = CASES[route](users, now)
    http = login(users[case.role])
    first = _send(http, case, case.body, "key-1")
    assert 200 <= first.status_code < 300, first.content
    assert IdempotentRequest.objects.count() == 1
    again = _send(http, case, case.body, "key-1")
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again[REPLAYED_HEADER] == "true"
    other = _send(http, case, case.other_body or {"other": True}, "key-1")
    assert other.status_code == 409, other.content
    assert other.json()["error"] == {
        "code": "idempotency_conflict",
        "message": KEY_REUSED,
        "field": HEADER,
    }
    assert IdempotentRequest.objects.count() == 1


def test_a_key_with_spaces_or_too_long_is_refused(users, login):
    http = login(users["PARTNER"])
    body = json.dumps({"name": "Ada", "kind": "PERSON", "client_type": "PRIVATE"})
    for key in ("has space", "x" * 201, ""):
        response = http.post(
            "/api/v1/clients", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert response.status_code == 422, key
        assert response.json()["error"]["field"] == HEADER
    assert not IdempotentRequest.objects.exists()
