"""Pages of the second round: paying an imported invoice, the export download, the audit pack,
retention with a hold, the parallel run with its sign-off."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from caseledger.imports import services
from caseledger.imports.export import manifest_check
from caseledger.imports.models import LegacyInvoice, LegalHold, ParallelRun
from caseledger.imports.tests.test_services import fixture, load_base, run

pytestmark = pytest.mark.django_db


def test_pay_an_imported_invoice_from_its_page(
    client: Any, login: Any, users: dict[str, Any], now: Any
) -> None:
    load_base(now)
    run("clio-bills", fixture("clio-bills", drop=(4, 5)), now)
    cutover = services.cutover_save(
        as_of=date(2025, 6, 30),
        trust_bank_cents=0,
        aging_total_cents=76000,
        actor=users["PARTNER"],
        now=now,
    )
    services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    invoice = LegacyInvoice.objects.get()
    login(users["BILLING"])
    page = client.get(reverse("imports:legacy_invoices"))
    assert b"L-1042" in page.content
    assert b"Record payment" in page.content
    url = reverse("imports:legacy_invoice_pay", args=[invoice.pk])
    refused = client.post(
        url,
        {
            "received_date": "2026-11-02",
            "method": "CHECK",
            "payer": "Ingrid",
            "reference": "77",
            "amount": "800.00",
        },
    )
    assert refused.status_code == 200
    assert b"still open on L-1042" in refused.content
    response = client.post(
        url,
        {
            "received_date": "2026-11-02",
            "method": "CHECK",
            "payer": "Ingrid",
            "reference": "77",
            "amount": "160.00",
        },
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.open_cents == 60000


def test_export_audit_pack_retention_and_parallel_pages(
    client: Any, login: Any, users: dict[str, Any], now: Any
) -> None:
    login(users["PARTNER"])
    assert b"Download the export" in client.get(reverse("imports:export")).content
    response = client.post(reverse("imports:export_download"))
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert manifest_check(io.BytesIO(body)) == []
    form = client.get(reverse("imports:audit_pack"))
    assert b"Trust bank account" in form.content
    from caseledger.ledger.models import Account

    account = Account.objects.get(code="1010")
    pack = client.post(
        reverse("imports:audit_pack"),
        {"account": account.pk, "start": "2026-01-01", "end": "2026-11-30"},
    )
    assert pack["Content-Type"] == "application/zip"
    assert pack.streaming  # served from the temporary file it was written to, not from memory
    assert 'filename="audit-pack-2026-01-01-2026-11-30.zip"' in pack["Content-Disposition"]
    packed = io.BytesIO(b"".join(pack.streaming_content))
    assert "trust-journal.csv" in zipfile.ZipFile(packed).namelist()
    assert manifest_check(packed) == []

    page = client.get(reverse("imports:retention"))
    assert b"ABA Model Rule 1.15(a)" in page.content
    refused = client.post(
        reverse("imports:retention"),
        {
            "form": "settings",
            "state": "NY",
            "trust_years": 5,
            "billing_years": 7,
            "matter_years": 7,
        },
    )
    assert b"NY requires at least 7 years" in refused.content
    client.post(reverse("imports:retention"), {"form": "hold", "client": "", "reason": "x"})
    assert not LegalHold.objects.exists()

    upload = SimpleUploadedFile(
        "old.csv", b"number,matter,line_type,line_total\n9002,OLD-77,expenses,25.00\n"
    )
    response = client.post(
        reverse("imports:parallel_runs"),
        {"cycle_start": "2026-11-01", "cycle_end": "2026-11-30", "file": upload},
    )
    assert response.status_code == 302
    parallel = ParallelRun.objects.get()
    page = client.get(response.url)
    assert b"OLD-77" in page.content
    assert b"missing" in page.content
    client.post(reverse("imports:parallel_run_sign", args=[parallel.pk]), {"note": "ok"})
    parallel.refresh_from_db()
    assert parallel.signed_by == users["PARTNER"]
    csv_body = client.get(reverse("imports:parallel_run_csv", args=[parallel.pk])).content
    assert b"OLD-77,missing" in csv_body
