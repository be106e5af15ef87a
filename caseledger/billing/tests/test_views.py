"""Pages and API: rendering, the review flow through the browser forms, bad input, queries."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import services
from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice, TimeEntry
from caseledger.billing.tests.authz import MATRIX
from caseledger.billing.tests.factories import advance_fees, issued_invoice
from caseledger.billing.urls import urlpatterns


def errors_under(html: str, field: str) -> list[str]:
    """The messages shown under one form field (its ``id_<field>-errors`` list)."""
    block = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


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
    # a client billed in LEDES: approval checks the file, the issued invoice downloads as LEDES
    from caseledger.clients.models import Client
    from caseledger.core.models import Firm

    Client.objects.filter(pk=world.matter.client_id).update(ledes_required=True)
    Firm.objects.filter(id=1).update(taxpayer_id="94-3170425")
    draft = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    advance_fees(draft, actor=world.billing, now=world.now)
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
    html = response.content.decode()
    # Under the hours field, once, without the "hours:" prefix (core.forms.handle_form).
    assert (
        '<ul class="errorlist" id="id_hours-errors"><li>must be a multiple of the firm&#x27;s '
        in html
    )
    assert "6-minute increment (0.1 h) (got 1.25)</li>" in html
    assert "hours: must" not in html
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
    page = response.content.decode()
    # The line form is gone from an issued invoice: the refusal is a banner, without "invoice:".
    assert "2026-000001 is issued; issued invoices cannot be edited" in page
    assert "invoice: 2026-000001" not in page
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
    page = response.content.decode()
    assert errors_under(page, "stage") == [
        "Recruitment is not a stage of case type H-1B cap petition"
    ]
    assert "stage: Recruitment" not in page
    assert response.status_code == 200


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
    advance_fees(draft, actor=world.billing, now=world.now)
    services.invoice_submit(invoice=draft, actor=world.billing, now=world.now)
    partner = login(world.partner)
    listing = partner.get("/api/v1/billing/invoices").json()
    assert [row["id"] for row in listing["results"]] == [draft.pk]
    assert (listing["count"], listing["next"]) == (1, None)
    assert listing["results"][0]["payment_state"] == "draft"
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
    assert again.status_code == 409
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
    assert bad.status_code == 409
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
    page = bad.content.decode()
    assert bad.status_code == 200
    assert errors_under(page, "line_amount") == [
        "must be an amount such as 1,234.56 (got &#x27;lots&#x27;)"
    ]
    assert "amount: must be" not in page
    assert 'value="Bad"' in page  # the input is kept
    assert not InvoiceTemplate.objects.filter(name="Bad").exists()


def _template_post(template: Any, **changes: Any) -> dict[str, Any]:
    """The edit page's form as the browser posts it, from the template as stored."""
    lines = list(template.lines.order_by("position", "id"))
    data: dict[str, Any] = {
        "name": template.name,
        "service": template.service_id,
        "bill_to": template.bill_to,
        "government_fee_codes": ", ".join(template.government_fee_codes),
        "installments": template.installments,
        "payment_terms_days": ""
        if template.payment_terms_days is None
        else template.payment_terms_days,
        "terms": template.terms,
        "notes": template.notes,
        "lines-TOTAL_FORMS": len(lines) + 2,
        "lines-INITIAL_FORMS": len(lines),
        "lines-MIN_NUM_FORMS": 0,
        "lines-MAX_NUM_FORMS": 1000,
    }
    if template.include_unbilled:
        data["include_unbilled"] = "on"
    if template.active:
        data["active"] = "on"
    for i, line in enumerate([*lines, None, None]):
        data[f"lines-{i}-description"] = line.description if line else ""
        data[f"lines-{i}-kind"] = line.kind if line else "FEE"
        data[f"lines-{i}-category"] = line.category if line else "ATTORNEY_FEE"
        data[f"lines-{i}-service"] = ""
        data[f"lines-{i}-amount"] = (
            "" if line is None or line.amount_cents is None else f"{line.amount_cents / 100:.2f}"
        )
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_template_edit_page_is_linked_prefilled_and_saves(world: Any, login: Any) -> None:
    from caseledger.billing.models import InvoiceTemplate

    client = login(world.billing)
    edit_url = reverse("billing:template_edit", args=[world.template.pk])
    listing = client.get(reverse("billing:templates")).content.decode()
    assert f'href="{edit_url}"' in listing
    page = client.get(edit_url).content.decode()
    assert 'value="H-1B filing"' in page
    assert 'value="H-1B petition: preparation and filing"' in page
    assert 'value="I129, ACWIA, FRAUD"' in page
    assert "Used by 1 active trigger" in page
    drafted = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    response = client.post(
        edit_url,
        _template_post(
            world.template,
            **{
                "lines-0-amount": "3,900.00",
                "lines-1-description": "Premium processing handling",
                "lines-1-kind": "FEE",
                "lines-1-category": "ATTORNEY_FEE",
                "lines-1-service": world.rfe_service.pk,
                "lines-1-amount": "250",
                "payment_terms_days": "15",
            },
        ),
        follow=True,
    )
    assert "Template H-1B filing saved." in response.content.decode()
    template = InvoiceTemplate.objects.get(pk=world.template.pk)
    assert template.payment_terms_days == 15
    assert list(template.lines.order_by("position").values_list("amount_cents", "service_id")) == [
        (390_000, world.h1b_service.pk),
        (25_000, world.rfe_service.pk),
    ]
    drafted.refresh_from_db()
    assert drafted.total_cents == 628_000  # the draft made before keeps its lines
    # a row ticked "remove" is dropped
    client.post(edit_url, _template_post(template, **{"lines-1-remove": "on"}))
    assert template.lines.count() == 1


