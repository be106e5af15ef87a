"""What the client's signed links show: the invoice link (``billing:public_invoice``) and the
pay page (``payments:pay_invoice``) say paid in full (with the date), what is left, credited,
written off or void, and offer to pay only while something is due."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from caseledger.billing.models import Invoice
from caseledger.billing.services.payment_links import payment_link_token
from caseledger.credits.choices import CreditNoteStatus, ReasonCode, RefundMethod, WriteOffStatus
from caseledger.credits.services import (
    credit_note_approve,
    credit_note_request,
    write_off_approve,
    write_off_request,
)
from caseledger.credits.tests import factories as F
from caseledger.payments import links
from caseledger.payments.models import CheckoutSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def inv(users):
    m = F.matter(partner=users["PARTNER"])
    return F.invoice(matter_obj=m, cents=100_000, issued=date(2026, 9, 1), due=date(2099, 1, 1))


def _pages(client, invoice):
    public = client.get(
        reverse(
            "billing:public_invoice",
            args=[payment_link_token(invoice=invoice, at=timezone.now())],
        )
    )
    pay = client.get(reverse("payments:pay_invoice", args=[links.invoice_pay_token(invoice.pk)]))
    assert public.status_code == pay.status_code == 200
    return public.content.decode(), pay.content.decode()


def _credit(invoice, users, now, cents, **kw):
    note = credit_note_request(
        invoice=invoice,
        reason_code=ReasonCode.OVERPAYMENT,
        amount_cents=cents,
        actor=users["BILLING"],
        now=now,
        **kw,
    )
    if note.status == CreditNoteStatus.PENDING_APPROVAL:
        credit_note_approve(credit_note=note, approver=users["PARTNER"], now=now)


def test_unpaid_offers_to_pay_the_balance(client, inv):
    public, pay = _pages(client, inv)
    assert ">Pay online</a>" in public
    assert "Pay $1,000.00 online" in pay


def test_partly_paid_shows_what_is_left(client, inv):
    F.pay(invoice_obj=inv, cents=30_000, day=date(2026, 9, 10))
    public, pay = _pages(client, inv)
    for html in (public, pay):
        assert "$1,000.00 invoiced, $300.00 paid: $700.00 left to pay." in html
        assert '<div class="value" id="balance-due">$700.00</div>' in html
    assert ">Pay online</a>" in public
    assert "Pay $700.00 online" in pay


def test_paid_in_full_shows_the_date_and_no_pay_button(client, inv):
    F.pay(invoice_obj=inv, cents=100_000, day=date(2026, 9, 10), method="CARD", provider="sandbox")
    public, pay = _pages(client, inv)
    for html in (public, pay):
        assert "Paid in full on September 10, 2026. Thank you." in html
        assert "online</" not in html
    assert '<span class="badge ok">Paid</span>' in public
    client.post(reverse("payments:pay_invoice", args=[links.invoice_pay_token(inv.pk)]))
    assert not CheckoutSession.objects.exists()


def test_full_payment_then_credit_note_says_credited(client, inv, users, now):
    """The issue's case: paid online in full, then a credit note for all of it, refunded."""
    F.pay(invoice_obj=inv, cents=100_000, day=date(2026, 9, 10), method="CARD", provider="sandbox")
    _credit(inv, users, now, 100_000, refund_cents=100_000, refund_method=RefundMethod.CARD)
    public, pay = _pages(client, inv)
    for html in (public, pay):
        assert "Credited in full on November 2, 2026; there is nothing to pay." in html
        assert "online</" not in html
    assert 'badge ok">Issued' not in public
    assert '<span class="badge">Credited</span>' in public


def test_written_off_says_so(client, inv, users, now):
    wo = write_off_request(invoice=inv, reason="Uncollectable", actor=users["PARTNER"], now=now)
    if wo.status == WriteOffStatus.PENDING_APPROVAL:
        write_off_approve(write_off=wo, approver=users["ADMIN"], now=now)
    public, _pay = _pages(client, inv)
    assert (
        "Closed on November 2, 2026: the rest was written off; there is nothing to pay." in public
    )
    assert "online</" not in public


def test_void_says_so(client, inv):
    Invoice.objects.filter(pk=inv.pk).update(status="VOID")
    public, pay = _pages(client, inv)
    for html in (public, pay):
        assert "cancelled; there is nothing to pay" in html
        assert "online</" not in html
