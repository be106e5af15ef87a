from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from caseledger.clients.models import Client
from caseledger.clients.tests.factories import make_beneficiary, make_company, make_person
from caseledger.core.models import AuditEvent
from caseledger.matters import services
from caseledger.matters.models import Matter
from caseledger.matters.tests.factories import case_type, make_matter


def errors_under(html: str, field: str) -> list[str]:
    """The error messages shown under one form field (core's and clients' field templates)."""
    block = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


@pytest.fixture
def team_matter(db, users, now):
    beneficiary = make_beneficiary(a_number="A201234567")
    matter = make_matter(
        beneficiary=beneficiary,
        client=beneficiary.client,
        attorney=users["ATTORNEY"],
        paralegal=users["PARALEGAL"],
    )
    services.receipt_add(matter=matter, number="WAC2590012345", actor=None, now=now)
    return matter


@pytest.mark.django_db
def test_paralegal_sees_only_team_matters(team_matter, make_user, users, login):
    other = make_matter(paralegal=make_user(role="PARALEGAL", username="p_other"))
    http = login(users["PARALEGAL"])
    page = http.get(reverse("matters:list"))
    assert page.status_code == 200
    assert team_matter.number in page.content.decode()
    assert other.number not in page.content.decode()
    assert http.get(reverse("matters:detail", args=[other.pk])).status_code == 403
    assert http.get(f"/api/v1/matters/{other.pk}").status_code == 403
    assert http.get(f"/api/v1/clients/{other.client_id}").status_code == 403
    ids = [m["id"] for m in http.get("/api/v1/matters").json()["results"]]
    assert ids == [team_matter.pk]


@pytest.mark.django_db
def test_search_by_receipt_and_a_number(team_matter, users, login):
    http = login(users["PARTNER"])
    make_matter()
    for term in ("WAC-25-900-12345", "a201234567", team_matter.client.name[:12]):
        body = http.get(reverse("matters:list"), {"q": term}).content.decode()
        assert team_matter.number in body, term
        assert body.count("/matters/") >= 1
    body = http.get(reverse("matters:list"), {"q": "A209999999"}).content.decode()
    assert team_matter.number not in body


@pytest.mark.django_db
def test_filters_stage_status_and_deadline_window(team_matter, users, login, now):
    other = make_matter()
    services.matter_stage_advance(matter=other, stage="lca_filed", actor=users["PARTNER"], now=now)
    services.deadline_create(
        matter=team_matter,
        kind="HEARING",
        due_date=timezone.localdate() + timedelta(days=10),
        actor=None,
        now=now,
    )
    http = login(users["PARTNER"])
    body = http.get(reverse("matters:list"), {"stage": "lca_filed"}).content.decode()
    assert other.number in body
    assert team_matter.number not in body
    body = http.get(reverse("matters:list"), {"deadline_within": "30"}).content.decode()
    assert team_matter.number in body
    assert other.number not in body
    body = http.get(reverse("matters:list"), {"status": "CLOSED"}).content.decode()
    assert team_matter.number not in body
    body = http.get(
        reverse("matters:list"),
        {"attorney": users["ATTORNEY"].pk, "case_type": case_type("h1b_cap").pk},
    ).content.decode()
    assert team_matter.number in body
    assert other.number not in body


@pytest.mark.django_db
def test_advance_form_and_error_messages(team_matter, users, login):
    http = login(users["PARALEGAL"])
    url = reverse("matters:advance", args=[team_matter.pk])
    lca = team_matter.case_type.stages.get(code="lca_filed")
    filing = team_matter.case_type.stages.get(code="prepare_filing")
    response = http.post(url, {"stage": filing.pk})
    assert response.status_code == 422
    assert "skips LCA filed, Petition prepared" in response.content.decode()
    response = http.post(url, {"stage": lca.pk})
    assert response.status_code == 302
    team_matter.refresh_from_db()
    assert team_matter.current_stage == lca


