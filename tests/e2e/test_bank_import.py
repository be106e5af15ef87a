"""Browser journey for bank statements: billing records the IOLTA account, imports a camt.053
file (the job runs and the page shows the result), then a first CSV file from the operating
account is mapped with a preview and imported; uploading the camt.053 file again is refused."""

from __future__ import annotations

import pytest

from caseledger.banking.tests.factories import FIXTURES

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_import_camt_and_map_a_csv(page, live_server, users, login_page):
    from caseledger.banking.models import BankAccount, StatementLine
    from caseledger.core.models import Firm

    Firm.objects.update_or_create(id=1, defaults={"two_factor_enforced": False})
    login_page(users["BILLING"].username)
    page.goto(f"{live_server.url}/banking/")
    page.click("text=New bank account")
    page.fill("#id_name", "IOLTA trust")
    page.fill("#id_bank_name", "Example Bank")
    page.fill("#id_number", "4400123456")
    page.select_option("#id_ledger_account", label="1010 Trust bank (IOLTA)")
    page.check("input[value=CAMT053]")
    page.click("text=Create bank account")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "IOLTA trust"

    camt = str(FIXTURES / "camt053_v02_two_statements.xml")
    page.set_input_files("#id_file", camt)
    page.click("text=Upload and import")
    page.wait_for_load_state()
    assert "5 new lines from 5 in the file" in page.content()
    assert page.locator("text=STMT-2026-03-B").count() == 1
    assert StatementLine.objects.count() == 5

    page.click("text=Back to IOLTA trust")
    page.set_input_files("#id_file", camt)
    page.click("text=Upload and import")
    page.wait_for_load_state()
    assert "this file was already imported into IOLTA trust" in page.content()
    assert StatementLine.objects.count() == 5

    page.goto(f"{live_server.url}/banking/accounts/new/")
    page.fill("#id_name", "Operating")
    page.fill("#id_bank_name", "Example Bank")
    page.fill("#id_number", "4400987654")
    page.select_option("#id_ledger_account", label="1000 Operating bank")
    page.click("text=Create bank account")
    page.wait_for_load_state()
    page.set_input_files("#id_file", str(FIXTURES / "csv_ambiguous_dates.csv"))
    page.click("text=Upload and import")
    page.wait_for_load_state()
    assert "read in more than one way" in page.content()
    page.select_option("#id_date_format", "%m/%d/%Y")
    page.click("button[name=preview]")
    page.wait_for_load_state()
    assert page.locator("td", has_text="2026-05-06").count() == 1  # the third row, May 6
    page.click("button[name=confirm]")
    page.wait_for_load_state()
    assert "3 new lines from 3 in the file" in page.content()
    operating = BankAccount.objects.get(name="Operating")
    assert operating.csv_mapping["date_format"] == "%m/%d/%Y"
