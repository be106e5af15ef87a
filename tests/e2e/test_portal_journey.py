"""The client portal in a browser: a Spanish-speaking client signs in, lands on the portal in
Spanish, sees the case stage and the trust balance, pays two invoices at once through the
sandbox processor and downloads an invoice PDF; a company contact cannot open another client's
invoice by id. Pages are captured at phone and desktop widths in var/screenshots/."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _spanish_client(make_user):
    from caseledger.clients.tests.factories import make_beneficiary, make_person
    from caseledger.core.choices import Role
    from caseledger.matters.tests.factories import make_matter
    from caseledger.payments.tests.factories import issued_invoice
    from caseledger.trust.services import deposit_record

    person = make_person(name="María Elena Torres", preferred_language="es")
    user = make_user(role=Role.CLIENT, username="maria", first_name="María Elena")
    person.portal_users.add(user)
    beneficiary = make_beneficiary(client=person, relationship="SPOUSE", name="Jorge Torres")
    matter = make_matter(client=person, beneficiary=beneficiary, case_type_code="i130")
    now = timezone.now()
    first = issued_invoice(matter=matter, cents=35_000, now=now, day=date(2026, 10, 1))
    second = issued_invoice(matter=matter, cents=120_000, now=now, day=date(2026, 10, 5))
    deposit_record(
        client=person,
        matter=matter,
        method="WIRE",
        payer="María Elena Torres",
        reference="W-1",
        amount_cents=250_000,
        received_date=date(2026, 10, 2),
        actor=None,
        now=now,
    )
    return user, matter, first, second


def test_spanish_client_pays_two_invoices_at_once(make_user, page, login_page, live_server):
    from caseledger.payments import selectors

    _, matter, first, second = _spanish_client(make_user)
    login_page("maria")
    assert page.url == f"{live_server.url}/portal/"
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Mis casos"
    assert "$2,500.00" in page.locator(".portal-kpis").inner_text()

    page.click(f"a[href='/portal/cases/{matter.pk}/']")
    current = page.locator(".portal-steps .step-current")
    assert "Etapa actual" in current.inner_text()
    assert "Apertura del caso" in current.inner_text()  # "Intake", in her language

    page.click("nav.portal-nav >> text=Cuenta fiduciaria")
    assert "$2,500.00" in page.locator("table").inner_text()

    page.click("nav.portal-nav >> text=Facturas y pagos")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, tag in ((390, "phone"), (1280, "desktop")):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"portal-invoices-{tag}.png"), full_page=True)
    with page.expect_download() as download:
        page.click(f"a[href='/portal/invoices/{first.pk}/pdf/']")
    assert download.value.suggested_filename == f"invoice-{first.number}.pdf"

    page.check(f"#pay-{first.pk}")
    page.check(f"#pay-{second.pk}")
    page.click("text=Pagar en línea las facturas marcadas")
    page.wait_for_url("**/pay/sandbox/**")
    assert "$1,550.00" in page.locator("h1").inner_text()
    page.click("button[value=success]")
    page.wait_for_load_state()
    page.click("text=Return to")
    page.wait_for_url("**/portal/invoices/?checkout=done")
    assert "Gracias" in page.locator(".message-success").inner_text()
    assert selectors.invoice_balance_due(first) == 0
    assert selectors.invoice_balance_due(second) == 0


def test_company_contact_cannot_open_another_clients_invoice(
    make_user, page, login_page, live_server
):
    from caseledger.core.choices import Role
    from caseledger.matters.tests.factories import make_matter
    from caseledger.payments.tests.factories import issued_invoice

    _, _, theirs, _ = _spanish_client(make_user)
    company_matter = make_matter()
    contact = make_user(role=Role.CLIENT, username="hannah", first_name="Hannah")
    company_matter.client.portal_users.add(contact)
    mine = issued_invoice(matter=company_matter, cents=50_000, now=timezone.now())
    login_page("hannah")
    assert page.url == f"{live_server.url}/portal/"
    ok = page.request.get(f"{live_server.url}/portal/invoices/{mine.pk}/pdf/")
    assert ok.status == 200
    refused = page.request.get(f"{live_server.url}/portal/invoices/{theirs.pk}/pdf/")
    assert refused.status == 404
    page.goto(f"{live_server.url}/portal/invoices/")
    assert theirs.number not in page.content()


def test_portal_pages_have_no_serious_accessibility_violation(make_user, page, login_page):
    """axe-core on every portal page at phone and desktop widths: no serious or critical
    violation (colour contrast included)."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    _, matter, first, _ = _spanish_client(make_user)
    login_page("maria")
    axe = axe_module.Axe()
    found = []
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/portal/", f"/portal/cases/{matter.pk}/", "/portal/invoices/",
                     "/portal/trust/", "/portal/credits/"):  # fmt: skip
            page.goto(page.url.split("/portal/")[0] + path)
            results = axe.run(page)
            found += [
                (width, path, v["id"], v["impact"])
                for v in results.response["violations"]
                if v["impact"] in {"serious", "critical"}
            ]
    assert found == []


