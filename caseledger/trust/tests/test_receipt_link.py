"""The receipt email's link: absolute from SITE_URL, signed, opening that deposit's receipt PDF
for anyone holding it (no sign-in); altered -> 404 page, expired -> 410 page, never a 500."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from caseledger.core.tests.pdf_text import pdf_text
from caseledger.matters.tests.factories import make_matter
from caseledger.trust import links
from caseledger.trust.services import deposit_record

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8101"


def record(matter, now, cents):
    return deposit_record(
        client=matter.client,
        matter=matter,
        method="CHECK",
        payer="Northwind Analytics Inc.",
        reference="1042",
        amount_cents=cents,
        received_date=date(2026, 11, 2),
        actor=None,
        now=now,
    )


def test_receipt_email_links_to_the_signed_receipt_on_site_url(
    settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = SITE
    matter = make_matter()
    with django_capture_on_commit_callbacks(execute=True):
        deposit = record(matter, timezone.now(), 75_000)
        other = record(matter, timezone.now(), 1_000)
    body = str(mail.outbox[0].body)
    (url,) = re.findall(r"https?://\S+", body)
    assert url == links.receipt_url(deposit=deposit, at=deposit.created_at)
    assert url.startswith(f"{SITE}/trust/receipts/")
    assert "/deposits/" not in body  # never the staff-only page
    anonymous = Client()
    response = anonymous.get(url.removeprefix(SITE))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert deposit.receipt_number in text
    assert "$750.00" in text
    assert other.receipt_number not in text  # that deposit's receipt only


def test_altered_or_foreign_tokens_answer_404(now):
    deposit = record(make_matter(), now, 5_000)
    token = links.receipt_token(deposit=deposit, at=timezone.now())
    web = Client()
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense", "1"):
        response = web.get(reverse("trust:client_receipt", args=[bad]))
        assert response.status_code == 404
        assert "This receipt link is not valid." in response.content.decode()
    # a pay-link token (another salt) opens nothing here
    from caseledger.payments.links import invoice_pay_token

    response = web.get(reverse("trust:client_receipt", args=[invoice_pay_token(deposit.pk)]))
    assert response.status_code == 404


def test_expired_token_answers_410_with_what_to_do(now):
    deposit = record(make_matter(), now, 5_000)
    stale = timezone.now() - timedelta(days=links.RECEIPT_LINK_DAYS + 1)
    response = Client().get(
        reverse("trust:client_receipt", args=[links.receipt_token(deposit=deposit, at=stale)])
    )
    assert response.status_code == 410
    page = response.content.decode()
    assert "Receipt link expired" in page
    assert (
        f"This receipt link is older than {links.RECEIPT_LINK_DAYS} days and has expired; "
        "ask the firm for a copy of the receipt." in page
    )


def test_token_for_a_deposit_that_does_not_exist_answers_404(now):
    deposit = record(make_matter(), now, 5_000)
    token = links.receipt_token(deposit=deposit, at=timezone.now())
    deposit_pk = deposit.pk
    from caseledger.trust.links import _Signer

    missing = _Signer(timezone.now()).sign(str(deposit_pk + 1000))
    assert Client().get(reverse("trust:client_receipt", args=[token])).status_code == 200
    assert Client().get(reverse("trust:client_receipt", args=[missing])).status_code == 404
