from __future__ import annotations

from datetime import date

import pytest

from caseledger.credits.models import CreditNote, WriteOff
from caseledger.credits.tests import factories as F

pytestmark = pytest.mark.django_db


@pytest.fixture
def inv():
    return F.invoice(matter_obj=F.matter(), cents=100_000, issued=date(2026, 9, 1))


def test_billing_issues_a_credit_note_from_the_form(login, users, inv):
    client = login(users["BILLING"])
    response = client.post(
        "/credits/new/",
        {
            "invoice": inv.number,
            "reason_code": "BILLING_ERROR",
            "line_description_1": "Biometrics fee billed twice",
            "line_amount_1": "85.00",
            "refund_method": "",
        },
    )
    note = CreditNote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/credits/{note.pk}/"
    assert note.number == "CN-2026-000001"
    page = client.get(f"/credits/{note.pk}/").content.decode()
    assert "Biometrics fee billed twice" in page
    pdf = client.get(f"/credits/{note.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_bad_credit_shows_one_message_and_changes_nothing(login, users, inv):
    client = login(users["BILLING"])
    response = client.post(
        "/credits/new/",
        {"invoice": inv.number, "reason_code": "BILLING_ERROR", "amount": "1,000.01"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Under the amount field, without the "amount:" prefix (core.forms.handle_form).
    assert f"<li>$1,000.01 is over what is left to credit on invoice {inv} ($1,000.00" in html
    assert "amount: $1,000.01" not in html
    assert not CreditNote.objects.exists()
    response = client.post(
        "/credits/new/", {"invoice": "NOPE-1", "reason_code": "BILLING_ERROR", "amount": "1"}
    )
    assert "<li>no issued invoice numbered &#x27;NOPE-1&#x27;" in response.content.decode()


def test_partner_approves_from_the_detail_page(login, users, inv, now):
    from caseledger.credits.services import credit_note_request

    note = credit_note_request(
        invoice=inv, reason_code="FEE_WAIVER", amount_cents=5_000, actor=users["BILLING"], now=now
    )
    client = login(users["PARTNER"])
    assert "Approve and issue" in client.get(f"/credits/{note.pk}/").content.decode()
    client.post(f"/credits/{note.pk}/approve/", {"note": "ok"})
    note.refresh_from_db()
    assert note.status == "ISSUED"


def test_write_off_form_and_report_csv(login, users, inv):
    client = login(users["BILLING"])
    client.post("/credits/write-offs/new/", {"invoice": inv.number, "amount": "100", "reason": "x"})
    assert WriteOff.objects.get().status == "POSTED"
    client.post(
        "/credits/new/", {"invoice": inv.number, "reason_code": "SCOPE_CHANGE", "amount": "50"}
    )
    response = client.get(
        "/credits/reports/",
        {"by": "reason", "date_from": "2026-01-01", "date_to": "2026-12-31", "format": "csv"},
    )
    lines = response.content.decode().strip().splitlines()
    assert lines[0] == "Reason,Credit notes,Credited,Operating refunds,Trust refunds"
    assert lines[1:] == ["Scope change,1,50.00,0.00,0.00"]


def test_list_pages_do_not_grow_queries_with_rows(login, users, now, django_assert_max_num_queries):
    from caseledger.credits.services import credit_note_request

    for _ in range(5):
        i = F.invoice(matter_obj=F.matter(), cents=10_000)
        credit_note_request(
            invoice=i,
            reason_code="BILLING_ERROR",
            amount_cents=100,
            actor=users["BILLING"],
            now=now,
        )
    client = login(users["BILLING"])
    with django_assert_max_num_queries(12):
        assert client.get("/credits/").status_code == 200


def test_the_deciding_partner_sees_approved_by_you(login, users, now):
    from django.urls import reverse

    from caseledger.credits.choices import ReasonCode
    from caseledger.credits.services import credit_note_request, write_off_request

    note = credit_note_request(
        invoice=F.invoice(matter_obj=F.matter(), cents=100_000),
        reason_code=ReasonCode.FEE_WAIVER,
        amount_cents=1_000,
        actor=users["BILLING"],
        now=now,
    )
    write_off = write_off_request(
        invoice=F.invoice(matter_obj=F.matter(), cents=100_000),
        reason="Bad debt",
        actor=users["BILLING"],
        now=now,
    )
    partner = login(users["PARTNER"])
    for detail, approve, pk in [
        ("credits:credit_note_detail", "credits:credit_note_approve", note.pk),
        ("credits:write_off_detail", "credits:write_off_approve", write_off.pk),
    ]:
        url = reverse(detail, args=[pk])
        assert reverse(approve, args=[pk]) in partner.get(url).content.decode()
        assert partner.post(reverse(approve, args=[pk])).status_code == 302
        page = partner.get(url).content.decode()
        assert "Approved by you" in page
        assert reverse(approve, args=[pk]) not in page
