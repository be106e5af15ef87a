from __future__ import annotations

from datetime import date

import pytest

from caseledger.collections.models import CollectionPolicy, PolicyStage
from caseledger.credits.tests import factories as F

pytestmark = pytest.mark.django_db


def test_aging_page_csv_and_drill_down(login, users):
    inv = F.invoice(
        matter_obj=F.matter(), cents=12_345, issued=date(2026, 7, 15), due=date(2026, 8, 15)
    )
    client = login(users["BILLING"])
    page = client.get("/collections/aging/", {"as_of": "2026-10-31"}).content.decode()
    assert "$123.45" in page
    csv = client.get("/collections/aging/", {"as_of": "2026-10-31", "format": "csv"})
    assert csv.content.decode().splitlines()[-1] == "Total,0.00,0.00,0.00,123.45,0.00,123.45"
    drill = client.get(
        "/collections/aging/invoices/",
        {"as_of": "2026-10-31", "group": "client", "key": inv.client_id, "bucket": "d61_90"},
    ).content.decode()
    assert inv.number in drill


def test_aging_pages_show_a_page_of_rows_and_totals_over_all(login, users, monkeypatch):
    from caseledger.collections import views

    monkeypatch.setattr(views, "PAGE_ROWS", 2)
    invoices = [
        F.invoice(
            matter_obj=F.matter(),
            cents=1_000 * (i + 1),
            issued=date(2026, 7, 15),
            due=date(2026, 8, 15),
        )
        for i in range(5)
    ]
    client = login(users["BILLING"])
    params = {"as_of": "2026-10-31"}
    first = client.get("/collections/aging/", params)
    assert [r.total for r in first.context["page"].object_list] == [5_000, 4_000]
    assert first.context["total"] == 15_000
    assert first.context["page"].paginator.count == 5
    html = first.content.decode()
    assert "Page 1 of 3" in html
    assert "page=2" in html
    assert "$150.00" in html
    last = client.get("/collections/aging/", {**params, "page": 3})
    assert [r.total for r in last.context["page"].object_list] == [1_000]
    assert last.context["total"] == 15_000
    drill = client.get("/collections/aging/invoices/", {**params, "page": 2})
    assert [r.balance_cents for r in drill.context["rows"]] == [3_000, 4_000]
    assert drill.context["total"] == 15_000
    assert "Page 2 of 3" in drill.content.decode()
    assert invoices[4].number not in drill.content.decode()  # earliest due first, by id
    csv = client.get("/collections/aging/invoices/", {**params, "page": 2, "format": "csv"})
    assert len(csv.content.decode().splitlines()) == 6  # the export has every row


def test_policy_form_refuses_overlapping_stages(login, users):
    client = login(users["PARTNER"])
    policy = CollectionPolicy.objects.get(client_type="")
    data = {
        "name": "Standard",
        "client_type": "",
        "at_risk_days": "14",
        "stage0_code": "friendly",
        "stage0_name": "Friendly",
        "stage0_days_from": "7",
        "stage0_days_to": "40",
        "stage0_send_email": "on",
        "stage0_subject": "Invoice {invoice}",
        "stage1_code": "formal",
        "stage1_name": "Formal",
        "stage1_days_from": "30",
        "stage1_send_email": "on",
        "stage1_subject": "Invoice {invoice}",
    }
    response = client.post(f"/collections/policies/{policy.pk}/", data)
    assert response.status_code == 200
    assert (
        "stages: &#x27;Friendly&#x27; (7-40 days) overlaps &#x27;Formal&#x27; (30+ days)"
        in response.content.decode()
    )
    assert set(
        PolicyStage.objects.filter(policy=policy, active=True).values_list("code", flat=True)
    ) == {
        "friendly",
        "formal",
        "escalation",
    }


def test_queue_shows_what_the_run_will_do_and_runs(login, users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.utils import timezone

    today = timezone.localdate()
    inv = F.invoice(
        matter_obj=F.matter(),
        cents=50_000,
        issued=date.fromordinal(today.toordinal() - 40),
        due=date.fromordinal(today.toordinal() - 10),
        now=timezone.now(),
    )
    client = login(users["BILLING"])
    page = client.get("/collections/queue/").content.decode()
    assert inv.number in page
    assert "Friendly reminder" in page
    client.post("/collections/run/")
    from django.core import mail

    assert len(mail.outbox) == 1
    history = client.get(f"/collections/invoices/{inv.pk}/").content.decode()
    assert "Friendly reminder: Email" in history
