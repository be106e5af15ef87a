"""The staff invoice page and list show each invoice's payment state and balance due, its
payments and adjustments (each linked), offer void only when allowed, and the list filters,
sorts and totals by the money."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from caseledger.billing.tests.factories import build_world, issued_invoice
from caseledger.credits.choices import CreditNoteStatus, ReasonCode
from caseledger.credits.models import CreditNote, WriteOff
from caseledger.credits.services import credit_note_approve, credit_note_request, write_off_request
from caseledger.credits.tests import factories as F
from caseledger.payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return build_world(users)


def _detail(client, invoice):
    response = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_unpaid_issued_invoice_offers_void_and_shows_the_balance(world, users, login):
    inv = issued_invoice(world)
    html = _detail(login(users["BILLING"]), inv)
    balance = re.search(r'id="balance-due">.*?class="value">([^<]+)<', html, re.S)
    assert balance is not None
    assert balance.group(1) == f"${inv.total_cents / 100:,.2f}"
    assert "Payments and adjustments" in html
    assert "Nothing paid, credited or written off yet." in html
    assert "Void this invoice" in html


def test_payments_and_adjustments_are_listed_and_linked_and_void_is_withdrawn(
    world, users, now, login
):
    inv = issued_invoice(world)
    total = inv.total_cents
    F.pay(invoice_obj=inv, cents=total - 10_000, day=inv.issue_date, actor=users["BILLING"])
    note = credit_note_request(
        invoice=inv,
        reason_code=ReasonCode.BILLING_ERROR,
        amount_cents=4_000,
        actor=users["BILLING"],
        now=now,
    )
    if note.status == CreditNoteStatus.PENDING_APPROVAL:
        credit_note_approve(credit_note=note, approver=users["PARTNER"], now=now)
    write_off_request(invoice=inv, reason="Small balance", actor=users["PARTNER"], now=now)
    payment = Payment.objects.get()
    note = CreditNote.objects.get()
    wo = WriteOff.objects.get()
    html = _detail(login(users["BILLING"]), inv)
    assert f'href="{reverse("payments:detail", args=[payment.pk])}">{payment.number}</a>' in html
    assert "Check 1001" in html
    assert (
        f'href="{reverse("credits:credit_note_detail", args=[note.pk])}">{note.number}</a>' in html
    )
    assert (
        f'href="{reverse("credits:write_off_detail", args=[wo.pk])}">Write-off #{wo.pk}</a>' in html
    )
    assert '<span class="badge ok">Paid</span>' in html
    assert re.search(r'id="balance-due">.*?class="value">\$0\.00<', html, re.S)
    assert "Void this invoice" not in html


def test_trust_application_is_listed(world, users, now, login):
    inv = issued_invoice(world)
    F.trust_deposit(matter_obj=inv.matter, cents=inv.total_cents, day=inv.issue_date)
    F.trust_pay(invoice_obj=inv, cents=1_000, day=inv.issue_date, actor=users["BILLING"])
    html = _detail(login(users["BILLING"]), inv)
    assert "Trust application" in html
    assert reverse("trust:matter", args=[inv.matter_id]) in html
    assert "Partly paid" in html or "Overdue" in html


def test_attorney_sees_the_rows_without_links_to_pages_they_cannot_open(world, users, login):
    inv = issued_invoice(world)
    F.pay(invoice_obj=inv, cents=1_000, day=inv.issue_date)
    payment = Payment.objects.get()
    html = _detail(login(world.attorney), inv)
    assert payment.number in html
    assert reverse("payments:detail", args=[payment.pk]) not in html


def test_list_filters_sorts_and_totals_by_payment_state(world, users, login):
    paid = issued_invoice(world)
    partly = issued_invoice(world, matter=world.new_matter())
    unpaid = issued_invoice(world, matter=world.new_matter())
    F.pay(invoice_obj=paid, cents=paid.total_cents, day=paid.issue_date)
    F.pay(invoice_obj=partly, cents=50_000, day=partly.issue_date)
    client = login(users["BILLING"])
    url = reverse("billing:invoice_list")

    html = client.get(url, {"payment_state": "paid"}).content.decode()
    assert f">{paid.number}</a>" in html
    assert f">{partly.number}</a>" not in html
    assert "All 1 invoice matching the filters" in html

    html = client.get(url, {"sort": "-balance"}).content.decode()
    order = re.findall(r">(\d{4}-\d+)</a>", html)
    assert order == [unpaid.number, partly.number, paid.number]
    assert 'aria-sort="descending"' in html
    totals = re.search(r'id="invoice-totals">(.*?)</tr>', html, re.S)
    assert totals is not None
    balance = unpaid.total_cents + partly.total_cents - 50_000
    assert f"${balance / 100:,.2f}" in totals.group(1)
    total = paid.total_cents + partly.total_cents + unpaid.total_cents
    assert f"${total / 100:,.2f}" in totals.group(1)

    html = client.get(url, {"sort": "balance"}).content.decode()
    assert re.findall(r">(\d{4}-\d+)</a>", html) == [paid.number, partly.number, unpaid.number]
    # Unknown sort keys and states never fail the page.
    assert client.get(url, {"sort": "drop table", "payment_state": "nope"}).status_code == 200


@pytest.mark.parametrize("extra", [0, 6])
def test_list_query_count_does_not_grow_with_the_invoices(
    world, users, login, extra, django_assert_max_num_queries
):
    for _ in range(2 + extra):
        inv = issued_invoice(world, matter=world.new_matter())
        F.pay(invoice_obj=inv, cents=1_000, day=inv.issue_date)
    client = login(users["BILLING"])
    with django_assert_max_num_queries(20):
        assert client.get(reverse("billing:invoice_list"), {"sort": "balance"}).status_code == 200


def test_paid_date_is_shown_when_settled(world, users, login):
    inv = issued_invoice(world)
    F.pay(invoice_obj=inv, cents=inv.total_cents, day=date(2026, 11, 1))
    html = _detail(login(users["BILLING"]), inv)
    assert "on 2026-11-01" in html
