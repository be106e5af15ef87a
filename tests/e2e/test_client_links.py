"""Links a client receives, opened from outside any session: the trust receipt email's link on
the live server's address (SITE_URL) opens the receipt PDF without signing in; an altered
link shows a finished page with a 404, at desktop and phone widths."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def test_receipt_email_link_opens_the_pdf_without_signing_in(browser, page, live_server, settings):
    from caseledger.core.tests.pdf_text import pdf_text
    from caseledger.matters.tests.factories import make_matter
    from caseledger.trust.services import deposit_record

    settings.SITE_URL = live_server.url
    matter = make_matter()
    deposit = deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Northwind Analytics Inc.",
        reference="FW-20261001",
        amount_cents=1_500_000,
        received_date=date(2026, 10, 1),
        actor=None,
        now=timezone.now(),  # the link's age runs on the wall clock
    )
    body = next(m.body for m in mail.outbox if deposit.receipt_number in m.subject)
    link = re.search(r"https?://\S+", body).group(0)
    assert link.startswith(f"{live_server.url}/trust/receipts/")

    anonymous = browser.new_context()  # no cookies: the client's own browser
    try:
        response = anonymous.request.get(link)
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        text = pdf_text(response.body())
        assert deposit.receipt_number in text
        assert "Deposited to your trust account $15,000.00" in text
    finally:
        anonymous.close()

    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        response = page.goto(link[:-20] + "x" * 8 + link[-12:])
        assert response.status == 404
        assert page.locator("h1").inner_text() == "Receipt link not valid"
        page.screenshot(path=str(SHOTS / f"receipt-link-invalid-{width}.png"), full_page=True)