def test_template_edit_shows_the_refusal_next_to_the_field(world: Any, login: Any) -> None:
    from caseledger.billing.models import InvoiceTemplate

    client = login(world.partner)
    edit_url = reverse("billing:template_edit", args=[world.template.pk])
    before = InvoiceTemplate.objects.get(pk=world.template.pk)
    bad_amount = client.post(
        edit_url, _template_post(world.template, **{"lines-0-amount": "lots"})
    ).content.decode()
    # Under the row's field, so without "line 1 amount:".
    assert errors_under(bad_amount, "lines-0-amount") == [
        "must be an amount such as 1,234.56 (got &#x27;lots&#x27;)"
    ]
    assert "line 1 amount:" not in bad_amount
    row = bad_amount[bad_amount.index('name="lines-0-amount"') :]
    assert row.index("must be an amount") < row.index('name="lines-1-description"')
    retire = client.post(edit_url, _template_post(world.template, active=None)).content.decode()
    [active_error] = errors_under(retire, "active")
    assert active_error.startswith("template H-1B filing still drafts the invoices of trigger")
    assert "active: template" not in retire
    assert "Template H-1B filing saved." not in retire
    empty_name = client.post(edit_url, _template_post(world.template, name="")).content.decode()
    assert errors_under(empty_name, "name") == ["is required"]
    after = InvoiceTemplate.objects.get(pk=world.template.pk)
    assert (after.name, after.active, after.government_fee_codes) == (
        before.name,
        before.active,
        before.government_fee_codes,
    )
    assert list(after.lines.values_list("amount_cents", flat=True)) == [None]