def test_a_beneficiary_sees_their_case_accessibly_and_not_the_employers_account(
    make_user, page, login_page, live_server
):
    """The beneficiary of a company's petition signs in, sees their case (axe: no serious or
    critical violation at phone and desktop widths) and is refused the employer's invoices."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    from caseledger.clients.tests.factories import make_beneficiary, make_company
    from caseledger.core.choices import Role
    from caseledger.matters.tests.factories import make_matter
    from caseledger.payments.tests.factories import issued_invoice

    company = make_company(name="Acme Robotics Inc.")
    beneficiary = make_beneficiary(client=company, relationship="EMPLOYEE", name="Ravi Kumar")
    matter = make_matter(client=company, beneficiary=beneficiary)
    invoice = issued_invoice(matter=matter, cents=460_000, now=timezone.now())
    user = make_user(role=Role.CLIENT, username="ravi", first_name="Ravi")
    beneficiary.portal_users.add(user)
    login_page("ravi")
    assert page.url == f"{live_server.url}/portal/"
    assert "/portal/invoices/" not in page.content()
    refused = page.request.get(f"{live_server.url}/portal/invoices/{invoice.pk}/pdf/")
    assert refused.status == 403
    axe = axe_module.Axe()
    found = []
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in (("home", "/portal/"), ("case", f"/portal/cases/{matter.pk}/")):
            page.goto(f"{live_server.url}{path}")
            SHOTS.mkdir(parents=True, exist_ok=True)
            shot = SHOTS / f"portal-beneficiary-{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            results = axe.run(page)
            found += [
                (width, path, v["id"], v["impact"])
                for v in results.response["violations"]
                if v["impact"] in {"serious", "critical"}
            ]
    assert found == []


def test_a_company_grants_its_beneficiary_their_own_invoices(
    make_user, page, login_page, live_server
):
    """The company's contact opens the Beneficiaries page (axe: no serious or critical
    violation at phone and desktop widths) and shows Ravi his own case's invoices; Ravi then
    opens his invoice's PDF, and another matter of the company stays a 404."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    from caseledger.clients.tests.factories import make_beneficiary, make_company
    from caseledger.core.choices import Role
    from caseledger.matters.tests.factories import make_matter
    from caseledger.payments.tests.factories import issued_invoice

    company = make_company(name="Acme Robotics Inc.")
    contact = make_user(role=Role.CLIENT, username="hannah", first_name="Hannah")
    company.portal_users.add(contact)
    ravi = make_beneficiary(client=company, relationship="EMPLOYEE", name="Ravi Kumar")
    li = make_beneficiary(client=company, relationship="EMPLOYEE", name="Li Wei")
    own = issued_invoice(
        matter=make_matter(client=company, beneficiary=ravi), cents=460_000, now=timezone.now()
    )
    other = issued_invoice(
        matter=make_matter(client=company, beneficiary=li), cents=120_000, now=timezone.now()
    )
    ravi.portal_users.add(make_user(role=Role.CLIENT, username="ravi", first_name="Ravi"))
    login_page("hannah")
    axe = axe_module.Axe()
    found = []
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/portal/beneficiaries/")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"portal-beneficiaries-{width}.png"), full_page=True)
        results = axe.run(page)
        found += [
            (width, v["id"], v["impact"])
            for v in results.response["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
    assert found == []
    page.click("button:has-text('Show invoices and trust to Ravi Kumar')")
    page.wait_for_load_state()
    assert "Stop showing invoices and trust to Ravi Kumar" in page.content()
    page.click("button:has-text('Log out')")
    page.wait_for_load_state()
    login_page("ravi")
    page.goto(f"{live_server.url}/portal/invoices/")
    assert own.number in page.content()
    assert other.number not in page.content()
    assert page.request.get(f"{live_server.url}/portal/invoices/{own.pk}/pdf/").status == 200
    assert page.request.get(f"{live_server.url}/portal/invoices/{other.pk}/pdf/").status == 404
