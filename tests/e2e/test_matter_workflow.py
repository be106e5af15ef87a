"""Browser journey: a paralegal creates a corporate client with a beneficiary and an H-1B matter,
advances it to "prepare filing", sees the deadline task, and a held matter refuses to advance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseledger.core.choices import Role
from caseledger.matters.models import Matter
from caseledger.matters.services import matter_hold_set
from caseledger.matters.tests.factories import seed_case_types

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_paralegal_runs_an_h1b_matter(page, login_page, live_server, make_user):
    seed_case_types()
    make_user(role=Role.PARTNER, username="pat_partner", first_name="Pat", last_name="Partner")
    make_user(role=Role.PARALEGAL, username="lena", first_name="Lena", last_name="Fischer")
    login_page("lena")

    # Corporate client.
    page.click("nav >> text=Clients")
    page.click("text=New client")
    page.fill("#id_name", "Northwind Analytics Inc.")
    page.select_option("#id_kind", "COMPANY")
    page.select_option("#id_client_type", "CORPORATE")
    page.fill("#id_email", "immigration@northwind.example")
    page.fill("#id_city", "San Francisco")
    page.click("button:has-text('Create client')")
    page.wait_for_selector("h1:has-text('Northwind Analytics Inc.')")

    # Beneficiary.
    page.click("text=Add beneficiary")
    page.fill("#id_name", "Rahul Mehta")
    page.select_option("#id_relationship", "EMPLOYEE")
    page.fill("#id_a_number", "A201234567")
    page.fill("#id_passport_number", "Z1234567")
    page.select_option("#id_passport_country", "IN")
    page.click("button:has-text('Add beneficiary')")
    page.wait_for_selector("td:has-text('Rahul Mehta')")
    assert "A201234567" not in page.content()  # masked for a paralegal

    # H-1B matter.
    page.click("text=Open matter")
    page.select_option("#id_case_type", label="H-1B cap petition")
    page.select_option("#id_beneficiary", label="Rahul Mehta")
    page.click("button:has-text('Open matter')")
    page.wait_for_selector("text=opened at Intake")
    matter = Matter.objects.get()
    assert matter.paralegal.username == "lena"

    # Advance stage by stage to "prepare filing" (the form offers the next stage).
    for expected in ("LCA filed", "Petition prepared", "Prepare filing"):
        page.click("button:has-text('Advance stage')")
        page.wait_for_selector(f".message-success:has-text('moved to {expected}')")
    assert page.locator(".timeline li.current").inner_text().startswith("Prepare filing")

    # A filing-window deadline inside the lead time opens a task the paralegal sees.
    due = timezone.localdate() + timedelta(days=10)
    page.select_option("#id_kind", "FILING_WINDOW")
    page.fill("#id_due_date", due.isoformat())
    page.fill("#id_description", "Cap filing window closes")
    page.click("button:has-text('Add deadline')")
    page.wait_for_selector("text=A reminder task is open")
    page.click("nav >> text=My tasks")
    task_row = page.locator("table.data tbody tr", has_text="Filing window on")
    assert task_row.count() == 1
    assert matter.number in task_row.inner_text()

    # Collections puts the matter on hold: the advance is refused with a clear message.
    matter_hold_set(
        matter=matter, actor=None, reason="Invoice 90+ days overdue", now=timezone.now()
    )
    page.click(f"a:has-text('{matter.number}')")
    page.wait_for_selector("text=On hold for new work")
    page.click("button:has-text('Advance stage')")
    error = page.locator(".errorlist, .error-summary").first
    error.wait_for()
    assert "is on hold for new work (Invoice 90+ days overdue)" in page.content()
    matter.refresh_from_db()
    assert matter.current_stage.code == "prepare_filing"
    page.screenshot(path="var/e2e-matter-held.png", full_page=True)
