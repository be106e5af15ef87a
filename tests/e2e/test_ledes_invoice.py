"""A LEDES e-billing client's invoice in a real browser: the partner finds the draft in the
review queue with its LEDES badge, approves and issues it, and downloads the LEDES 1998B file,
whose header and invoice line are checked field by field."""

from __future__ import annotations

from typing import Any

import pytest

from caseledger.billing import services
from caseledger.billing.models import Invoice
from caseledger.billing.tests.factories import advance_fees, build_world
from caseledger.clients.models import Client
from caseledger.core import clock
from caseledger.core.models import Firm

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = (
    "INVOICE_DATE|INVOICE_NUMBER|CLIENT_ID|LAW_FIRM_MATTER_ID|INVOICE_TOTAL|BILLING_START_DATE|"
    "BILLING_END_DATE|INVOICE_DESCRIPTION|LINE_ITEM_NUMBER|EXP/FEE/INV_ADJ_TYPE|"
    "LINE_ITEM_NUMBER_OF_UNITS|LINE_ITEM_ADJUSTMENT_AMOUNT|LINE_ITEM_TOTAL|LINE_ITEM_DATE|"
    "LINE_ITEM_TASK_CODE|LINE_ITEM_EXPENSE_CODE|LINE_ITEM_ACTIVITY_CODE|TIMEKEEPER_ID|"
    "LINE_ITEM_DESCRIPTION|LAW_FIRM_ID|LINE_ITEM_UNIT_COST|TIMEKEEPER_NAME|"
    "TIMEKEEPER_CLASSIFICATION|CLIENT_MATTER_ID[]"
)


def test_ledes_invoice_reviewed_issued_and_downloaded(
    users: dict[str, Any], login_page: Any, live_server: Any, settings: Any, tmp_path: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world = build_world(users)
    Client.objects.filter(pk=world.matter.client_id).update(ledes_required=True)
    Firm.objects.filter(id=1).update(taxpayer_id="94-3170425")
    services.time_entry_create(
        timekeeper=world.paralegal,
        matter=world.matter,
        work_date=clock.firm_date(world.now),
        hours="1.5",
        activity_code="A103",
        task_code="L210",
        narrative="Draft the employer support letter",
        actor=world.paralegal,
        now=world.now,
    )
    draft = services.invoice_draft_create(
        matter=world.matter,
        actor=world.billing,
        now=world.now,
        template=world.template,
        include_unbilled=True,
    )
    advance_fees(draft, actor=world.billing, now=world.now)
    services.invoice_submit(invoice=draft, actor=world.billing, now=world.now)

    # The partner sees the LEDES badge in the review queue and opens the draft.
    page = login_page("partner")
    page.goto(f"{live_server.url}/billing/review/")
    row = page.locator("tr", has_text=f"Draft #{draft.pk}")
    badge = row.locator(".ledes-badge")
    assert badge.inner_text() == "LEDES"
    assert "badge info" in (badge.get_attribute("class") or "")
    row.locator(f"a:has-text('Draft #{draft.pk}')").click()
    page.wait_for_selector("h1:has-text('Draft #')")
    assert "the 1998B file of this invoice validates" in page.locator("#ledes-panel").inner_text()

    page.click("button:has-text('Approve')")
    page.wait_for_selector("text=Approved.")
    page.click("button:has-text('Issue invoice')")
    page.wait_for_selector("text=Issued. The PDF is stored")
    issued = Invoice.objects.get(pk=draft.pk)
    assert issued.status == "ISSUED"

    with page.expect_download() as download_info:
        page.click("a:has-text('LEDES 1998B')")
    download = download_info.value
    assert download.suggested_filename == f"invoice-{issued.number}.ledes.txt"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text(encoding="ascii").splitlines()
    assert lines[0] == "LEDES1998B[]"
    assert lines[1] == HEADER
    rows = [line.removesuffix("[]").split("|") for line in lines[2:] if line]
    assert len(rows) == issued.lines.count()
    for fields in rows:
        assert len(fields) == 24
        assert fields[0] == issued.issue_date.strftime("%Y%m%d")
        assert fields[1] == issued.number
        assert fields[4] == f"{issued.total_cents / 100:.2f}"
        assert fields[19] == "94-3170425"  # LAW_FIRM_ID: the firm's taxpayer ID
    time_row = next(f for f in rows if f[18] == "Draft the employer support letter")
    assert (time_row[9], time_row[10], time_row[14], time_row[16]) == ("F", "1.5", "L210", "A103")
    assert time_row[22] == "LA"  # a paralegal is a legal assistant in the 2014 classifications
    assert sum(round(float(f[12]) * 100) for f in rows) == issued.total_cents
