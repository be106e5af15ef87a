"""Browser journey: a partner opens the partner dashboard from the home page, drills from DSO to
the invoices behind it, downloads them as XLSX and the workbook holds what the page shows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from caseledger.core import clock
from caseledger.core.choices import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_partner_drills_from_dso_to_the_invoices_and_exports_them(
    page, login_page, live_server, make_user, tmp_path
):
    from caseledger.credits.tests import factories as F

    partner = make_user(role=Role.PARTNER, username="priya", first_name="Priya", last_name="Raman")
    now = clock.now()
    today = clock.firm_date(now)
    matter = F.matter(partner=partner)
    a = F.invoice(matter_obj=matter, cents=100_000, issued=today - timedelta(days=20), now=now)
    F.pay(invoice_obj=a, cents=40_000, day=today - timedelta(days=5), now=now)
    b = F.invoice(matter_obj=matter, cents=50_000, issued=today - timedelta(days=40), now=now)

    login_page("priya")
    page.click("a:has-text('Open the partner dashboard')")
    page.wait_for_selector("h1:has-text('Partner dashboard')")
    ar_shown = page.text_content(".stat:has-text('A/R at period end') .value").strip()
    assert ar_shown == "$1,100.00"

    page.click("#kpi-dso_countback_days a")
    page.wait_for_selector("h1:has-text('Invoices with a balance at period end')")
    shown = {}
    for row in page.query_selector_all("table.data tbody tr"):
        cells = [c.inner_text().strip() for c in row.query_selector_all("td")]
        shown[cells[0]] = cells[4]
    assert shown == {a.number: "$600.00", b.number: "$500.00"}
    assert page.text_content("table.data tfoot .num").strip() == ar_shown

    with page.expect_download() as info:
        page.click("a:has-text('Download XLSX')")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".xlsx"
    sheet = load_workbook(path).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header == ("Invoice", "Issued", "Client", "Matter", "Amount")
    exported = {r[0]: Decimal(str(r[4])) for r in rows}
    assert exported == {
        number: Decimal(amount.strip("$").replace(",", "")) for number, amount in shown.items()
    }
    assert sum(exported.values()) == Decimal("1100.00")
