"""Pages: record a payment with manual allocation, the trust dashboard, apply trust, the
disbursement queue with two partners, receipts and statements."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from caseledger.core.models import Firm
from caseledger.ledger.selectors import client_trust_balance
from caseledger.payments.models import Payment
from caseledger.payments.selectors import invoice_balance_due
from caseledger.payments.tests.factories import MatterFactory, issued_invoice
from caseledger.trust.models import Disbursement, TrustSettings
from caseledger.trust.services import deposit_record

pytestmark = pytest.mark.django_db


def fund(matter, now, cents=100_000):
    return deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W",
        amount_cents=cents,
        received_date=date(2026, 10, 1),
        actor=None,
        now=now,
    )


def test_record_payment_form_manual_allocation(login, users, now):
    matter = MatterFactory()
    a = issued_invoice(matter=matter, cents=30_000, now=now, day=date(2026, 9, 1))
    b = issued_invoice(matter=matter, cents=20_000, now=now, day=date(2026, 10, 1))
    web = login(users["BILLING"])
    url = reverse("payments:record")
    page = web.get(url, {"client": matter.client.pk})
    assert str(a) in page.content.decode()
    assert str(b) in page.content.decode()
    response = web.post(
        url,
        {
            "client": matter.client.pk,
            "method": "CHECK",
            "payer": "Acme",
            "reference": "552",
            "received_date": "2026-11-02",
            "amount": "400.00",
            "allocation": "manual",
            f"alloc_{a.pk}": "",
            f"alloc_{b.pk}": "200.00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    payment = Payment.objects.get()
    assert payment.unapplied_cents == 20_000
    assert invoice_balance_due(a) == 30_000
    assert invoice_balance_due(b) == 0


def test_record_payment_form_shows_one_clear_message(login, users, now):
    matter = MatterFactory()
    inv = issued_invoice(matter=matter, cents=10_000, now=now)
    web = login(users["BILLING"])
    response = web.post(
        reverse("payments:record"),
        {
            "client": matter.client.pk,
            "method": "ACH",
            "payer": "Acme",
            "reference": "x",
            "received_date": "2026-11-02",
            "amount": "50.00",
            "allocation": "manual",
            f"alloc_{inv.pk}": "60.00",
        },
    )
    assert response.status_code == 200
    assert (
        "allocations: total $60.00 exceeds the payment amount $50.00" in response.content.decode()
    )
    assert not Payment.objects.exists()


def test_trust_dashboard_lists_positions_with_bounded_queries(
    login, users, now, django_assert_max_num_queries
):
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 150_000})
    for _ in range(3):
        fund(MatterFactory(), now)
    web = login(users["BILLING"])
    with django_assert_max_num_queries(30):
        page = web.get(reverse("trust:dashboard"))
    text = page.content.decode()
    assert "$3,000.00" in text
    assert text.count("badge bad") == 3


def test_payments_list_bounded_queries(login, users, now, django_assert_max_num_queries):
    from caseledger.payments import services

    matter = MatterFactory()
    for i in range(5):
        services.payment_record(
            client=matter.client,
            method="ACH",
            payer="Acme",
            reference=f"A{i}",
            amount_cents=1_000,
            received_date=date(2026, 11, 2),
            actor=None,
            now=now,
        )
    web = login(users["BILLING"])
    with django_assert_max_num_queries(15):
        assert web.get(reverse("payments:list")).status_code == 200
    csv = web.get(reverse("payments:list"), {"format": "csv"}).content.decode()
    assert csv.count("\n") == 6


def test_apply_trust_page(login, users, now):
    matter = MatterFactory()
    fund(matter, now)
    inv = issued_invoice(matter=matter, cents=40_000, now=now)
    web = login(users["BILLING"])
    url = reverse("trust:apply_to_invoice", args=[inv.pk])
    assert "$1,000.00" in web.get(url).content.decode()
    assert web.post(url, {"amount": "500.00"}).status_code == 200  # over the unpaid amount
    assert invoice_balance_due(inv) == 40_000
    assert web.post(url, {"amount": ""}).status_code == 302
    assert invoice_balance_due(inv) == 0
    assert client_trust_balance(client=matter.client, matter=matter) == 60_000


def test_disbursement_above_threshold_waits_for_two_partners(login, users, make_user, now):
    Firm.objects.update_or_create(id=1, defaults={"disbursement_dual_approval_cents": 50_000})
    matter = MatterFactory()
    fund(matter, now, 300_000)
    web = login(users["BILLING"])
    web.post(
        reverse("trust:disbursement_new"),
        {
            "matter": matter.pk,
            "payee": "U.S. Department of Homeland Security",
            "amount": "1,710.00",
            "purpose": "FILING_FEE",
            "method": "CHECK",
            "reference": "chk 1044",
        },
    )
    d = Disbursement.objects.get()
    assert d.required_approvals == 2
    web = login(users["PARTNER"])
    web.post(reverse("trust:disbursement_approve", args=[d.pk]))
    d.refresh_from_db()
    assert d.status == "REQUESTED"
    assert client_trust_balance(client=matter.client, matter=matter) == 300_000
    web.post(reverse("trust:disbursement_approve", args=[d.pk]))  # same partner again: refused
    assert d.approvals.count() == 1
    web = login(make_user(role="PARTNER", username="second-partner"))
    web.post(reverse("trust:disbursement_approve", args=[d.pk]))
    d.refresh_from_db()
    assert d.status == "POSTED"
    assert client_trust_balance(client=matter.client, matter=matter) == 300_000 - 171_000


def test_receipt_and_statement_pdfs(login, users, now):
    matter = MatterFactory()
    deposit = fund(matter, now)
    web = login(users["BILLING"])
    receipt = web.get(reverse("trust:receipt_pdf", args=[deposit.pk]))
    assert receipt["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")
    statement = web.get(reverse("trust:statement_pdf", args=[matter.client.pk]))
    assert statement.content.startswith(b"%PDF")


def test_client_sees_only_own_receipts(login, users, now, make_user):
    mine = MatterFactory()
    mine.client.portal_users.add(users["CLIENT"])
    other = MatterFactory()
    web = login(users["CLIENT"])
    assert web.get(reverse("trust:receipt_pdf", args=[fund(mine, now).pk])).status_code == 200
    assert web.get(reverse("trust:receipt_pdf", args=[fund(other, now).pk])).status_code == 403


def test_home_panels_for_lawyer_and_billing(login, users, now):
    matter = MatterFactory(attorney=users["ATTORNEY"])
    fund(matter, now, 250_000)
    from caseledger.trust.services import disbursement_request

    disbursement_request(
        matter=matter,
        payee="USCIS",
        amount_cents=10_000,
        purpose="FILING_FEE",
        method="CHECK",
        actor=users["PARALEGAL"],
        now=now,
    )
    text = login(users["ATTORNEY"]).get("/").content.decode()
    assert "Disbursements waiting for your approval" in text
    assert "USCIS" in text
    text = login(users["BILLING"]).get("/").content.decode()
    assert "Client trust" in text
    assert "$2,500.00" in text


def test_an_approver_who_already_approved_sees_approved_by_you(login, users, make_user, now):
    Firm.objects.update_or_create(id=1, defaults={"disbursement_dual_approval_cents": 50_000})
    matter = MatterFactory()
    fund(matter, now, 300_000)
    login(users["BILLING"]).post(
        reverse("trust:disbursement_new"),
        {
            "matter": matter.pk,
            "payee": "U.S. Department of Homeland Security",
            "amount": "1,710.00",
            "purpose": "FILING_FEE",
            "method": "CHECK",
            "reference": "chk 1044",
        },
    )
    d = Disbursement.objects.get()
    approve_url = reverse("trust:disbursement_approve", args=[d.pk])
    web = login(users["PARTNER"])
    before = web.get(reverse("trust:disbursements")).content.decode()
    assert approve_url in before
    assert "Approved by you" not in before
    web.post(approve_url)
    after = web.get(reverse("trust:disbursements")).content.decode()
    assert "Approved by you" in after
    assert approve_url not in after
    # The second partner still gets the button.
    other = login(make_user(role="PARTNER", username="second-partner"))
    page = other.get(reverse("trust:disbursements")).content.decode()
    assert approve_url in page
    assert "Approved by you" not in page


@pytest.mark.parametrize("role", ["OPERATIONS", "ATTORNEY", "PARALEGAL"])
def test_trust_pages_hide_what_the_role_may_not_do(login, users, role):
    matter = MatterFactory(attorney=users["ATTORNEY"], paralegal=users["PARALEGAL"])
    web = login(users[role])
    dashboard = web.get(reverse("trust:dashboard")).content.decode()
    assert reverse("trust:deposit_new") not in dashboard
    assert reverse("trust:settings") not in dashboard
    page = web.get(reverse("trust:matter", args=[matter.pk])).content.decode()
    assert "Record deposit" not in page
    assert reverse("trust:threshold", args=[matter.pk]) not in page


def test_billing_sees_record_deposit_but_not_trust_settings(login, users):
    page = login(users["BILLING"]).get(reverse("trust:dashboard")).content.decode()
    assert "Record deposit" in page
    assert reverse("trust:settings") not in page


def test_an_approval_whose_posting_is_refused_stands_with_a_warning(login, users, now):
    """One approval completes a disbursement, but posting is refused (the money became
    disputed meanwhile): the approval is kept (APPROVED, nothing moved) and the page says so
    with a warning, not an error."""
    from django.contrib.messages import constants, get_messages

    from caseledger.core import clock
    from caseledger.trust.services import disbursement_request, dispute_hold_create

    matter = MatterFactory()
    fund(matter, now, 100_000)
    d = disbursement_request(
        matter=matter,
        payee="Courier Co",
        amount_cents=40_000,
        purpose="THIRD_PARTY",
        method="CHECK",
        reference="chk 7",
        actor=users["BILLING"],
        now=clock.now(),  # the view approves at the clock's time (a request expires)
    )
    dispute_hold_create(
        matter=matter,
        amount_cents=100_000,
        reason="client disputes",
        actor=users["BILLING"],
        now=clock.now(),
    )
    web = login(users["PARTNER"])
    response = web.post(reverse("trust:disbursement_approve", args=[d.pk]))
    d.refresh_from_db()
    assert d.status == "APPROVED"
    assert d.approvals.count() == 1
    assert client_trust_balance(client=matter.client, matter=matter) == 100_000
    shown = [(m.level, str(m)) for m in get_messages(response.wsgi_request)]
    assert shown[0] == (constants.SUCCESS, f"{d.number} approved.")
    assert shown[1][0] == constants.WARNING
    assert shown[1][1].startswith(f"{d.number} not paid out of trust yet: ")


def test_home_approvals_panel_lists_only_what_waits_on_this_partner(login, users, make_user, now):
    """The panel shows requested disbursements someone else asked for that the partner has not
    approved, with how many approvals each has of how many it needs."""
    from caseledger.trust.services import disbursement_approve, disbursement_request

    Firm.objects.update_or_create(id=1, defaults={"disbursement_dual_approval_cents": 50_000})
    partner, other = users["PARTNER"], make_user(role="PARTNER", username="partner-two")
    matter = MatterFactory()
    fund(matter, now, 900_000)

    def request(payee, cents, actor):
        return disbursement_request(
            matter=matter,
            payee=payee,
            amount_cents=cents,
            purpose="FILING_FEE",
            method="CHECK",
            actor=actor,
            now=now,
        )

    request("Waiting Payee", 100_000, users["PARALEGAL"])  # dual: 0 of 2
    half = request("Half Payee", 100_000, users["PARALEGAL"])
    disbursement_approve(disbursement=half, approver=other, now=now)  # 1 of 2, not by partner
    mine = request("Approved Payee", 100_000, users["PARALEGAL"])
    disbursement_approve(disbursement=mine, approver=partner, now=now)
    request("Own Payee", 10_000, partner)
    text = login(partner).get("/").content.decode()
    panel = text.split("Disbursements waiting for your approval", 1)[1].split("</section>", 1)[0]
    assert re.search(r"Waiting Payee .*?\(0 of 2\)", panel)
    assert re.search(r"Half Payee .*?\(1 of 2\)", panel)
    assert "Approved Payee" not in panel
    assert "Own Payee" not in panel
