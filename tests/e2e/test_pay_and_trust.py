"""Browser journeys for payments and trust:

1. a client opens the emailed payment link and pays in the sandbox: the invoice is paid;
2. billing records a retainer; an invoice is issued for an auto-apply client; the matter's
   trust balance drops by the invoice amount;
3. a disbursement above the firm's threshold waits for two partners.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _two_factor_off():
    from caseledger.core.models import Firm

    Firm.objects.update_or_create(id=1, defaults={"two_factor_enforced": False})


def test_client_pays_emailed_link_in_sandbox(page, live_server, users, now, settings):
    from caseledger.billing.tests.factories import build_world, issued_invoice
    from caseledger.payments.selectors import invoice_balance_due

    settings.SITE_URL = live_server.url
    world = build_world(users, now=now)
    invoice = issued_invoice(world)  # billing issues it and emails the payment link
    total = invoice.total_cents
    assert total > 0
    body = next(m.body for m in mail.outbox if invoice.number in m.subject)
    link = re.search(r"https?://\S+/billing/i/\S+", body).group(0).rstrip(".")

    page.goto(link)
    page.click("text=Pay online")
    page.wait_for_load_state()
    due = f"${total / 100:,.2f}"
    assert page.locator("#balance-due").inner_text() == due
    page.click(f"text=Pay {due} online")
    page.wait_for_url(re.compile(r".*/pay/sandbox/.*"))
    page.click("text=Pay (card approved)")
    page.wait_for_load_state()
    assert page.locator("#checkout-status").inner_text() == "Paid"
    page.click("text=Return to")
    page.wait_for_load_state()
    assert "Paid in full" in page.content()
    assert invoice_balance_due(invoice) == 0


def test_retainer_then_auto_apply_drops_trust_by_invoice(page, live_server, login_page, users, now):
    from caseledger.billing.tests.factories import approved_draft, build_world
    from caseledger.ledger.selectors import client_trust_balance

    _two_factor_off()
    world = build_world(users, now=now)
    matter = world.matter
    matter.client.auto_apply_trust = True
    matter.client.save()
    draft = approved_draft(world)

    login_page("billing")
    page.goto(f"{live_server.url}{reverse('trust:deposit_new')}?matter={matter.pk}")
    page.select_option("#id_method", "WIRE")
    page.fill("#id_payer", matter.client.name)
    page.fill("#id_reference", "FW-20261001")
    page.fill("#id_received_date", "2026-10-01")
    page.fill("#id_amount", "20,000.00")
    page.click("main button.primary")
    page.wait_for_load_state()
    assert page.locator("#trust-balance").inner_text() == "$20,000.00"

    page.goto(f"{live_server.url}{reverse('billing:invoice_detail', args=[draft.pk])}")
    page.click("text=Issue invoice")
    page.wait_for_load_state()
    draft.refresh_from_db()
    assert draft.status == "ISSUED"
    left = 20_000_00 - draft.total_cents
    page.goto(f"{live_server.url}{reverse('trust:matter', args=[matter.pk])}")
    assert page.locator("#trust-balance").inner_text() == f"${left / 100:,.2f}"
    assert client_trust_balance(client=matter.client, matter=matter) == left


def test_disbursement_above_threshold_waits_for_two_partners(
    page, live_server, login_page, make_user, now
):
    from caseledger.core.models import Firm
    from caseledger.payments.tests.factories import MatterFactory
    from caseledger.trust.models import Disbursement
    from caseledger.trust.services import deposit_record

    _two_factor_off()
    Firm.objects.filter(id=1).update(disbursement_dual_approval_cents=100_000)
    lena = make_user(role="PARALEGAL", username="lena")
    make_user(role="PARTNER", username="priya")
    make_user(role="PARTNER", username="daniel")
    matter = MatterFactory(paralegal=lena)
    deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W",
        amount_cents=600_000,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )

    login_page("lena")
    page.goto(f"{live_server.url}{reverse('trust:disbursement_new')}?matter={matter.pk}")
    page.fill("#id_payee", "U.S. Department of Homeland Security")
    page.fill("#id_amount", "2,805.00")
    page.select_option("#id_purpose", "FILING_FEE")
    page.select_option("#id_method", "CHECK")
    page.fill("#id_reference", "chk 2217")
    page.click("main button.primary")
    page.wait_for_load_state()
    d = Disbursement.objects.get()
    assert d.required_approvals == 2
    row = page.locator(f"#disbursement-{d.number}")
    assert "0 of 2" in row.inner_text()

    for partner in ("priya", "daniel"):
        page.click("text=Log out")
        login_page(partner)
        page.goto(f"{live_server.url}{reverse('trust:disbursements')}")
        row = page.locator(f"#disbursement-{d.number}")
        row.locator("button:has-text('Approve')").click()
        page.wait_for_load_state()
        d.refresh_from_db()
        if partner == "priya":
            assert d.status == "REQUESTED"
            assert "1 of 2" in page.locator(f"#disbursement-{d.number}").inner_text()
    d.refresh_from_db()
    assert d.status == "POSTED"
    assert "approved and paid out of trust" in page.content()
