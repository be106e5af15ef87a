from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from caseledger.ledger import accounts as A
from caseledger.ledger.models import Account
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import Disbursement, make_invoice, make_matter

pytestmark = pytest.mark.django_db
D = date(2026, 3, 1)


def _csv(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def books(now):
    invoice = make_invoice()
    m = invoice.matter
    H.deposit(matter=m, cents=150_000, now=now, day=date(2026, 1, 10))
    H.issue_invoice(invoice=invoice, cents=100_000, now=now, day=date(2026, 2, 1))
    H.transfer_earned(invoice=invoice, cents=100_000, now=now, day=date(2026, 2, 2))
    H.disburse(matter=m, cents=20_000, now=now, day=D, disbursement=Disbursement(3, True))
    return invoice


def test_chart_of_accounts_page_and_csv(login, users, books):
    c = login(users["BILLING"])
    page = c.get(reverse("ledger:accounts"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Trust bank (IOLTA)" in html
    assert "$300.00" in html  # trust bank: 1,500 - 1,000 - 200
    assert "Add a trust (IOLTA) bank account" not in html  # billing cannot manage
    rows = _csv(c.get(reverse("ledger:accounts") + "?format=csv"))
    assert rows[0] == [
        "code",
        "name",
        "type",
        "normal_balance",
        "trust",
        "active",
        "currency",
        "balance",
    ]
    trust = next(r for r in rows if r[0] == A.TRUST_BANK)
    assert trust[-1] == "300.00"


def test_partner_adds_a_trust_bank_account_and_deactivates_one(login, users):
    c = login(users["PARTNER"])
    response = c.post(
        reverse("ledger:trust_bank_create"),
        {"name": "IOLTA 2", "bank_name": "Chase", "account_number_last4": "9876"},
    )
    assert response.status_code == 302
    assert Account.objects.get(code="1011").bank_name == "Chase"
    bad = c.post(reverse("ledger:trust_bank_create"), {"name": "X", "code": "2000"})
    assert bad.status_code == 422
    html = bad.content.decode()
    # Under the code field, once, without its "code:" prefix (core.forms.handle_form).
    assert "<li>trust bank accounts use codes 1011 to 1099 (got &#x27;2000&#x27;)</li>" in html
    assert "code: trust bank" not in html
    c.post(reverse("ledger:account_toggle", kwargs={"code": "1011"}))
    assert not Account.objects.get(code="1011").is_active


def test_account_ledger_running_balance_date_filter_and_csv(login, users, books):
    c = login(users["PARTNER"])
    url = reverse("ledger:account_ledger", kwargs={"code": A.TRUST_BANK})
    page = c.get(url, {"date_from": "2026-02-01"})
    html = page.content.decode()
    assert "Opening balance" in html
    assert "$1,500.00" in html
    assert "$500.00" in html
    assert "$300.00" in html
    rows = _csv(c.get(url, {"format": "csv"}))
    assert [r[-1] for r in rows[1:]] == ["1500.00", "500.00", "300.00"]
    assert [r[-1] for r in _csv(c.get(url, {"format": "csv", "date_to": "2026-01-31"}))[1:]] == [
        "1500.00"
    ]
    invalid = c.get(url, {"date_from": "2026-03-01", "date_to": "2026-01-01"})
    assert "date_to: must be on or after date_from" in invalid.content.decode()


def test_account_ledger_is_paginated_with_correct_running_balance(login, users, now):
    m = make_matter()
    for i in range(105):
        H.deposit(matter=m, cents=100 + i, now=now, day=date(2026, 1, 1 + i % 28))
    c = login(users["ADMIN"])
    url = reverse("ledger:account_ledger", kwargs={"code": A.TRUST_BANK})
    page2 = c.get(url, {"page": 2})
    total = sum(100 + i for i in range(105))
    assert page2.context["rows"][-1][1] == total
    assert len(page2.context["rows"]) == 5


def test_trial_balance_page_as_of_and_csv(login, users, books):
    c = login(users["BILLING"])
    page = c.get(reverse("ledger:trial_balance"))
    assert page.context["tb"].balanced
    assert "Balanced" in page.content.decode()
    early = c.get(reverse("ledger:trial_balance"), {"as_of": "2026-01-31"})
    assert {r.account.code for r in early.context["tb"].rows} == {
        A.TRUST_BANK,
        A.CLIENT_TRUST_LIABILITY,
    }
    rows = _csv(c.get(reverse("ledger:trial_balance"), {"as_of": "2026-01-31", "format": "csv"}))
    assert rows[0] == ["code", "account", "debit", "credit"]
    assert rows[-1] == ["", "Total", "1500.00", "1500.00"]


def test_entry_detail_page_and_csv(login, users, books):
    from caseledger.ledger.models import JournalEntry

    entry = JournalEntry.objects.get(kind="TRUST_TRANSFER_EARNED")
    c = login(users["PARTNER"])
    html = c.get(reverse("ledger:entry_detail", kwargs={"entry_id": entry.pk})).content.decode()
    assert f"JE-{entry.pk}" in html
    assert books.number in html
    rows = _csv(
        c.get(reverse("ledger:entry_detail", kwargs={"entry_id": entry.pk}) + "?format=csv")
    )
    assert len(rows) == 5
    assert c.get(reverse("ledger:entry_detail", kwargs={"entry_id": 999999})).status_code == 404


def test_client_trust_pages_and_csv(login, users, books):
    c = login(users["BILLING"])
    index = c.get(reverse("ledger:trust_ledgers"))
    assert "In balance" in index.content.decode()
    assert index.context["total"] == 30_000 == index.context["trust_bank"]
    url = reverse("ledger:client_trust_ledger", kwargs={"client_id": books.client_id})
    page = c.get(url, {"matter": books.matter_id})
    assert [b for _, b in page.context["rows"]] == [150_000, 50_000, 30_000]
    rows = _csv(c.get(url, {"format": "csv"}))
    assert rows[0][-3:] == ["received", "paid out", "balance"]
    assert [r[-1] for r in rows[1:]] == ["1500.00", "500.00", "300.00"]
    assert _csv(c.get(reverse("ledger:trust_ledgers"), {"format": "csv"}))[1][-1] == "300.00"


def test_account_ledger_query_count_is_constant(login, users, now, django_assert_max_num_queries):
    m = make_matter()
    for _ in range(30):
        H.deposit(matter=m, cents=100, now=now, day=D)
    c = login(users["ADMIN"])
    with django_assert_max_num_queries(12):
        c.get(reverse("ledger:account_ledger", kwargs={"code": A.CLIENT_TRUST_LIABILITY}))


def test_api_trial_balance_accounts_and_entry(login, users, books):
    from caseledger.ledger.models import JournalEntry

    c = login(users["BILLING"])
    tb = c.get("/api/v1/ledger/trial-balance").json()
    assert tb["balanced"] is True
    assert tb["total_debit_cents"] == tb["total_credit_cents"]
    accounts = c.get("/api/v1/ledger/accounts", {"limit": 500}).json()["results"]
    assert next(a for a in accounts if a["code"] == A.TRUST_BANK)["balance_cents"] == 30_000
    entry = JournalEntry.objects.get(kind="TRUST_DEPOSIT")
    body = c.get(f"/api/v1/ledger/entries/{entry.pk}").json()
    assert sorted(p["amount_cents"] for p in body["postings"]) == [-150_000, 150_000]
    missing = c.get("/api/v1/ledger/entries/999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "entry_id: no journal entry 999999"
    assert (
        c.get("/api/v1/ledger/trial-balance", {"as_of": "2026-01-31"}).json()["total_debit_cents"]
        == 150_000
    )


def test_navigation_shows_ledger_to_billing_only_roles(login, users):
    html = login(users["BILLING"]).get("/").content.decode()
    assert "Chart of accounts" in html
    html = login(users["PARALEGAL"]).get("/").content.decode()
    assert "Chart of accounts" not in html
