"""Browser journey for matching: billing opens the trust account's workbench, accepts every sure
suggestion at once, matches an ambiguous check by hand, and resolves the month's interest and a
bank fee (which tells them to move the fee from operating today)."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

D = date(2026, 10, 10)


def test_workbench_accept_all_manual_and_resolve(page, live_server, users, login_page, now):
    from caseledger.banking.models import LineMatch
    from caseledger.banking.parsers.base import ParsedLine
    from caseledger.banking.tests.factories import (
        import_lines,
        operating_bank_account,
        operating_posting,
    )
    from caseledger.core.models import Firm

    Firm.objects.update_or_create(id=1, defaults={"two_factor_enforced": False})
    account = operating_bank_account(now)
    lines = import_lines(
        account,
        [
            ParsedLine(D, 4_200, "Wire from Lopez", customer_reference="PAY-002042"),
            ParsedLine(D, 9_100, "Deposit"),
            ParsedLine(D, -300, "Check 1101"),
            ParsedLine(D, -300, "Check 1102"),
            ParsedLine(D, -1_500, "SERVICE FEE"),
        ],
        now,
    )
    operating_posting(4_200, D, "Payment PAY-002042 from Lopez", now)
    operating_posting(9_100, D - timedelta(days=2), "Payment PAY-002043 from Chen", now)
    operating_posting(-300, D, "Refund by check", now)
    second_check = operating_posting(-300, D, "Refund by check", now)
    operating_posting(-7_700, D - timedelta(days=75), "Refund check never cashed", now)

    login_page(users["BILLING"].username)
    page.goto(f"{live_server.url}/banking/accounts/{account.pk}/")
    page.click("text=Matching")
    page.wait_for_load_state()
    assert "reference PAY-002042 · amount · same day" in page.content()
    assert "Refund check never cashed" in page.content()  # stale
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=os.environ["SCREENSHOTS"] + "/workbench.png", full_page=True)
    page.click("text=Accept all 2 suggestions shown")
    page.wait_for_load_state()
    assert "2 lines matched." in page.content()
    assert LineMatch.objects.count() == 2

    page.goto(f"{live_server.url}/banking/lines/{lines[3].pk}/")
    page.check(f"input[name=postings][value='{second_check.pk}']")
    page.click("button:has-text('Match')")
    page.wait_for_load_state()
    assert "Line matched to 1 posting." in page.content()

    page.goto(f"{live_server.url}/banking/lines/{lines[4].pk}/")
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=os.environ["SCREENSHOTS"] + "/line.png", full_page=True)
    page.select_option("#id_kind", "OPERATING_FEE")
    page.click("button:has-text('Resolve')")
    page.wait_for_load_state()
    assert "Resolved as bank fee on the operating account." in page.content()
    assert LineMatch.objects.count() == 4
