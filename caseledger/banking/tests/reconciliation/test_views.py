"""Reconciliation pages and API as people use them: see the report, prepare, sign as another
lawyer, download the archived PDF, list client ledgers, read the figures as JSON."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from caseledger.banking.models import Reconciliation
from caseledger.banking.tests.reconciliation.helpers import january
from caseledger.core.services import api_token_create
from caseledger.core.tests.pdf_text import pdf_text

pytestmark = pytest.mark.django_db


def test_prepare_sign_download_through_the_pages(users: dict[str, Any], login: Any) -> None:
    jan = january()
    url = reverse("banking:reconciliation", args=[jan.bank.pk]) + "?date=2026-01-31"
    billing = login(users["BILLING"])
    page = billing.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Three-way reconciliation" in text
    assert 'id="adjusted">$7,115.00' in text
    assert 'id="journal">$7,140.00' in text
    assert 'id="clients-total">$7,140.00' in text
    assert "Monthly service fee" in text
    assert "Negative</span>" in text
    response = billing.post(
        reverse("banking:reconciliation_prepare", args=[jan.bank.pk]),
        {"period_end": "2026-01-31"},
    )
    assert response.status_code == 302
    rec = Reconciliation.objects.get()
    assert rec.status == "PREPARED"
    # The preparer cannot sign; billing has no sign capability at all.
    assert billing.post(reverse("banking:reconciliation_sign", args=[rec.pk])).status_code == 403

    partner = login(users["PARTNER"])
    page = partner.get(url)
    assert "Review and sign" in page.content.decode()
    response = partner.post(reverse("banking:reconciliation_sign", args=[rec.pk]))
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.status == "SIGNED"
    assert rec.signed_by == users["PARTNER"]

    archive = partner.get(reverse("banking:reconciliation_archive", args=[jan.bank.pk]))
    assert rec.chain_hash[:16] in archive.content.decode()
    download = partner.get(reverse("banking:reconciliation_pdf", args=[rec.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert "THREE-WAY RECONCILIATION" in pdf_text(download.content)


def test_sign_refusal_is_shown_to_the_reviewer(users: dict[str, Any], login: Any) -> None:
    jan = january()
    partner = login(users["PARTNER"])
    partner.post(
        reverse("banking:reconciliation_prepare", args=[jan.bank.pk]),
        {"period_end": "2026-01-31"},
    )
    rec = Reconciliation.objects.get()
    response = partner.post(reverse("banking:reconciliation_sign", args=[rec.pk]), follow=True)
    assert "the reviewer must be a different person from the preparer" in (
        response.content.decode()
    )
    rec.refresh_from_db()
    assert rec.status == "PREPARED"


def test_client_listing_page_puts_negative_ledgers_first(users: dict[str, Any], login: Any) -> None:
    jan = january()
    page = login(users["ATTORNEY"]).get(
        reverse("banking:reconciliation_clients", args=[jan.bank.pk]) + "?date=2026-01-31"
    )
    text = page.content.decode()
    assert "1 client ledger negative on this date" in text
    assert text.index(jan.c.number) < text.index(jan.a.number)
    assert text.index(jan.c.number) < text.index(jan.b.number)


def test_api_figures_and_months(client: Any, users: dict[str, Any], now: Any) -> None:
    jan = january()
    _, secret = api_token_create(user=users["BILLING"], name="t", now=now)
    response = client.get(
        f"/api/v1/banking/accounts/{jan.bank.pk}/reconciliation?date=2026-01-31",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "three_way"
    report = body["report"]
    assert (report["adjusted_bank_cents"], report["journal_cents"]) == (711_500, 714_000)
    assert report["client_total_cents"] == 714_000
    assert report["unrecorded_cents"] == -2_500
    assert body["balanced"] is False
    assert body["record_status"] is None
    assert {"period_end": "2026-01-31", "status": "OPEN"}.items() <= body["months"][-1].items()
