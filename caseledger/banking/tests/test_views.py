"""Banking pages as people use them: create an account, upload, map a CSV, watch progress."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from caseledger.banking.choices import ImportStatus
from caseledger.banking.models import BankAccount, StatementImport, StatementLine
from caseledger.banking.tests.factories import fixture_bytes, trust_bank_account
from caseledger.ledger.models import Account

pytestmark = pytest.mark.django_db


def test_create_edit_and_list_accounts(users: dict[str, Any], login: Any) -> None:
    client = login(users["PARTNER"])
    page = client.get(reverse("banking:account_new"))
    assert page.status_code == 200
    assert b"1010 Trust bank (IOLTA)" in page.content
    response = client.post(
        reverse("banking:account_new"),
        {
            "name": "IOLTA trust",
            "bank_name": "Example Bank",
            "number": "4400 123 456",
            "ledger_account": Account.objects.get(code="1010").pk,
            "formats": ["CAMT053", "CSV"],
        },
    )
    account = BankAccount.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("banking:account", kwargs={"pk": account.pk})
    listing = client.get(reverse("banking:accounts"))
    assert b"IOLTA trust" in listing.content
    assert "••••3456".encode() in listing.content
    assert b"4400123456" not in listing.content
    assert b"4400 123 456" not in listing.content
    response = client.post(
        reverse("banking:account_edit", kwargs={"pk": account.pk}),
        {
            "name": "IOLTA main",
            "bank_name": "Example Bank",
            "formats": ["CAMT053"],
            "is_active": "on",
            "match_window_days": "3",
            "stale_days": "45",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.formats, account.number_last4) == (
        "IOLTA main",
        ["CAMT053"],
        "3456",
    )
    assert (account.match_window_days, account.stale_days) == (3, 45)
    refused = client.post(
        reverse("banking:account_edit", kwargs={"pk": account.pk}),
        {"name": "IOLTA main", "bank_name": "Example Bank", "match_window_days": "90"},
    )
    assert refused.status_code == 200
    assert "must be 0 to 30 days (got 90)" in refused.content.decode()


def test_create_refusal_shown_under_the_field(users: dict[str, Any], login: Any) -> None:
    client = login(users["ADMIN"])
    response = client.post(
        reverse("banking:account_new"),
        {
            "name": "X",
            "bank_name": "B",
            "number": "12",
            "ledger_account": Account.objects.get(code="1000").pk,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    block = re.search(r'<ul class="errorlist" id="id_number-errors">(.*?)</ul>', html, re.S)
    assert block is not None
    assert "must have at least 4 letters or digits (got 2)" in block.group(1)
    assert "number: must" not in html
    assert 'value="X"' in html  # the input is kept
    assert not BankAccount.objects.exists()


def test_upload_camt_imports_and_shows_the_result(
    users: dict[str, Any], login: Any, now: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = trust_bank_account(now)
    client = login(users["BILLING"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("banking:import_upload", kwargs={"pk": account.pk}),
            {
                "file": SimpleUploadedFile(
                    "march.xml", fixture_bytes("camt053_v02_two_statements.xml")
                )
            },
        )
    imp = StatementImport.objects.get()
    assert response["Location"] == reverse("banking:import", kwargs={"pk": imp.pk})
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Refresh" not in page
    assert b"5 new lines from 5 in the file" in page.content
    assert b"STMT-2026-03-A" in page.content
    detail = client.get(reverse("banking:account", kwargs={"pk": account.pk}))
    assert b"Deposit slip 0042" in detail.content
    statement = imp.statements.order_by("id").first()
    page = client.get(reverse("banking:statement", kwargs={"pk": statement.pk}))
    assert b"Maria Lopez" in page.content


def test_running_import_page_reloads_itself(users: dict[str, Any], login: Any, now: Any) -> None:
    account = trust_bank_account(now)
    client = login(users["BILLING"])
    # Without the commit callbacks the job does not run: the import stays queued.
    client.post(
        reverse("banking:import_upload", kwargs={"pk": account.pk}),
        {"file": SimpleUploadedFile("march.xml", fixture_bytes("camt053_v02_two_statements.xml"))},
    )
    imp = StatementImport.objects.get()
    assert imp.status == ImportStatus.QUEUED
    page = client.get(reverse("banking:import", kwargs={"pk": imp.pk}))
    assert page["Refresh"] == "2"
    assert b"<progress" in page.content
    assert b"Reload now" in page.content


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 ...", "unknown statement format (a PDF document)"),
        (b"", "The submitted file is empty."),
    ],
)
def test_upload_refusals_are_shown_and_store_nothing(
    users: dict[str, Any], login: Any, now: Any, content: bytes, message: str
) -> None:
    account = trust_bank_account(now)
    client = login(users["BILLING"])
    response = client.post(
        reverse("banking:import_upload", kwargs={"pk": account.pk}),
        {"file": SimpleUploadedFile("s.pdf", content)},
    )
    assert response.status_code == 400
    assert message.encode() in response.content
    assert not StatementImport.objects.exists()


def test_csv_mapping_walkthrough(
    users: dict[str, Any], login: Any, now: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = trust_bank_account(now)
    client = login(users["BILLING"])
    response = client.post(
        reverse("banking:import_upload", kwargs={"pk": account.pk}),
        {"file": SimpleUploadedFile("x.csv", fixture_bytes("csv_ambiguous_dates.csv"))},
    )
    imp = StatementImport.objects.get()
    url = reverse("banking:import_mapping", kwargs={"pk": imp.pk})
    assert response["Location"] == url
    page = client.get(url)
    assert b"read in more than one way" in page.content
    assert b"03/04/2026" in page.content  # the file's first rows
    form = {
        "date": "Date",
        "date_format": "%d/%m/%Y",
        "amount": "Amount",
        "description": "Description",
    }
    preview = client.post(url, {**form, "preview": "1"})
    assert preview.status_code == 200
    assert b"2026-04-03" in preview.content  # 03/04/2026 read day first
    assert not StatementLine.objects.exists()
    bad = client.post(url, {**form, "date_format": "%Y-%m-%d", "preview": "1"})
    assert b"row 2: &#x27;01/02/2026&#x27; is not a date in the format %Y-%m-%d" in bad.content
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {**form, "confirm": "1"})
    assert done["Location"] == reverse("banking:import", kwargs={"pk": imp.pk})
    imp.refresh_from_db()
    assert (imp.status, imp.lines_added) == (ImportStatus.DONE, 3)
    # Once imported, the mapping page sends people to the import.
    assert client.get(url)["Location"] == reverse("banking:import", kwargs={"pk": imp.pk})


def test_list_page_query_count(
    users: dict[str, Any], login: Any, now: Any, django_assert_max_num_queries: Any
) -> None:
    trust_bank_account(now)
    client = login(users["ADMIN"])
    with django_assert_max_num_queries(12):
        assert client.get(reverse("banking:accounts")).status_code == 200
