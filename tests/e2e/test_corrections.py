"""Browser journey for corrections and the form helper: billing records a trust deposit (a bad
amount first: the error under the field, the input kept), then reverses it from its page; a
payment page offers its reversal; the time page offers to edit unbilled work. Screenshots at
1366 and 390 px wide go to $SHOTS_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("SHOTS_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_deposit_error_then_reversal_from_its_page(page, live_server, login_page, users, now):
    from caseledger.core.models import Firm
    from caseledger.ledger.selectors import client_trust_balance
    from caseledger.payments.services import payment_record
    from caseledger.payments.tests.factories import MatterFactory, issued_invoice
    from caseledger.trust.models import TrustDeposit

    Firm.objects.update_or_create(id=1, defaults={"two_factor_enforced": False})
    matter = MatterFactory()
    login_page("billing")
    page.goto(f"{live_server.url}/trust/deposits/new/?matter={matter.pk}")
    page.select_option("#id_method", "CHECK")
    page.fill("#id_payer", "Acme Corp")
    page.fill("#id_amount", "12,50x")
    page.click("main button.primary")
    page.wait_for_load_state()
    error = page.locator("#id_amount-errors").inner_text()
    assert "amount:" not in error.lower()
    assert page.input_value("#id_payer") == "Acme Corp"
    assert page.locator("#id_reference-errors").count() == 0
    _shot(page, "deposit-form-errors")

    page.fill("#id_amount", "1,250.00")
    page.fill("#id_reference", "1044")
    page.click("main button.primary")
    page.wait_for_load_state()
    deposit = TrustDeposit.objects.get()
    page.click(f"a:has-text('{deposit.receipt_number}')")
    page.wait_for_load_state()
    page.fill("#id_reason", "Check returned unpaid")
    _shot(page, "deposit-page")
    page.click("text=Reverse deposit")
    page.wait_for_load_state()
    # $1,250.00 is above the firm's default reversal threshold: a partner approves it.
    assert "Reversal awaiting approval" in page.locator("h1").inner_text()
    assert page.locator("text=Approve and reverse").count() == 0  # billing cannot approve
    _shot(page, "deposit-reversal-waiting")
    from caseledger.trust.corrections import deposit_reversal_approve

    deposit_reversal_approve(
        reversal=deposit.reversals.get(), approver=users["PARTNER"], now=timezone.now()
    )
    page.reload()
    assert "Reversed" in page.locator("h1").inner_text()
    assert client_trust_balance(client=matter.client, matter=matter) == 0
    _shot(page, "deposit-reversed")

    invoice = issued_invoice(matter=matter, cents=30_000, now=now)
    payment = payment_record(
        client=matter.client,
        method="CHECK",
        payer="Acme Corp",
        reference="1045",
        amount_cents=30_000,
        received_date=invoice.issue_date,
        actor=None,
        now=now,
    )
    page.goto(f"{live_server.url}/payments/{payment.pk}/")
    assert page.locator("text=Reverse this payment").count() == 1
    _shot(page, "payment-page")

    from caseledger.billing.models import TimeEntry

    entry = TimeEntry.objects.create(
        timekeeper=users["BILLING"],
        matter=matter,
        work_date=invoice.issue_date,
        minutes=60,
        activity_code="A103",
        narrative="Prepared the trust statement",
        rate_cents=20_000,
        amount_cents=20_000,
        created_by=users["BILLING"],
        created_at=now,
    )
    page.goto(f"{live_server.url}/billing/time/")
    page.click(f"a[href='/billing/time/{entry.pk}/edit/']")
    page.wait_for_load_state()
    page.fill("#id_hours", "")
    page.click("text=Save correction")
    page.wait_for_load_state()
    assert page.locator("#id_hours-errors").inner_text() == "This field is required."
    _shot(page, "time-edit-errors")
    page.fill("#id_hours", "1.5")
    page.click("text=Save correction")
    page.wait_for_load_state()
    entry.refresh_from_db()
    assert entry.minutes == 90
