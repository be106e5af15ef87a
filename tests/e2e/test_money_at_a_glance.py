"""Browser check of the matter and client pages with money on them, at desktop (1366 px) and
phone (390 px) widths: every panel renders, nothing overflows the viewport sideways, and the
"waiting on me" page opens from the home page. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from caseledger.billing.db import install_sqlite_flush_guard
from caseledger.matters.tests.factories import seed_case_types

# Issued invoices' guard triggers refuse the flush's DELETE on SQLite; drop them around it.
install_sqlite_flush_guard()

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)


def _world(users):
    from caseledger.billing import services as billing
    from caseledger.billing.tests.factories import build_world, issued_invoice
    from caseledger.credits.tests import factories as cf
    from caseledger.matters import services as matters

    now = timezone.now()
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
    cf.trust_deposit(matter_obj=matter, cents=250_000, day=now.date(), now=now)
    invoice = issued_invoice(world)
    cf.pay(invoice_obj=invoice, cents=100_000, day=now.date(), now=now, actor=world.billing)
    billing.time_entry_create(
        timekeeper=world.attorney,
        matter=matter,
        work_date=now.date(),
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
