from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from caseledger.clients.models import Client
from caseledger.imports.models import ImportJob, ImportMapping
from caseledger.imports.selectors import SAMPLES

pytestmark = pytest.mark.django_db


def test_wizard_upload_map_dry_run_commit(
    client: Any, login: Any, users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    login(users["BILLING"])
    page = client.get(reverse("imports:home"))
    assert b"clio-contacts.csv" in page.content
    upload = SimpleUploadedFile(
        "contacts.csv", (SAMPLES / "clio-contacts.csv").read_bytes(), content_type="text/csv"
    )
    response = client.post(reverse("imports:home"), {"source": "clio-contacts", "file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("imports:job_map", args=[job.pk])
    page = client.get(response.url)
    assert b"email_address" in page.content  # the shipped mapping is suggested
    data = {f"col_{k}": v for k, v in job.columns.items()}
    data.update(def_client_type="PRIVATE", save_as="Our Clio contacts")
    response = client.post(reverse("imports:job_map", args=[job.pk]), data)
    assert response.status_code == 302
    assert ImportMapping.objects.get(name="Our Clio contacts").columns["email"] == "email_address"
    client.post(reverse("imports:job_dry_run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "VALIDATED"
    assert job.report["created"] == 3
    assert Client.objects.count() == 0
    page = client.get(reverse("imports:job_detail", args=[job.pk]))
    assert b"Dry run report" in page.content
    assert b"Halvorsen" in page.content
    with django_capture_on_commit_callbacks(execute=True):  # the run starts after commit
        client.post(reverse("imports:job_commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "DONE"
    assert job.created == 3
    assert Client.objects.count() == 3
    page = client.get(reverse("imports:job_detail", args=[job.pk]))
    assert b"Records 3 of 3" in page.content


def test_dry_run_errors_shown_and_commit_refused(
    client: Any, login: Any, users: dict[str, Any]
) -> None:
    login(users["PARTNER"])
    bad = b"first_name,last_name,company,email_address\n,,,x@example.com\n"
    client.post(
        reverse("imports:home"),
        {"source": "clio-contacts", "file": SimpleUploadedFile("bad.csv", bad)},
    )
    job = ImportJob.objects.get()
    client.post(reverse("imports:job_dry_run", args=[job.pk]))
    page = client.get(reverse("imports:job_detail", args=[job.pk]))
    assert b"missing_required" in page.content
    response = client.post(reverse("imports:job_commit", args=[job.pk]), follow=True)
    assert b"The dry run found 1 problems" in response.content
    assert Client.objects.count() == 0


def test_cutover_page_shows_proof(client: Any, login: Any, users: dict[str, Any]) -> None:
    login(users["PARTNER"])
    response = client.post(
        reverse("imports:cutover"),
        {"as_of": "2025-06-30", "trust_bank": "100.00", "aging_total": "0.00"},
    )
    assert response.status_code == 302
    page = client.get(reverse("imports:cutover"))
    assert b"does not tie" in page.content
    response = client.post(reverse("imports:cutover_finalize"), follow=True)
    assert b"Imported trust balances sum to" in response.content