@pytest.mark.django_db
def test_held_matter_page_refuses_advance(team_matter, users, login, now):
    services.matter_hold_set(matter=team_matter, actor=None, reason="Invoice overdue", now=now)
    http = login(users["PARALEGAL"])
    page = http.get(reverse("matters:detail", args=[team_matter.pk])).content.decode()
    assert "On hold for new work" in page
    lca = team_matter.case_type.stages.get(code="lca_filed")
    response = http.post(reverse("matters:advance", args=[team_matter.pk]), {"stage": lca.pk})
    assert response.status_code == 422
    assert "is on hold for new work (Invoice overdue)" in response.content.decode()
    # A partner overrides with a reason.
    http = login(users["PARTNER"])
    response = http.post(
        reverse("matters:advance", args=[team_matter.pk]),
        {"stage": lca.pk, "override_reason": "USCIS deadline tomorrow"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="matters.hold_overridden").count() == 1


@pytest.mark.django_db
def test_bad_receipt_number_message(team_matter, users, login):
    http = login(users["PARALEGAL"])
    response = http.post(reverse("matters:receipt_add", args=[team_matter.pk]), {"number": "XYZ12"})
    assert response.status_code == 422
    html = response.content.decode()
    # The service's refusal, under the form's "number" field, without its internal prefix.
    [error] = errors_under(html, "number")
    assert error.startswith("must be 3 letters and 10 digits")
    assert "receipt_number:" not in html
    assert 'value="XYZ12"' in html  # the input is kept
    assert team_matter.receipts.count() == 1


@pytest.mark.django_db
def test_create_matter_page_refuses_employment_case_for_person(users, login):
    person = make_person(actor=users["PARALEGAL"])
    http = login(users["PARALEGAL"])
    response = http.post(
        reverse("matters:create") + f"?client={person.pk}", {"case_type": case_type("h1b_cap").pk}
    )
    assert response.status_code == 200
    assert "is employment-based; the petitioner must be a company" in response.content.decode()
    assert Matter.objects.count() == 0


@pytest.mark.django_db
def test_deadline_and_my_tasks(team_matter, users, login):
    http = login(users["PARALEGAL"])
    due = timezone.localdate() + timedelta(days=5)
    response = http.post(
        reverse("matters:deadline_add", args=[team_matter.pk]),
        {"kind": "RFE_RESPONSE", "due_date": due.isoformat(), "description": "Respond to RFE"},
    )
    assert response.status_code == 302
    tasks = http.get(reverse("matters:my_tasks")).content.decode()
    assert "RFE / NOID response due on" in tasks
    task = team_matter.tasks.get()
    response = http.post(reverse("matters:task_done", args=[task.pk]))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "DONE"


@pytest.mark.django_db
def test_client_create_warns_on_duplicate_then_allows(users, login):
    make_person(name="Carlos Mendoza", date_of_birth=date(1985, 2, 1))
    http = login(users["PARALEGAL"])
    data = {
        "name": "Carlos Mendoza", "kind": "PERSON", "client_type": "PRIVATE",
        "date_of_birth": "1985-02-01", "payment_terms_days": "30", "preferred_language": "en",
        "country": "US",
    }  # fmt: skip
    response = http.post(reverse("clients:create"), data)
    assert response.status_code == 200
    assert "This looks like an existing client" in response.content.decode()
    assert Client.objects.count() == 1
    response = http.post(reverse("clients:create"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Client.objects.count() == 2


@pytest.mark.django_db
def test_client_page_masks_and_reveal_is_audited(users, login):
    person = make_person(a_number="A123456789", ssn_itin="912-70-1234")
    http = login(users["PARTNER"])
    page = http.get(reverse("clients:detail", args=[person.pk])).content.decode()
    assert "A123456789" not in page
    assert "•••••••789" in page
    revealed = http.post(reverse("clients:reveal", args=[person.pk])).content.decode()
    assert "A123456789" in revealed
    assert (
        AuditEvent.objects.filter(action="clients.pii_revealed", actor=users["PARTNER"]).count()
        == 1
    )
    http = login(users["BILLING"])
    page = http.get(reverse("clients:detail", args=[person.pk])).content.decode()
    assert "A123456789" not in page
    assert ">Reveal<" not in page
    assert http.post(reverse("clients:reveal", args=[person.pk])).status_code == 403


@pytest.mark.django_db
def test_client_edit_never_prefills_pii(users, login):
    person = make_person(a_number="A123456789")
    http = login(users["PARTNER"])
    page = http.get(reverse("clients:edit", args=[person.pk])).content.decode()
    assert "A123456789" not in page


@pytest.mark.django_db
def test_case_type_admin_adds_stage(users, login):
    http = login(users["ADMIN"])
    ct = case_type("consultation")
    stages = list(ct.stages.order_by("position"))
    data: dict[str, object] = {
        "code": ct.code, "name": ct.name, "beneficiary_rule": ct.beneficiary_rule,
        "is_active": "on",
        "stages-TOTAL_FORMS": str(len(stages) + 1), "stages-INITIAL_FORMS": str(len(stages)),
    }  # fmt: skip
    for i, s in enumerate(stages):
        data.update({f"stages-{i}-id": s.pk, f"stages-{i}-order": s.position * 10,
                     f"stages-{i}-code": s.code, f"stages-{i}-name": s.name})  # fmt: skip
        if s.closes_matter:
            data[f"stages-{i}-closes_matter"] = "on"
    n = len(stages)
    data.update(
        {
            f"stages-{n}-order": "25",
            f"stages-{n}-code": "follow_up",
            f"stages-{n}-name": "Follow-up",
        }
    )
    response = http.post(reverse("matters:case_type_edit", args=[ct.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    codes = list(ct.stages.order_by("position").values_list("code", flat=True))
    assert codes == ["scheduled", "consultation_held", "follow_up", "advice_sent", "closed"]


# API ----------------------------------------------------------------------------------------


def _post(http, path, body):
    return http.post(f"/api/v1{path}", data=json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_api_create_client_beneficiary_matter_and_advance(users, login):
    http = login(users["PARALEGAL"])
    response = _post(
        http,
        "/clients",
        {"name": "Acme Robotics Inc.", "kind": "COMPANY", "client_type": "CORPORATE"},
    )
    assert response.status_code == 201
    client_id = response.json()["id"]
    client = Client.objects.get(pk=client_id)
    beneficiary = make_beneficiary(client=client)
    response = _post(http, "/matters", {
        "client_id": client_id, "case_type": "h1b_cap", "beneficiary_id": beneficiary.pk,
        "paralegal_id": users["PARALEGAL"].pk,
    })  # fmt: skip
    assert response.status_code == 201, response.json()
    matter = response.json()
    assert matter["current_stage"] == "intake"
    response = _post(http, f"/matters/{matter['id']}/advance", {"stage": "lca_filed"})
    assert response.status_code == 201
    assert response.json()["from_stage"] == "intake"
    response = _post(http, f"/matters/{matter['id']}/advance", {"stage": "closed"})
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "stage"
    response = _post(http, f"/matters/{matter['id']}/advance", {"stage": "oath_ceremony"})
    assert response.json()["error"]["message"].startswith(
        "stage: 'oath_ceremony' is not a stage of"
    )


@pytest.mark.django_db
def test_api_bad_input_messages(users, login):
    http = login(users["PARTNER"])
    response = _post(
        http,
        "/clients",
        {"name": "Jo Doe", "kind": "PERSON", "client_type": "PRIVATE", "a_number": "A1"},
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "client_invalid",
        "message": "a_number: must be 'A' followed by 7, 8 or 9 digits, e.g. A012345678 (got 'A1')",
        "field": "a_number",
    }
    person = make_person()
    response = _post(http, "/matters", {"client_id": person.pk, "case_type": "perm"})
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "case_type"
    make_company(email="legal@acme.example")
    response = _post(
        http,
        "/clients",
        {
            "name": "Other",
            "kind": "COMPANY",
            "client_type": "CORPORATE",
            "email": "legal@acme.example",
        },
    )
    assert response.status_code == 409
    assert "confirm_duplicate=true" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_api_client_read_masks_pii(users, login):
    person = make_person(a_number="A123456789")
    data = login(users["PARTNER"]).get(f"/api/v1/clients/{person.pk}").json()
    assert data["a_number_masked"] == "•••••••789"
    assert "A123456789" not in json.dumps(data)


@pytest.mark.django_db
def test_home_page_shows_the_matters_panels_by_role(team_matter, users, login):
    # The panels are registered with core's home-panel registry and rendered on the home page.
    today = timezone.localdate()
    now = timezone.now()
    services.deadline_create(
        matter=team_matter, kind="HEARING", due_date=today + timedelta(days=3), actor=None, now=now
    )
    services.task_create(
        title="Collect the beneficiary's diplomas",
        matter=team_matter,
        assignee=users["PARALEGAL"],
        actor=None,
        now=now,
    )
    body = login(users["PARALEGAL"]).get(reverse("core:home")).content.decode()
    assert 'data-panel="matters.my_tasks"' in body
    assert "Collect the beneficiary&#x27;s diplomas" in body
    assert 'data-panel="matters.deadlines"' in body
    assert "Deadlines in the next 14 days" in body
    assert team_matter.number in body

    body = login(users["CLIENT"]).get(reverse("core:home")).content.decode()
    assert 'data-panel="matters.my_tasks"' not in body
    assert 'data-panel="matters.deadlines"' not in body
