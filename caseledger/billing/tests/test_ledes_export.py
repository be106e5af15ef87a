"""LEDES from the database: export then import (same figures), the approval gate and the review
panel, task codes for clients billed in LEDES, the firm's taxpayer ID, the client/period file
and the import preview (pages and API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from caseledger.billing import services
from caseledger.billing.exceptions import BillingError, LedesInvalid
from caseledger.billing.exports import (
    client_ledes_text,
    invoice_ledes_problems,
    invoice_ledes_text,
    ledes_import_preview,
)
from caseledger.billing.ledes import LEDES_NO_TAXPAYER_ID, ledes_parse, ledes_validate
from caseledger.billing.models import Invoice
from caseledger.billing.services.time import TASK_CODE_REQUIRED
from caseledger.billing.tests.factories import advance_fees, issued_invoice
from caseledger.clients.models import Client
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import Firm
from caseledger.core.services import firm_update

pytestmark = pytest.mark.django_db

SAMPLE = (Path(__file__).parent / "fixtures" / "ledes98b_spec_sample.txt").read_bytes()


def _ledes_client(world: Any, taxpayer_id: str = "94-3170425") -> None:
    Client.objects.filter(pk=world.matter.client_id).update(ledes_required=True)
    Firm.objects.filter(id=1).update(taxpayer_id=taxpayer_id)
    world.matter.client.refresh_from_db()


def _time(world: Any, who: Any, task_code: str = "L210", hours: str = "1.5") -> Any:
    return services.time_entry_create(
        timekeeper=who,
        matter=world.matter,
        work_date=clock.firm_date(world.now),
        hours=hours,
        activity_code="A103",
        task_code=task_code,
        narrative="Draft the employer support letter",
        actor=who,
        now=world.now,
    )


def _draft_with_work(world: Any) -> Invoice:
    invoice = services.invoice_draft_create(
        matter=world.matter,
        actor=world.billing,
        now=world.now,
        template=world.template,
        include_unbilled=True,
    )
    services.invoice_submit(invoice=invoice, actor=world.billing, now=world.now)
    return invoice


def test_export_then_import_gives_the_same_invoice_figures(world):
    _ledes_client(world)
    _time(world, world.paralegal)
    _time(world, world.partner, task_code="L120", hours="0.5")
    invoice = _draft_with_work(world)
    services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    advance_fees(invoice, actor=world.billing, now=world.now)
    invoice = services.invoice_issue(invoice=invoice, actor=world.billing, now=world.now)
    text = invoice_ledes_text(invoice=invoice)
    assert ledes_validate(text) == []

    read = ledes_import_preview(data=text.encode("ascii"))
    assert read.valid, read.errors
    (doc,) = read.invoices
    lines = list(invoice.lines.order_by("position", "id"))
    assert doc.number == invoice.number
    assert doc.invoice_date == invoice.issue_date
    assert doc.total_cents == invoice.total_cents
    assert doc.law_firm_id == "94-3170425"
    assert [li.total_cents for li in doc.lines] == [li.amount_cents for li in lines]
    assert [li.unit_cost_cents for li in doc.lines] == [li.unit_price_cents for li in lines]
    assert [li.units for li in doc.lines] == [li.quantity for li in lines]
    by_kind = {li.kind: d for li, d in zip(lines, doc.lines, strict=True)}
    # every fee line names its timekeeper; the flat fee the matter's responsible attorney
    fee = by_kind["FEE"]
    assert (fee.line_type, fee.timekeeper_classification) == ("F", "AS")
    assert fee.timekeeper_name.startswith(world.attorney.last_name)
    times = [d for li, d in zip(lines, doc.lines, strict=True) if li.kind == "TIME"]
    assert sorted(d.timekeeper_classification for d in times) == ["LA", "PT"]  # paralegal is LA
    assert {d.task_code for d in times} == {"L210", "L120"}
    # USCIS filing fees go out under E112 "Court fees"
    assert by_kind["GOVERNMENT_FEE"].expense_code == "E112"
    assert by_kind["GOVERNMENT_FEE"].line_type == "E"


def test_approval_is_blocked_until_the_ledes_file_validates(world, login):
    # Time recorded before the client asked for LEDES, without a task code.
    _time(world, world.attorney, task_code="")
    _ledes_client(world, taxpayer_id="")
    invoice = _draft_with_work(world)
    problems = invoice_ledes_problems(invoice=invoice, today=clock.firm_date(world.now))
    assert problems[0] == "ledes: " + LEDES_NO_TAXPAYER_ID.removeprefix("ledes: ")
    assert any("fee lines need LINE_ITEM_TASK_CODE" in p for p in problems)
    with pytest.raises(LedesInvalid, match=r"^ledes: .* cannot be approved until its LEDES file "):
        services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now)
    assert Invoice.objects.get(pk=invoice.pk).status == "IN_REVIEW"
    # the review page shows the problems
    page = login(world.partner).get(reverse("billing:invoice_detail", args=[invoice.pk]))
    html = page.content.decode()
    assert 'id="ledes-panel"' in html
    assert "it cannot be approved until it does" in html
    assert "LINE_ITEM_TASK_CODE" in html
    assert "taxpayer ID" in html
    # the review queue's bulk approval says why
    response = login(world.partner).post(
        reverse("billing:review_queue"), {"invoice": [str(invoice.pk)]}, follow=True
    )
    assert "cannot be approved until its LEDES file validates" in response.content.decode()
    # with the taxpayer ID set only the missing task code remains
    Firm.objects.filter(id=1).update(taxpayer_id="94-3170425")
    problems = invoice_ledes_problems(invoice=invoice, today=clock.firm_date(world.now))
    assert len(problems) == 1
    assert "fee lines need LINE_ITEM_TASK_CODE" in problems[0]


def test_a_client_not_on_ledes_is_approved_without_the_check(world):
    _time(world, world.attorney, task_code="")
    invoice = _draft_with_work(world)
    assert invoice_ledes_problems(invoice=invoice, today=clock.firm_date(world.now)) == []
    assert services.invoice_approve(invoice=invoice, actor=world.partner, now=world.now).status == (
        "APPROVED"
    )


def test_task_code_is_required_for_ledes_clients_and_chosen_from_the_set(world, login):
    _time(world, world.attorney, task_code="")  # not billed in LEDES: optional
    _ledes_client(world)
    client_name = world.matter.client.name
    with pytest.raises(BillingError) as exc:
        _time(world, world.attorney, task_code="")
    assert exc.value.message == TASK_CODE_REQUIRED.format(client=client_name)
    assert exc.value.field == "task_code"
    with pytest.raises(BillingError, match=r"^task_code: L100 is a UTBMS phase, not a task"):
        _time(world, world.attorney, task_code="L100")
    with pytest.raises(BillingError, match=r"^task_code: must be a UTBMS task code"):
        _time(world, world.attorney, task_code="L999")
    with pytest.raises(BillingError, match=r"^activity_code: must be a UTBMS activity code"):
        services.time_entry_create(
            timekeeper=world.attorney,
            matter=world.matter,
            work_date=clock.firm_date(world.now),
            hours="1",
            activity_code="A199",
            task_code="L210",
            narrative="x",
            actor=world.attorney,
            now=world.now,
        )
    entry = _time(world, world.attorney, task_code="l210")
    assert entry.task_code == "L210"
    # the form offers the code set as a select, grouped by phase
    html = login(world.attorney).get(reverse("billing:time_entry_new")).content.decode()
    assert '<select name="task_code"' in html
    assert '<optgroup label="L200 Pre-Trial Pleadings and Motions">' in html
    assert '<option value="L210">L210 Pleadings</option>' in html
    assert '<option value="L100"' not in html
    # through the form: the service's message, under the field
    response = login(world.attorney).post(
        reverse("billing:time_entry_new"),
        {
            "matter": world.matter.pk,
            "work_date": clock.firm_date(world.now).isoformat(),
            "hours": "1",
            "activity_code": "A103",
            "task_code": "",
            "narrative": "Call",
            "billable": "on",
        },
    )
    assert "is billed in LEDES; choose the UTBMS task code of this work" in (
        response.content.decode()
    )


def test_export_is_refused_without_the_firm_taxpayer_id(world, login):
    _ledes_client(world)
    invoice = issued_invoice(world)
    Firm.objects.filter(id=1).update(taxpayer_id="")
    with pytest.raises(LedesInvalid) as exc:
        invoice_ledes_text(invoice=invoice)
    assert exc.value.message == LEDES_NO_TAXPAYER_ID
    response = login(world.partner).get(
        reverse("billing:invoice_ledes", args=[invoice.pk]), follow=True
    )
    assert "taxpayer ID (LAW_FIRM_ID) is missing" in response.content.decode()


def test_firm_taxpayer_id_is_an_ein(users, now):
    firm = firm_update(actor=users["ADMIN"], now=now, taxpayer_id="94 3170425")
    assert firm.taxpayer_id == "94-3170425"
    with pytest.raises(ApplicationError, match=r"^taxpayer_id: must be the firm's 9-digit"):
        firm_update(actor=users["ADMIN"], now=now, taxpayer_id="94-31704")


def test_many_invoices_of_a_client_in_one_file_page_and_api(world, login):
    _ledes_client(world)
    first = issued_invoice(world)
    second = issued_invoice(world)
    day = first.issue_date
    result = client_ledes_text(client=world.matter.client, start=day, end=day)
    read = ledes_parse(result.text, strict=True)
    assert read.valid
    assert [inv.number for inv in read.invoices] == [first.number, second.number]
    assert read.total_cents == first.total_cents + second.total_cents

    http = login(world.billing)
    page = http.get(reverse("billing:ledes_export"))
    assert world.matter.client.name in page.content.decode()
    response = http.post(
        reverse("billing:ledes_export"),
        {"client": world.matter.client_id, "start": day.isoformat(), "end": day.isoformat()},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="client-')
    assert response.content.decode() == result.text

    api = http.post(
        "/api/v1/billing/ledes/export",
        {"client_id": world.matter.client_id, "start": str(day), "end": str(day)},
        content_type="application/json",
    )
    assert api.status_code == 200
    assert api.content.decode() == result.text
    empty = http.post(
        "/api/v1/billing/ledes/export",
        {"client_id": world.matter.client_id, "start": "2020-01-01", "end": "2020-01-31"},
        content_type="application/json",
    )
    assert empty.status_code == 409
    assert empty.json()["error"]["code"] == "ledes_invalid"
    assert (
        "has no issued invoices dated 2020-01-01 to 2020-01-31" in empty.json()["error"]["message"]
    )


def test_import_preview_page_and_api_write_nothing(world, login):
    before = Invoice.objects.count()
    http = login(world.billing)
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = http.post(
        reverse("billing:ledes_import"),
        {"file": SimpleUploadedFile("sample.txt", SAMPLE, content_type="text/plain")},
    )
    html = page.content.decode()
    assert 'id="ledes-import-valid"' in html
    assert "Invoice 96542" in html
    assert "Invoice 96543" in html
    assert "$1,684.45" in html
    broken = http.post(reverse("billing:ledes_import"), {"text": SAMPLE.decode()[:-40]})
    assert 'id="ledes-import-problems"' in broken.content.decode()
    api = http.post(
        "/api/v1/billing/ledes/import", {"text": SAMPLE.decode()}, content_type="application/json"
    )
    body = api.json()
    assert body["valid"] is True
    assert [inv["total_cents"] for inv in body["invoices"]] == [168_445, 125_000]
    assert body["invoices"][0]["lines"][0]["adjustment_cents"] == -7_000
    assert Invoice.objects.count() == before
