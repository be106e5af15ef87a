"""A business date outside 1990-2100 (a payment dated year 1, a slip of 20260) is refused with
a message naming the field, through the form pages and the API alike, and nothing is recorded;
birth dates follow their own rule (1900 to today)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing.models import TimeEntry
from caseledger.billing.tests.factories import build_world
from caseledger.clients import services as clients
from caseledger.clients.exceptions import ClientError
from caseledger.core.exceptions import ApplicationError
from caseledger.ledger.models import JournalEntry
from caseledger.payments.models import Payment
from caseledger.payments.tests.factories import MatterFactory
from caseledger.trust.models import TrustDeposit

pytestmark = pytest.mark.django_db

OUTSIDE = ["0001-01-01", "1989-12-31", "2101-01-01"]


def _message(value: str) -> str:
    """As the form shows it: under the field, without the field's prefix."""
    return f"{value} is outside the dates this firm&#x27;s books accept (1990-01-01 to 2100-12-31)."


def _api_refusal_ok(message: str, field: str, value: str) -> bool:
    """The API names the field and the bound it broke: the schema's own rule (422 before any
    service runs) or, where a route takes the date as free text, the books' rule."""
    bound = "1990-01-01" if value < "1990" else "2100-12-31"
    return message.startswith(f"{field}: ") and bound in message


def _post_json(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("value", OUTSIDE)
def test_payment_form_and_api_refuse_a_date_outside_the_books(login, users, value):
    matter = MatterFactory()
    web = login(users["BILLING"])
    page = web.post(
        reverse("payments:record"),
        {
            "client": matter.client.pk,
            "method": "ACH",
            "payer": "Acme",
            "reference": "A1",
            "received_date": value,
            "amount": "50.00",
            "allocation": "none",
        },
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="id_received_date-errors"' in html
    assert _message(value) in html
    api = _post_json(
        web,
        "/api/v1/payments",
        {
            "client_id": matter.client.pk,
            "method": "ACH",
            "payer": "Acme",
            "reference": "A1",
            "amount_cents": 5_000,
            "received_date": value,
        },
    )
    assert api.status_code == 422, api.content
    assert _api_refusal_ok(api.json()["error"]["message"], "received_date", value), api.content
    assert api.json()["error"]["field"] == "received_date"
    assert not Payment.objects.exists()
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("value", OUTSIDE)
def test_trust_deposit_form_and_api_refuse_a_date_outside_the_books(login, users, value):
    matter = MatterFactory()
    web = login(users["BILLING"])
    page = web.post(
        reverse("trust:deposit_new"),
        {
            "matter": matter.pk,
            "method": "WIRE",
            "payer": "Acme",
            "reference": "W1",
            "received_date": value,
            "amount": "500.00",
        },
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="id_received_date-errors"' in html
    assert _message(value) in html
    api = _post_json(
        web,
        "/api/v1/trust/deposits",
        {
            "matter_id": matter.pk,
            "method": "WIRE",
            "payer": "Acme",
            "reference": "W1",
            "amount_cents": 50_000,
            "received_date": value,
        },
    )
    assert api.status_code == 422, api.content
    assert _api_refusal_ok(api.json()["error"]["message"], "received_date", value), api.content
    assert not TrustDeposit.objects.exists()
    ok = _post_json(
        web,
        "/api/v1/trust/deposits",
        {
            "matter_id": matter.pk,
            "method": "WIRE",
            "payer": "Acme",
            "reference": "W1",
            "amount_cents": 50_000,
            "received_date": "2026-10-01",
        },
    )
    assert ok.status_code == 201, ok.content
    assert TrustDeposit.objects.get().received_date == date(2026, 10, 1)


@pytest.mark.parametrize("value", ["0001-01-01", "2101-01-01"])
def test_time_entry_form_and_api_refuse_a_date_outside_the_books(users, login, value):
    world = build_world(users)
    web = login(world.attorney)
    page = web.post(
        reverse("billing:time_entry_new"),
        {
            "matter": world.matter.pk,
            "work_date": value,
            "hours": "1.2",
            "activity_code": "A103",
            "narrative": "Draft letter",
            "billable": "on",
        },
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="id_work_date-errors"' in html
    assert _message(value) in html
    api = _post_json(
        web,
        "/api/v1/billing/time-entries",
        {
            "matter_id": world.matter.pk,
            "work_date": value,
            "hours": "1.2",
            "activity_code": "A103",
            "narrative": "Draft letter",
        },
    )
    assert api.status_code == 422, api.content
    assert _api_refusal_ok(api.json()["error"]["message"], "work_date", value), api.content
    assert not TimeEntry.objects.exists()


def test_birth_dates_go_back_to_1900_not_to_year_one(now):
    person = clients.client_create(
        actor=None,
        now=now,
        name="Rosa Delgado",
        kind="PERSON",
        client_type="PRIVATE",
        date_of_birth=date(1931, 5, 4),
    )
    assert person.date_of_birth == date(1931, 5, 4)
    with pytest.raises(ClientError, match=r"^date_of_birth: cannot be before 1900-01-01"):
        clients.client_update(client=person, actor=None, now=now, date_of_birth=date(1, 1, 1))


def test_the_ledger_refuses_an_entry_dated_outside_the_books(now):
    from caseledger.ledger import accounts
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    with pytest.raises(ApplicationError, match=r"^entry_date: 0001-01-01 is outside"):
        entry_post(
            kind=EntryKind.ADJUSTMENT,
            entry_date=date(1, 1, 1),
            memo="x",
            lines=[
                PostingLine(accounts.OPERATING_BANK, 100),
                PostingLine(accounts.FEE_REVENUE, -100),
            ],
            actor=None,
            now=now,
        )
