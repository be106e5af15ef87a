"""The firm's ceiling for a single amount (one message in forms, services and the API), the
supported currencies and the currency lock."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from caseledger.billing.services.common import parse_amount
from caseledger.core import amounts, services
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import MoneyField
from caseledger.core.models import Firm
from caseledger.core.money import AMOUNT_OVER_CEILING, AmountOverCeiling, MoneyError
from caseledger.core.selectors import firm_get
from caseledger.payments import services as payments
from caseledger.payments.tests.factories import MatterFactory, issued_invoice
from caseledger.trust import services as trust
from caseledger.trust.choices import (
    DepositMethod,
    DisbursementMethod,
    DisbursementPurpose,
    TrustRequestKind,
)

pytestmark = pytest.mark.django_db

OVER = "amount: must not exceed $10,000,000.00 (the firm's limit for a single amount)"


def test_the_default_ceiling_is_ten_million_and_the_message_names_field_and_rule():
    assert firm_get().amount_ceiling_cents == 1_000_000_000
    assert OVER == AMOUNT_OVER_CEILING.format(field="amount", limit="$10,000,000.00")
    assert amounts.amount_check(1_000_000_000) == 1_000_000_000
    assert amounts.amount_check(-1_000_000_000) == -1_000_000_000
    with pytest.raises(AmountOverCeiling) as exc:
        amounts.amount_check(1_000_000_001)
    assert exc.value.message == OVER
    assert exc.value.field == "amount"
    for not_cents in (True, "100", 100.0):
        with pytest.raises(MoneyError) as bad:
            amounts.amount_check(not_cents)  # type: ignore[arg-type]
        assert bad.value.message == f"amount: minor units must be an integer (got {not_cents!r})"


def test_the_money_form_field_refuses_over_the_ceiling_with_the_same_message():
    field = MoneyField(label="amount")
    assert field.clean("10,000,000.00") == 1_000_000_000
    for text in ("10,000,000.01", "99,999,999,999", "9" * 40):
        with pytest.raises(ValidationError) as exc:
            field.clean(text)
        assert exc.value.messages == [OVER]
    with pytest.raises(ValidationError) as exc:
        field.clean("１２３")
    assert exc.value.messages == ["amount: must be an amount like 1,234.56 (got '１２３')"]


def test_every_amount_service_refuses_over_the_ceiling(now, users):
    matter = MatterFactory()
    big = 1_000_000_001
    calls = {
        "deposit": lambda: trust.deposit_record(
            client=matter.client,
            matter=matter,
            method=DepositMethod.WIRE,
            payer="Acme",
            amount_cents=big,
            received_date=date(2026, 10, 1),
            reference="W",
            actor=None,
            now=now,
        ),
        "payment": lambda: payments.payment_record(
            client=matter.client,
            method="WIRE",
            payer="Acme",
            reference="W",
            amount_cents=big,
            received_date=date(2026, 10, 1),
            actor=None,
            now=now,
        ),
        "disbursement": lambda: trust.disbursement_request(
            matter=matter,
            payee="USCIS",
            amount_cents=big,
            purpose=DisbursementPurpose.FILING_FEE,
            method=DisbursementMethod.CHECK,
            actor=users["ATTORNEY"],
            now=now,
        ),
        "trust request": lambda: trust.trust_request_create(
            client=matter.client,
            matter=matter,
            kind=TrustRequestKind.RETAINER,
            amount_cents=big,
            due_date=date(2026, 11, 30),
            actor=users["BILLING"],
            now=now,
        ),
        "billing text": lambda: parse_amount("10,000,000.01", field="amount", currency="USD"),
        "billing cents": lambda: parse_amount(big, field="amount", currency="USD"),
    }
    for name, call in calls.items():
        with pytest.raises(AmountOverCeiling) as exc:
            call()
        assert exc.value.message == OVER, name


def test_the_api_refuses_non_integer_cents_and_amounts_over_the_ceiling(login, users, now):
    invoice = issued_invoice(matter=MatterFactory(), cents=30_000, now=now)
    api = login(users["BILLING"])

    def post(amount):
        body = {
            "client_id": invoice.client_id,
            "method": "CHECK",
            "payer": "Acme Corp",
            "reference": "1001",
            "received_date": "2026-11-02",
            "amount_cents": amount,
        }
        return api.post("/api/v1/payments", data=json.dumps(body), content_type="application/json")

    for wrong in (True, "100", 1.5, None, 0, -100):
        response = post(wrong)
        assert response.status_code == 422, (wrong, response.content)
        error = response.json()["error"]
        assert error["field"] == "amount_cents"
        assert error["message"].startswith("amount_cents: ")
    # JSON Schema counts 100.0 as an integer: it is taken as 100 cents.
    whole = post(100.0)
    assert whole.status_code == 201, whole.content
    assert whole.json()["amount_cents"] == 100
    # Past the firm's ceiling (a setting, not in the schema): the records refuse it, 409.
    over = post(1_000_000_001)
    assert over.status_code == 409
    assert over.json()["error"] == {
        "code": "amount_over_ceiling",
        "message": OVER,
        "field": "amount",
    }
    assert post(10_000).status_code == 201


def test_the_ceiling_is_a_firm_setting_within_its_range(users, now):
    admin = users["ADMIN"]
    services.firm_update(actor=admin, now=now, amount_ceiling_cents=50_000)
    with pytest.raises(AmountOverCeiling) as exc:
        amounts.amount_check(50_001, field="fee")
    assert exc.value.message == (
        "fee: must not exceed $500.00 (the firm's limit for a single amount)"
    )
    for wrong in (0, -5, 10**11 + 1):
        with pytest.raises(ApplicationError) as bad:
            services.firm_update(actor=admin, now=now, amount_ceiling_cents=wrong)
        assert bad.value.field == "amount_ceiling_cents"
        assert bad.value.message.startswith(
            "amount_ceiling_cents: must be between $0.01 and $1,000,000,000.00 (got "
        )
    assert Firm.objects.get(id=1).amount_ceiling_cents == 50_000


def test_the_settings_page_edits_the_ceiling(login, users):
    from caseledger.core.tests.test_pages import firm_form

    client = login(users["ADMIN"])
    page = client.get("/settings/firm/").content.decode()
    assert 'name="amount_ceiling_cents"' in page
    assert 'value="10,000,000.00"' in page
    response = client.post("/settings/firm/", firm_form(amount_ceiling_cents="250,000.00"))
    assert response.status_code == 302
    assert Firm.objects.get(id=1).amount_ceiling_cents == 25_000_000


def test_currency_is_a_supported_code_and_fixed_once_money_is_posted(users, now):
    admin = users["ADMIN"]
    with pytest.raises(ApplicationError) as exc:
        services.firm_update(actor=admin, now=now, currency="XYZ")
    assert exc.value.message == (
        "currency: must be one of the supported ISO 4217 codes (got 'XYZ')"
    )
    services.firm_update(actor=admin, now=now, currency="JPY")  # no money yet
    assert firm_get().currency == "JPY"
    services.firm_update(actor=admin, now=now, currency="USD")
    matter = MatterFactory()
    trust.deposit_record(
        client=matter.client,
        matter=matter,
        method=DepositMethod.WIRE,
        payer="Acme",
        amount_cents=100,
        received_date=date(2026, 10, 1),
        reference="W",
        actor=None,
        now=now,
    )
    with pytest.raises(ApplicationError) as exc:
        services.firm_update(actor=admin, now=now, currency="EUR")
    assert exc.value.field == "currency"
    assert exc.value.message == (
        "currency: cannot change from USD to EUR once money has been recorded "
        "(the ledger has postings in USD)"
    )
    assert firm_get().currency == "USD"
    services.firm_update(actor=admin, now=now, currency="USD", name="Same currency is fine")


def test_the_settings_page_offers_only_supported_currencies(login, users):
    from caseledger.core.tests.test_pages import firm_form

    client = login(users["ADMIN"])
    page = client.get("/settings/firm/").content.decode()
    assert '<option value="JPY">JPY — Japanese yen</option>' in page
    response = client.post("/settings/firm/", firm_form(currency="XYZ"))
    assert response.status_code == 200
    assert "Select a valid choice. XYZ is not one of the available choices." in (
        response.content.decode()
    )
    assert firm_get().currency == "USD"


def test_amounts_format_in_the_firms_currency_on_pages(login, users, now):
    """JPY has no decimals: a trust balance of 1,234 yen shows as ¥1,234 everywhere."""
    services.firm_update(actor=users["ADMIN"], now=now, currency="JPY")
    matter = MatterFactory()
    trust.deposit_record(
        client=matter.client,
        matter=matter,
        method=DepositMethod.WIRE,
        payer="Acme",
        amount_cents=1234,
        received_date=date(2026, 10, 1),
        reference="W",
        actor=None,
        now=now,
    )
    client = login(users["ADMIN"])
    for url in ("/trust/", f"/trust/matters/{matter.pk}/", "/ledger/trial-balance/"):
        page = client.get(url).content.decode()
        assert "¥1,234" in page, url
        assert "12.34" not in page, url
