"""The training guides' screenshots (docs/guides/<guide>.md, images in docs/guides/img/).

Each role of the demo firm walks its guide's steps in a real browser, through the pages, fields
and buttons the guide names, and a screenshot of the page's main column is saved at every step
as docs/guides/img/<guide>-<step>.png (1280 px viewport, quantized to a small palette). A page,
field or button the guide relies on that is gone fails here, so the guides cannot go stale;
``tests/test_guides_docs.py`` checks that every screenshot declared below is shown by its guide
and that every image a guide shows exists. ``make guides`` runs this test and refreshes the images.

The roles walk in order: the partner approves a draft that billing then issues, and the credit
note billing requests is on the invoice billing just issued.
"""

from __future__ import annotations

import io
import os
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "guides" / "img"
VIEWPORT = {"width": 1280, "height": 900}
MAX_HEIGHT = 1100  # a screenshot shows the top of a long page, where its controls are
COLOURS = 64

# Every screenshot each guide shows, in the order the walk takes them.
SCREENSHOTS = {
    "partner": [
        "review-queue",
        "approve-draft",
        "credit-note-approval",
        "reconciliations",
        "review-and-sign",
    ],
    "billing": [
        "approved-invoices",
        "issue-invoice",
        "record-deposit",
        "retainer-recorded",
        "new-credit-note",
        "credit-note-requested",
        "matching-workbench",
        "match-or-resolve",
        "reconcile-operating",
        "month-prepared",
    ],
    "intake": ["matters", "record-time", "matter-trust"],
    "operations": ["board", "trust", "payments"],
    "admin": [
        "people",
        "firm-settings",
        "trust-settings",
        "credit-approval-rules",
        "reconciliation-settings",
    ],
    "client": ["home", "invoices", "trust", "credits"],
}
DEMO_LOGIN = {
    "partner": "partner",
    "billing": "billing",
    "intake": "paralegal",
    "operations": "operations",
    "admin": "admin",
    "client": "client",
}


