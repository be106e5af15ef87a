"""Browser journeys: billing issues a partial credit note with a reason on a card-paid invoice
and refunds part of it to the card; a partner finds an overdue matter on hold and lifts the
hold with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseledger.core.choices import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_billing_credits_part_of_a_paid_invoice_and_refunds_to_the_card(
    page, login_page, live_server, make_user
):
    from caseledger.credits.models import CreditNote, CreditRefund
    from caseledger.credits.tests import factories as F
    from caseledger.payments.models import Payment

    make_user(role=Role.BILLING, username="grace", first_name="Grace", last_name="Kim")
    now = timezone.now()
    today = timezone.localdate(now)
    invoice = F.invoice(
        matter_obj=F.matter(),
        cents=100_000,
        issued=today - timedelta(days=20),
        due=today + timedelta(days=10),
        now=now,
    )
    F.pay(
        invoice_obj=invoice,
        cents=100_000,
        day=today - timedelta(days=5),
        method="CARD",
        provider="sandbox",
        now=now,
    )

    login_page("grace")
    page.click("nav >> text=Credit notes")
    page.click("text=New credit note")
    page.fill("#id_invoice", invoice.number)
    page.select_option("#id_reason_code", "SCOPE_CHANGE")
    page.fill("#id_reason_text", "Premium processing not requested")
    page.fill("#id_amount", "300.00")
    page.fill("#id_refund_amount", "200.00")
    page.select_option("#id_refund_method", "CARD")
    page.click("button:has-text('Create credit note')")
    page.wait_for_selector("h1:has-text('Credit note CN-')")
    assert page.is_visible("text=Scope change — Premium processing not requested")
    assert page.is_visible("td:has-text('Back to the card')")

    note = CreditNote.objects.get()
    assert (note.amount_cents, note.client_credit_cents, note.refund_cents) == (
        30_000,
        30_000,
        20_000,
    )
    refund = CreditRefund.objects.get(credit_note=note)
    assert refund.method == "CARD"
    assert refund.reference.startswith("sbx_re_")
    assert Payment.objects.get().unapplied_cents == 10_000  # the rest stays as client credit

    response = page.request.get(f"{live_server.url}/credits/{note.pk}/pdf/")
    assert response.status == 200
    assert response.body()[:5] == b"%PDF-"


def test_partner_lifts_a_collections_hold_with_a_reason(page, login_page, live_server, make_user):
    from caseledger.collections.models import CollectionHold
    from caseledger.collections.services import collections_run
    from caseledger.credits.tests import factories as F

    partner = make_user(role=Role.PARTNER, username="priya", first_name="Priya", last_name="Raman")
    now = timezone.now()
    today = timezone.localdate(now)
    matter = F.matter(partner=partner)
    F.invoice(
        matter_obj=matter,
        cents=250_000,
        issued=today - timedelta(days=100),
        due=today - timedelta(days=70),
        now=now,
    )
    collections_run(run_date=today, now=now, deliver=False)
    matter.refresh_from_db()
    assert matter.hold_new_work

    login_page("priya")
    page.click("nav >> text=At-risk matters")
    # The hold's row says why the run held the matter, with the lift form beside it.
    hold = CollectionHold.objects.get(matter=matter, status="ACTIVE")
    row = page.locator("tr", has_text=matter.number).filter(has=page.locator("input[name=reason]"))
    assert hold.reason
    assert hold.reason in row.inner_text()
    row.locator("input[name=reason]").fill("Client agreed a payment plan by phone")
    row.locator("button:has-text('Lift hold')").click()
    page.wait_for_selector("text=lifted")

    hold = CollectionHold.objects.get(matter=matter)
    assert hold.status == "LIFTED"
    assert hold.lift_reason == "Client agreed a payment plan by phone"
    assert hold.lifted_by == partner
    matter.refresh_from_db()
    assert not matter.hold_new_work
