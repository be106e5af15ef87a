"""Pages and API: rendering, the review flow through the browser forms, bad input, queries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import services
from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice, TimeEntry
from caseledger.billing.tests.authz import MATRIX
from caseledger.billing.tests.factories import issued_invoice
from caseledger.billing.urls import urlpatterns

pytestmark = pytest.mark.django_db


def test_every_billing_route_has_an_authz_entry() -> None:
    names = {f"billing:{p.name}" for p in urlpatterns}
    assert names == {k for k in MATRIX if k.startswith("billing:")}
    from caseledger.api.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    ops = {
        f"{m.upper()} {path}"
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1/billing")
        for m in methods
    }
    assert ops == {k for k in MATRIX if k.startswith(("GET ", "POST "))}


def test_pages_render_for_the_partner(
    world: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    invoice = issued_invoice(world)
    draft = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=draft, actor=world.billing, now=world.now)
    client = login(world.partner)
    for name, args in (
        ("billing:review_queue", []),
        ("billing:invoice_list", []),
        ("billing:invoice_detail", [invoice.pk]),
        ("billing:invoice_detail", [draft.pk]),
        ("billing:wip", []),
        ("billing:time_entry_new", []),
        ("billing:fee_schedule", []),
        ("billing:templates", []),
        ("billing:invoice_draft_new", []),
    ):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
    queue = client.get(reverse("billing:review_queue")).content.decode()
    assert f"Draft #{draft.pk}" in queue
    detail = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    assert "2026-000001" in detail
    assert "Issued" in detail
    assert "$6,280.00" in detail
    # the invoice list stays at a fixed number of queries however many invoices it shows
    for _ in range(3):
        issued_invoice(world)
    with django_assert_max_num_queries(12):
        client.get(reverse("billing:invoice_list"))


def test_review_flow_through_the_forms(world: Any, login: Any) -> None:
    draft = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    billing = login(world.billing)
    billing.post(reverse("billing:invoice_submit", args=[draft.pk]))
    partner = login(world.partner)
    response = partner.post(
        reverse("billing:review_queue"), {"invoice": [str(draft.pk)]}, follow=True
    )
    assert "Approved 1 invoice(s)." in response.content.decode()
    response = partner.post(reverse("billing:invoice_issue", args=[draft.pk]), follow=True)
    assert "Issued." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.ISSUED
    pdf = partner.get(reverse("billing:invoice_pdf", args=[draft.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert bytes(pdf.content) == bytes(draft.pdf.content)  # the stored PDF, never re-rendered
    ledes = partner.get(reverse("billing:invoice_ledes", args=[draft.pk]))
    assert ledes.status_code == 200
    assert ledes.content.decode().startswith("LEDES1998B[]")


def test_bad_input_shows_one_clear_message(world: Any, login: Any) -> None:
    client = login(world.attorney)
    response = client.post(
        reverse("billing:time_entry_new"),
        {
            "matter": world.matter.pk,
            "work_date": "2026-10-30",
            "hours": "1.25",
            "activity_code": "A103",
            "narrative": "Draft letter",
            "billable": "on",
        },
    )
    assert response.status_code == 200
    assert (
        "hours: must be a multiple of the firm&#x27;s 6-minute increment (0.1 h) (got 1.25)"
        in response.content.decode()
    )
    assert not TimeEntry.objects.exists()
    ok = client.post(
        reverse("billing:time_entry_new"),
        {
            "matter": world.matter.pk,
            "work_date": "2026-10-30",
            "hours": "1.2",
            "activity_code": "A103",
            "narrative": "Draft letter",
            "billable": "on",
        },
        follow=True,
    )
    assert "Recorded 1.20 h ($510.00)." in ok.content.decode()


def test_editing_an_issued_invoice_through_the_page_is_refused(world: Any, login: Any) -> None:
    invoice = issued_invoice(world)
    client = login(world.billing)
    response = client.post(
        reverse("billing:invoice_line_add", args=[invoice.pk]),
        {
            "description": "Extra",
            "kind": "FEE",
            "category": "ATTORNEY_FEE",
            "quantity": "1",
            "unit_price": "10",
        },
        follow=True,
    )
    assert (
        "invoice: 2026-000001 is issued; issued invoices cannot be edited"
        in response.content.decode()
    )
    assert Invoice.objects.get(pk=invoice.pk).total_cents == 628_000


def test_trigger_form_refuses_a_stage_of_another_case_type(world: Any, login: Any) -> None:
    client = login(world.partner)
    response = client.post(
        reverse("billing:templates"),
        {
            "case_type": world.h1b.pk,
            "template": world.template.pk,
            "kind": "STAGE",
            "stage": world.perm.stages.get(code="recruitment").pk,
        },
    )
    assert (
        "stage: Recruitment is not a stage of case type H-1B cap petition"
        in response.content.decode()
    )


def test_attorney_sees_only_invoices_of_assigned_matters(
    world: Any, login: Any, make_user: Any
) -> None:
    mine = issued_invoice(world)
    stranger = make_user(role="ATTORNEY", username="stranger")
    other_matter = world.new_matter(attorney=stranger, paralegal=None)
    theirs = issued_invoice(world, matter=other_matter)
    client = login(world.attorney)
    listing = client.get(reverse("billing:invoice_list")).content.decode()
    assert mine.number in listing
    assert theirs.number not in listing
    assert client.get(reverse("billing:invoice_detail", args=[theirs.pk])).status_code == 403


def test_public_link_opens_the_invoice_and_forged_links_do_not(world: Any, client: Any) -> None:
    invoice = issued_invoice(world)
    link = services.payment_link_for(invoice=invoice)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200
    assert "2026-000001" in page.content.decode()
    pdf = client.get("/" + path + "?pdf=1")
    assert bytes(pdf.content) == bytes(invoice.pdf.content)
    forged = client.get(
        reverse("billing:public_invoice", args=[path.rstrip("/").rsplit("/", 1)[1] + "x"])
    )
    assert forged.status_code == 404
    assert "this payment link is not valid" in forged.content.decode()


def test_api_list_read_time_approve_issue(world: Any, login: Any) -> None:
    draft = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=draft, actor=world.billing, now=world.now)
    partner = login(world.partner)
    listing = partner.get("/api/v1/billing/invoices").json()
    assert [row["id"] for row in listing] == [draft.pk]
    detail = partner.get(f"/api/v1/billing/invoices/{draft.pk}").json()
    assert len(detail["lines"]) == 4
    assert detail["total_cents"] == 628_000
    approved = partner.post(f"/api/v1/billing/invoices/{draft.pk}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "APPROVED"
    issued = partner.post(f"/api/v1/billing/invoices/{draft.pk}/issue")
    assert issued.status_code == 200
    assert issued.json()["number"] == "2026-000001"
    again = partner.post(f"/api/v1/billing/invoices/{draft.pk}/issue")
    assert again.status_code == 422
    assert again.json()["error"]["message"] == "status: an invoice cannot go from issued to issued"
    attorney = login(world.attorney)
    created = attorney.post(
        "/api/v1/billing/time-entries",
        {
            "matter_id": world.matter.pk,
            "work_date": "2026-10-30",
            "hours": "0.3",
            "activity_code": "A106",
            "narrative": "Call",
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["amount_cents"] == 12_750
    bad = attorney.post(
        "/api/v1/billing/time-entries",
        {
            "matter_id": world.matter.pk,
            "work_date": "2026-10-30",
            "hours": "25",
            "activity_code": "A106",
            "narrative": "Call",
        },
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("hours: a day has 24 hours")
    denied = attorney.post(f"/api/v1/billing/invoices/{draft.pk}/approve")
    assert denied.status_code == 403
    assert TimeEntry.objects.filter(work_date=date(2026, 10, 30)).count() == 1


def test_template_form_creates_a_template_that_triggers_can_use(world: Any, login: Any) -> None:
    client = login(world.partner)
    response = client.post(
        reverse("billing:template_new"),
        {
            "name": "H-1B amendment",
            "service": world.h1b_service.pk,
            "bill_to": "PETITIONER",
            "line_description": "H-1B amended petition",
            "line_category": "ATTORNEY_FEE",
            "line_amount": "2,000.00",
            "government_fee_codes": "I129, fraud",
            "terms": "Due on receipt.",
        },
        follow=True,
    )
    assert "Template H-1B amendment added." in response.content.decode()
    from caseledger.billing.models import InvoiceTemplate

    template = InvoiceTemplate.objects.get(name="H-1B amendment")
    assert template.government_fee_codes == ["I129", "FRAUD"]
    assert list(template.lines.values_list("amount_cents", flat=True)) == [200_000]
    bad = client.post(
        reverse("billing:template_new"),
        {
            "name": "Bad",
            "service": world.h1b_service.pk,
            "bill_to": "PETITIONER",
            "line_description": "Fee",
            "line_category": "ATTORNEY_FEE",
            "line_amount": "lots",
        },
        follow=True,
    )
    assert (
        "amount: must be an amount such as 1,234.56 (got &#x27;lots&#x27;)" in bad.content.decode()
    )
    assert not InvoiceTemplate.objects.filter(name="Bad").exists()