class Walk:
    """One role's walk: its page, the live server, and the screenshots taken."""

    def __init__(self, browser: Any, base: str, guide: str, out: Path) -> None:
        from playwright.sync_api import expect

        self.expect = expect
        self.base = base
        self.guide = guide
        self.out = out
        self.taken: list[str] = []
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self._login(DEMO_LOGIN[guide])

    def _login(self, username: str) -> None:
        from caseledger.core.demo import DEMO_PASSWORD

        page = self.page
        page.goto(f"{self.base}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/login/" not in page.url, f"{username} could not sign in"

    def open(self, path: str, heading: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None, path
        assert response.status == 200, f"{path}: {response.status}"
        self.expect(self.page.locator("h1").first).to_contain_text(heading)

    def menu(self, label: str, heading: str) -> None:
        """Open ``label`` in the menu (the guides say "Open X in the menu")."""
        nav = self.page.locator("nav[aria-label=Main], nav[aria-label=Portal]")
        nav.get_by_role("link", name=label, exact=True).click()
        self.page.wait_for_load_state()
        self.expect(self.page.locator("h1").first).to_contain_text(heading)

    def button(self, name: str) -> Any:
        """The one control (button or button-styled link) named ``name`` in the main column."""
        control = self.page.locator("main").get_by_role("button", name=name, exact=True)
        if control.count() == 0:
            control = self.page.locator("main").get_by_role("link", name=name, exact=True)
        self.expect(control.first).to_be_visible()
        return control.first

    def guide_link(self, anchor: str, guide: str | None = None) -> None:
        """The page's "Guide" link opens the section that explains it."""
        link = self.page.locator("a.guide-link")
        self.expect(link).to_have_attribute("href", f"/help/{guide or self.guide}/#{anchor}")

    def shot(self, step: str) -> None:
        from PIL import Image

        assert step in SCREENSHOTS[self.guide], f"{self.guide}-{step} is not declared"
        self.page.wait_for_load_state()
        box = self.page.locator("main").bounding_box()
        assert box is not None
        # The main column stretches to the window; its content may end well before.
        content_bottom = self.page.evaluate(
            "() => Math.max(...[...document.querySelector('main').children]"
            ".map(e => e.getBoundingClientRect().bottom + window.scrollY))"
        )
        clip = {
            "x": box["x"],
            "y": box["y"],
            "width": min(box["width"], VIEWPORT["width"] - box["x"]),
            "height": min(content_bottom - box["y"] + 24, box["height"], MAX_HEIGHT),
        }
        png = self.page.screenshot(clip=clip, full_page=True, animations="disabled")
        image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=COLOURS)
        image.save(self.out / f"{self.guide}-{step}.png", optimize=True)
        self.taken.append(step)

    def close(self) -> None:
        self.context.close()
        assert self.taken == SCREENSHOTS[self.guide], (self.guide, self.taken)


def partner(w: Walk) -> None:
    page = w.page
    # The first invoices: approve a draft from the review queue.
    w.menu("Review queue", "Review queue")
    w.button("All partners").click()
    page.wait_for_load_state()
    w.guide_link("first-invoices")
    w.button("Approve selected")
    w.shot("review-queue")
    # One billing can issue as soon as it is approved (its government fees need no advance).
    ready = page.locator("main table tbody tr").filter(has_not=page.locator(".advance-badge"))
    ready.locator("a", has_text="Draft #").first.click()
    page.wait_for_load_state()
    w.shot("approve-draft")
    w.button("Approve").click()
    page.wait_for_load_state()
    w.expect(page.locator("h1")).to_contain_text("Approved")
    # Issuing a credit note: approve the one billing requested.
    w.menu("Credit notes", "Credit notes")
    w.guide_link("issuing-a-credit-note")
    # One without a refund: a refund waits for the client's authorization in the portal first.
    waiting = page.locator("main table tbody tr", has_text="Waiting for partner approval")
    no_refund = [r for r in waiting.all() if not r.locator("td").last.inner_text().strip()]
    assert no_refund, "no credit note without a refund waits for approval in the demo"
    no_refund[0].locator("a").first.click()
    page.wait_for_load_state()
    w.expect(page.locator("main")).to_contain_text("Waiting for partner approval")
    w.button("Approve and issue")
    w.button("Reject")
    w.shot("credit-note-approval")
    w.button("Approve and issue").click()
    page.wait_for_load_state()
    w.expect(page.locator("h1")).to_contain_text("Credit note CN-")
    # Closing a month: review and sign the trust account's prepared month.
    w.menu("Reconciliations", "Reconciliations")
    w.guide_link("closing-a-month")
    w.shot("reconciliations")
    page.locator("main table a", has_text="Prepared").first.click()
    page.wait_for_load_state()
    w.expect(page.locator("#record-status")).to_have_text("Prepared, waiting for review")
    w.button("Review and sign")
    w.shot("review-and-sign")


def billing(w: Walk) -> None:
    page = w.page
    # The first invoices: issue what the partner approved.
    w.menu("Invoices", "Invoices")
    page.select_option("#id_status", label="Approved")
    w.button("Filter").click()
    page.wait_for_load_state()
    w.shot("approved-invoices")
    page.locator("main table tbody a").first.click()
    page.wait_for_load_state()
    w.button("Issue invoice")
    w.shot("issue-invoice")
    w.button("Issue invoice").click()
    page.wait_for_load_state()
    number = re.search(r"Invoice (\S+)", page.locator("h1").inner_text())
    assert number, (page.locator("h1").inner_text(), page.locator("main").inner_text()[:1500])
    # Processing a retainer: record the client's wire into trust.
    w.menu("Trust", "Client trust")
    w.button("Record deposit").click()
    page.wait_for_load_state()
    w.expect(page.locator("h1")).to_have_text("Record trust deposit")
    w.guide_link("processing-a-retainer")
    matter = page.locator("#id_matter option").nth(1)
    client = matter.inner_text().split(" · ")[1]
    page.select_option("#id_matter", matter.get_attribute("value"))
    page.select_option("#id_method", label="Wire")
    page.fill("#id_payer", client)
    page.fill("#id_reference", "FW-RETAINER-0001")
    page.fill("#id_amount", "3,500.00")
    w.shot("record-deposit")
    w.button("Record deposit").click()
    page.wait_for_load_state()
    w.expect(page.locator("#trust-balance")).to_be_visible()
    w.shot("retainer-recorded")
    # Issuing a credit note on the invoice just issued.
    w.menu("Credit notes", "Credit notes")
    w.button("New credit note").click()
    page.wait_for_load_state()
    w.guide_link("issuing-a-credit-note")
    page.fill("#id_invoice", number.group(1))
    page.select_option("#id_reason_code", label="Courtesy discount")
    page.fill("#id_reason_text", "Goodwill discount agreed with the client")
    page.fill("#id_amount", "100.00")
    w.shot("new-credit-note")
    w.button("Create credit note").click()
    page.wait_for_load_state()
    w.expect(page.locator("h1")).to_contain_text(re.compile(r"Credit note (CN-|request #)"))
    w.shot("credit-note-requested")
    # Reconciling a bank deposit: the trust account's matching workbench.
    w.menu("Bank accounts", "Bank accounts")
    page.locator("main table a", has_text="IOLTA").first.click()
    page.wait_for_load_state()
    w.button("Matching").click()
    page.wait_for_load_state()
    w.guide_link("reconciling-a-bank-deposit")
    w.expect(page.locator("main")).to_contain_text("Statement lines to match")
    w.shot("matching-workbench")
    w.button("Match or resolve").click()
    page.wait_for_load_state()
    w.button("Match")
    w.button("Resolve")
    w.shot("match-or-resolve")
    # Closing a month: prepare the operating account's month for a partner's signature.
    w.menu("Reconciliations", "Reconciliations")
    w.guide_link("closing-a-month")
    row = page.locator("main table tr", has_text="Operating")
    row.get_by_role("link", name="Reconcile", exact=True).click()
    page.wait_for_load_state()
    w.button("Prepare")
    w.shot("reconcile-operating")
    w.button("Prepare").click()
    page.wait_for_load_state()
    w.expect(page.locator("#record-status")).to_have_text("Prepared, waiting for review")
    w.shot("month-prepared")


def intake(w: Walk) -> None:
    page = w.page
    w.menu("Matters", "Matters")
    w.shot("matters")
    # The first invoices are built from the time recorded on the matter.
    w.menu("Time entry", "Time and expenses")
    form = page.locator("form", has=page.get_by_role("button", name="Record time"))
    form.locator("#id_matter").select_option(index=1)
    form.locator("#id_hours").fill("1.5")
    form.locator("#id_narrative").fill("Prepared the I-130 evidence checklist with the client")
    w.shot("record-time")
    w.button("Record time").click()
    page.wait_for_load_state()
    w.expect(page.locator("main")).to_contain_text("Prepared the I-130 evidence checklist")
    # Processing a retainer: see it arrive on the matter's trust ledger before filing.
    w.menu("Trust", "Client trust")
    w.button("Disbursements")
    w.shot("matter-trust")


def operations(w: Walk) -> None:
    w.menu("Reports", "")
    w.page.locator("nav.tabs").get_by_role("link", name="Operations dashboard").click()
    w.page.wait_for_load_state()
    w.expect(w.page.locator("h1")).to_contain_text("Operations dashboard")
    w.expect(w.page.locator("main")).to_contain_text("Reconciliation, prepare to sign")
    w.shot("board")
    w.menu("Trust", "Client trust")
    w.shot("trust")
    w.menu("Payments", "Payments")
    w.button("Export CSV")
    w.shot("payments")


def admin(w: Walk) -> None:
    w.menu("People", "People")
    w.button("Invite a person")
    w.shot("people")
    w.menu("Firm settings", "Firm settings")
    w.expect(w.page.locator("#id_invoice_number_format")).to_be_visible()
    w.shot("firm-settings")
    w.menu("Trust", "Client trust")
    w.page.get_by_role("link", name="Trust settings").click()
    w.expect(w.page.locator("h1")).to_have_text("Trust settings")
    w.expect(w.page.locator("#id_low_balance_threshold")).to_be_visible()
    w.shot("trust-settings")
    w.menu("Credit notes", "Credit notes")
    w.button("Approval rules").click()
    w.expect(w.page.locator("h1")).to_have_text("Credit note approval rules")
    w.shot("credit-approval-rules")
    w.menu("Reconciliations", "Reconciliations")
    w.button("Settings").click()
    w.expect(w.page.locator("h1")).to_have_text("Reconciliation settings")
    w.expect(w.page.locator("#id_signoff_due_days")).to_be_visible()
    w.shot("reconciliation-settings")


def client(w: Walk) -> None:
    w.open("/portal/", "My cases")
    w.guide_link("first-invoices")
    w.shot("home")
    w.menu("Invoices and payments", "Invoices and payments")
    w.button("Pay selected invoices online")
    w.shot("invoices")
    w.menu("Trust account", "Trust account")
    w.shot("trust")
    w.menu("Credits and refunds", "Credits and refunds")
    w.shot("credits")


WALKS = {
    "partner": partner,
    "billing": billing,
    "intake": intake,
    "operations": operations,
    "admin": admin,
    "client": client,
}


def _shipped_case_types() -> None:
    """An earlier transactional test's flush emptied the case types migration 0003 ships."""
    from importlib import import_module

    from django.apps import apps as django_apps

    import_module("caseledger.matters.migrations.0003_seed_case_types").seed(django_apps, None)


def test_each_role_walks_its_guide_and_the_screenshots_are_saved(browser, live_server, tmp_path):
    """``make guides`` (CASELEDGER_GUIDES_WRITE=1) saves the screenshots into docs/guides/img;
    ``make test`` walks the same steps into a scratch folder, so a run leaves the tree clean (the
    demo's dates differ each run) and still fails when a page, menu item or button has gone."""
    from caseledger.core import guides

    out = IMG_DIR if os.environ.get("CASELEDGER_GUIDES_WRITE") == "1" else tmp_path

    assert list(WALKS) == list(SCREENSHOTS) == list(guides.GUIDES)
    _shipped_case_types()
    call_command("seed_demo", stdout=StringIO())
    out.mkdir(parents=True, exist_ok=True)
    for name, walk in WALKS.items():
        w = Walk(browser, live_server.url, name, out)
        walk(w)
        # The guide itself, served in the app with its screenshots.
        w.open(f"/help/{name}/", "")
        images = w.page.locator("article.guide img")
        assert images.count() == len(SCREENSHOTS[name])
        for i in range(images.count()):
            assert w.page.evaluate("img => img.naturalWidth", images.nth(i).element_handle()) > 0
        w.close()
    assert sorted(p.name for p in out.glob("*.png")) == sorted(
        f"{name}-{step}.png" for name, steps in SCREENSHOTS.items() for step in steps
    )
    total = sum(p.stat().st_size for p in out.glob("*.png"))
    assert total < 3_000_000, f"screenshots take {total} bytes"
