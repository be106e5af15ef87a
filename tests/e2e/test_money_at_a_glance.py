"""Browser check of the matter and client pages with money on them, at desktop (1366 px) and
phone (390 px) widths: every panel renders, nothing overflows the viewport sideways, and the
"waiting on me" page opens from the home page. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from caseledger.matters.tests.factories import seed_case_types

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)


def _world(users):
    from caseledger.billing import services as billing
    from caseledger.billing.tests.factories import build_world, issued_invoice
    from caseledger.core import clock
    from caseledger.credits.tests import factories as cf
    from caseledger.matters import services as matters

    now = timezone.now()
    today = clock.firm_date(now)  # the firm's date: UTC's is a day ahead in its evening
    world = build_world(users, now)
    matter = world.matter
    matters.matter_budget_set(
        matter=matter,
        kind="FLAT_FEE",
        amount_cents=900_000,
        reason="Engagement letter of March 3",
        actor=world.partner,
        now=now,
    )
    cf.trust_deposit(matter_obj=matter, cents=250_000, day=today, now=now)
    invoice = issued_invoice(world)
    cf.pay(invoice_obj=invoice, cents=100_000, day=today, now=now, actor=world.billing)
    billing.time_entry_create(
        timekeeper=world.attorney,
        matter=matter,
        work_date=today,
        hours=Decimal("2.5"),
        activity_code="A103",
        narrative="Draft expert opinion letter",
        actor=world.attorney,
        now=now,
    )
    draft = billing.invoice_draft_create(
        matter=matter, actor=world.billing, now=now, template=world.template
    )
    billing.invoice_submit(invoice=draft, actor=world.billing, now=now)
    return world, matter


def _shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_matter_and_client_pages_at_desktop_and_phone_width(page, login_page, live_server, users):
    seed_case_types()
    world, matter = _world(users)
    login_page(world.partner.username)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in (
            ("matter", f"/matters/{matter.pk}/"),
            ("client", f"/clients/{matter.client_id}/"),
            ("waiting", "/waiting/"),
        ):
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state()
            assert "Server Error" not in page.content()
            if name == "waiting":
                assert page.locator("a:has-text('Review draft for')").count() == 1
            else:
                assert page.locator("[data-panel='trust.balances']").count() == 1
                assert page.locator("[data-panel='payments.invoices']").count() == 1
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{name} at {width}px overflows by {overflow}px"
            _shoot(page, f"{name}-{width}")


def test_matter_picker_without_javascript(browser, live_server, users):
    """Type, Find, choose, submit: a trust deposit for one of many matters, JavaScript off."""
    from caseledger.clients.tests.factories import make_company
    from caseledger.credits.tests import factories as cf
    from caseledger.trust.models import TrustDeposit

    seed_case_types()
    partner = users["PARTNER"]
    wanted = cf.matter(client_obj=make_company(name="Zephyr Turbines"), partner=partner)
    for n in range(35):
        cf.matter(client_obj=make_company(name=f"Filler Client {n}"), partner=partner)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", users["BILLING"].username)
        page.fill("#id_password", "correct horse battery staple")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if "two-factor" in page.url:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            from tests.e2e.conftest import totp_code

            device = TOTPDevice.objects.filter(user=users["BILLING"]).order_by("-id").first()
            page.fill("#id_code", totp_code(device))
            page.click("main button.primary")
            page.wait_for_load_state()
        page.goto(f"{live_server.url}/trust/deposits/new/")
        page.fill("#id_payer", "Zephyr Turbines")
        page.fill("input[name=matter_q]", "zephyr")
        page.click("button[name=_pick][value=matter]")
        page.wait_for_load_state()
        options = page.locator("select[name=matter] option:not([value=''])")
        assert options.count() == 1
        assert "Zephyr Turbines" in options.first.inner_text()
        assert page.input_value("#id_payer") == "Zephyr Turbines"
        _shoot(page, "picker-390")
        page.select_option("select[name=matter]", str(wanted.pk))
        page.select_option("#id_method", "WIRE")
        page.fill("#id_reference", "FW-20261202-7781")
        page.fill("#id_amount", "1,500.00")
        page.click("main button[type=submit]:not([name=_pick])")
        page.wait_for_load_state()
        _shoot(page, "picker-after-390")
        assert TrustDeposit.objects.filter(matter=wanted, amount_cents=150_000).count() == 1
    finally:
        context.close()
