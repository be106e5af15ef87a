"""Browser journey for the monthly sign-off: billing prepares the January three-way
reconciliation of the IOLTA account (statement imported, lines matched: the match helper's
import and accept steps join this journey later), a partner reviews and signs it, and
downloads the archived PDF."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_prepare_sign_and_download(page, live_server, users, login_page):
    from caseledger.banking.models import Reconciliation
    from caseledger.banking.tests.reconciliation.helpers import january
    from caseledger.core.models import Firm
    from caseledger.core.tests.pdf_text import pdf_text

    Firm.objects.update_or_create(id=1, defaults={"two_factor_enforced": False})
    jan = january()

    login_page(users["BILLING"].username)
    page.goto(f"{live_server.url}/banking/accounts/{jan.bank.pk}/")
    page.click("text=Reconcile")
    page.fill("#id_date", "2026-01-31")
    page.click("form.inline-form button")
    page.wait_for_load_state()
    assert page.locator("#adjusted").inner_text() == "$7,115.00"
    assert page.locator("#journal").inner_text() == "$7,140.00"
    assert page.locator("#clients-total").inner_text() == "$7,140.00"
    assert page.locator("#unrecorded", has_text="Monthly service fee").count() == 1
    page.click("button:has-text('Prepare')")
    page.wait_for_load_state()
    assert "waiting for review" in page.content()
    assert page.locator("#record-status").inner_text() == "Prepared, waiting for review"

    page.context.clear_cookies()
    login_page(users["PARTNER"].username)
    page.goto(f"{live_server.url}/banking/accounts/{jan.bank.pk}/reconciliation/?date=2026-01-31")
    page.click("text=Review and sign")
    page.wait_for_load_state()
    assert page.locator("#record-status").inner_text() == "Signed"
    rec = Reconciliation.objects.get(status="SIGNED")
    assert rec.signed_by_id == users["PARTNER"].pk

    page.goto(f"{live_server.url}/banking/accounts/{jan.bank.pk}/reconciliations/")
    assert page.locator("#archive", has_text=rec.chain_hash[:16]).count() == 1
    with page.expect_download() as info:
        page.click("#archive >> text=Download")
    path = info.value.path()
    with open(path, "rb") as fh:
        text = pdf_text(fh.read())
    assert "THREE-WAY RECONCILIATION" in text
    assert rec.report_sha256 in text