def test_draft_line_is_edited_in_place(world: Any, login: Any) -> None:
    draft = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    line = draft.lines.order_by("position").first()
    assert line is not None
    client = login(world.billing)
    edit_url = reverse("billing:invoice_line_edit", args=[draft.pk, line.pk])
    detail = client.get(reverse("billing:invoice_detail", args=[draft.pk])).content.decode()
    assert f'href="{edit_url}#line-{line.pk}"' in detail
    page = client.get(edit_url).content.decode()
    assert 'form="line-edit"' in page
    assert 'value="H-1B petition: preparation and filing"' in page
    assert 'value="3,500.00"' in page
    assert f'action="{edit_url}"' in page
    bad = client.post(edit_url, {"description": "Fee", "quantity": "0", "unit_price": "3,500"})
    text = bad.content.decode()
    assert bad.status_code == 200
    assert "must be a number greater than zero (got &#x27;0&#x27;)" in text
    assert "quantity: must be" not in text
    row = text[text.index(f'id="line-{line.pk}"') :]
    assert row.index("must be a number greater than zero") < row.index("</tr>")
    line.refresh_from_db()
    assert (line.description, line.amount_cents) == (
        "H-1B petition: preparation and filing",
        350_000,
    )
    response = client.post(
        edit_url,
        {"description": "H-1B petition (discounted)", "quantity": "1", "unit_price": "3,000.00"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#line-{line.pk}")
    done = client.get(response["Location"]).content.decode()
    assert "Line updated. The total is now $5,780.00." in done
    assert "H-1B petition (discounted)" in done
    draft.refresh_from_db()
    assert draft.total_cents == 578_000


def test_line_edit_is_offered_only_on_drafts(world: Any, login: Any) -> None:
    in_review = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=in_review, actor=world.billing, now=world.now)
    issued = issued_invoice(world)
    client = login(world.billing)
    for invoice, status in ((in_review, "in review"), (issued, "issued")):
        line = invoice.lines.first()
        detail = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
        edit_url = reverse("billing:invoice_line_edit", args=[invoice.pk, line.pk])
        assert edit_url not in detail
        refused = client.get(edit_url, follow=True).content.decode()
        assert f"is {status}; lines are added, edited and removed only on a draft" in refused
        assert 'form="line-edit"' not in refused
        posted = client.post(edit_url, {"description": "x", "quantity": "1", "unit_price": "1"})
        assert posted.status_code == 302
        line.refresh_from_db()
        assert line.description != "x"
    # the attorney sees the draft but gets no Edit action
    draft = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    attorney = login(world.attorney)
    page = attorney.get(reverse("billing:invoice_detail", args=[draft.pk])).content.decode()
    assert "/edit/" not in page


def test_the_approving_partner_sees_approved_by_you(world: Any, login: Any) -> None:
    from caseledger.billing.tests.factories import approved_draft

    invoice = approved_draft(world)
    url = reverse("billing:invoice_detail", args=[invoice.pk])
    page = login(world.partner).get(url).content.decode()
    assert "Approved by you" in page
    assert reverse("billing:invoice_approve", args=[invoice.pk]) not in page
    assert "Approved by you" not in login(world.billing).get(url).content.decode()


def test_review_controls_only_for_the_roles_that_hold_them(world: Any, login: Any) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.billing, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    url = reverse("billing:invoice_detail", args=[invoice.pk])
    approve = reverse("billing:invoice_approve", args=[invoice.pk])
    assert approve in login(world.partner).get(url).content.decode()
    billing_page = login(world.billing).get(url).content.decode()
    assert approve not in billing_page
    assert reverse("billing:invoice_return", args=[invoice.pk]) not in billing_page


def test_no_approve_button_on_ones_own_draft_when_the_firm_forbids_it(
    world: Any, login: Any
) -> None:
    invoice = services.invoice_draft_create(
        matter=world.matter, actor=world.partner, now=world.now, template=world.template
    )
    services.invoice_submit(invoice=invoice, actor=world.partner, now=world.now)
    page = login(world.partner).get(reverse("billing:invoice_detail", args=[invoice.pk]))
    html = page.content.decode()
    assert reverse("billing:invoice_approve", args=[invoice.pk]) not in html
    assert "Your draft: another partner approves it" in html
