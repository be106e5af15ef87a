"""The product's heart, in a real browser: a paralegal advances an H-1B matter to "prepare
filing"; the trigger drafts the filing invoice; the partner finds it in the review queue,
approves and issues it; the PDF downloads; the email with the PDF attached arrives at a real SMTP
server started here (aiosmtpd)."""

from __future__ import annotations

import email
import socket
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from caseledger.billing.models import Invoice
from caseledger.billing.tests.factories import advance_fees, build_world
from caseledger.matters.services import matter_stage_advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_inbox(settings: Any) -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def test_stage_to_issued_invoice_with_pdf_and_email(
    users: dict[str, Any], login_page: Any, live_server: Any, smtp_inbox: Inbox, tmp_path: Any
) -> None:
    world = build_world(users)
    matter = world.matter
    for code in ("lca_filed", "petition_prepared"):
        matter_stage_advance(matter=matter, stage=code, actor=world.paralegal, now=world.now)

    # The paralegal advances the matter to "Prepare filing" on the matter page.
    page = login_page("paralegal")
    page.goto(f"{live_server.url}/matters/{matter.pk}/")
    page.select_option("#id_stage", label="Prepare filing")
    page.click("#advance-form button[type=submit]")
    page.wait_for_selector("text=moved to Prepare filing")
    draft = Invoice.objects.get(matter=matter)
    assert draft.status == "IN_REVIEW"
    page.click("text=Log out")

    # The partner finds the draft in the review queue and approves it.
    page = login_page("partner")
    page.goto(f"{live_server.url}/billing/review/")
    row = page.locator("tr", has_text=f"Draft #{draft.pk}")
    assert "$6,280.00" in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_selector("h1:has-text('Draft #')")
    assert page.get_by_role("cell", name="USCIS I-129 filing fee").is_visible()
    # Not advanced yet: the draft says issuing waits for the firm's payment to USCIS.
    assert "USCIS I-129 filing fee" in page.locator("#fee-advance-needed").inner_text()
    page.click("button:has-text('Approve')")
    page.wait_for_selector("text=Approved.")
    # The firm paid the USCIS fees from operating (a fee advance, ADR 011: recorded on the
    # Government fees page, covered by the fee-path tests), so the invoice can bill them.
    advance_fees(draft, actor=world.billing, now=world.now)
    page.click("button:has-text('Issue invoice')")
    page.wait_for_selector("text=Issued. The PDF is stored")
    assert page.locator("h1").inner_text().startswith("Invoice 2026-")
    issued = Invoice.objects.get(pk=draft.pk)
    assert issued.status == "ISSUED"

    # The PDF downloads, byte for byte the stored one.
    with page.expect_download() as download_info:
        page.click("#pdf-link")
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert download.suggested_filename == f"invoice-{issued.number}.pdf"
    assert target.read_bytes() == bytes(issued.pdf.content)

    # The email left through the real SMTP server, with the PDF attached and the payment link.
    assert len(smtp_inbox.messages) == 1
    recipients, message = smtp_inbox.messages[0]
    assert recipients == ["ap@northwind.example"]
    assert message["Subject"] == f"Invoice {issued.number} from Your Immigration Law Firm"
    parts = list(message.walk())
    body = next(p for p in parts if p.get_content_type() == "text/plain").get_payload(decode=True)
    assert b"/billing/i/" in body
    attachment = next(p for p in parts if p.get_content_type() == "application/pdf")
    assert attachment.get_filename() == f"invoice-{issued.number}.pdf"
    assert attachment.get_payload(decode=True) == bytes(issued.pdf.content)
    page.reload()
    assert page.locator("text=Sent").first.is_visible()
