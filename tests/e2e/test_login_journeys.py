"""Browser journeys for the foundation: two-factor login, lockout, role-based navigation."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseledger.core.models import Firm
from caseledger.core.selectors import firm_get
from tests.e2e.conftest import totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_partner_logs_in_with_password_and_totp(make_user, page, live_server):
    Firm.objects.filter(id=firm_get().id).update(
        two_factor_enforced=True, two_factor_roles=["PARTNER"]
    )
    partner = make_user(role="PARTNER", username="priya", first_name="Priya")
    device = TOTPDevice.objects.create(user=partner, name="phone", confirmed=True)

    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "priya")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url("**/login/two-factor/**")
    assert page.locator("h1").inner_text() == "Enter your code"

    # A wrong code: one clear message, still on the code page.
    wrong = f"{(int(totp_code(device)) + 500_000) % 1_000_000:06d}"
    page.fill("#id_code", wrong)
    page.click("main button.primary")
    assert page.locator(".error-summary").inner_text().strip() == (
        "That code is wrong or has expired; enter the current 6-digit code."
    )
    assert "/login/two-factor/" in page.url

    device.refresh_from_db()
    device.throttle_reset()  # django-otp backs off after a failure; the user would wait a second
    page.fill("#id_code", totp_code(device))
    page.click("main button.primary")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-panel='core.account']").is_visible()
    assert "Partner" in page.locator(".topbar").inner_text()
    assert page.locator("[data-panel='core.recent_audit']").is_visible()


def test_required_user_enrols_during_login(make_user, page, live_server):
    Firm.objects.filter(id=firm_get().id).update(
        two_factor_enforced=True, two_factor_roles=["BILLING"]
    )
    make_user(role="BILLING", username="grace")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "grace")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url("**/profile/two-factor/**")
    assert page.locator(".qr img").evaluate("img => img.naturalWidth > 0")
    device = TOTPDevice.objects.get(user__username="grace", confirmed=False)
    page.fill("#id_code", totp_code(device))
    page.click("main button.primary")
    page.wait_for_url(f"{live_server.url}/")
    assert "Two-factor is on" in page.locator(".messages").inner_text()


def test_five_wrong_passwords_lock_the_account(make_user, page, live_server):
    make_user(role="ATTORNEY", username="sofia")
    for _ in range(5):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "sofia")
        page.fill("#id_password", "not my password")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Account locked"
    # Even the right password is refused now.
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "sofia")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Account locked"
    assert "administrator to unlock" in page.locator("main").inner_text()


def test_paralegal_sees_no_admin_navigation_and_gets_403(make_user, login_page, live_server):
    make_user(role="PARALEGAL", username="lena")
    page = login_page("lena")
    page.wait_for_url(f"{live_server.url}/")
    nav = page.locator("nav.sidenav").inner_text()
    for label in ("People", "Firm settings", "Audit log"):
        assert label not in nav
    assert "Profile" in nav
    response = page.goto(f"{live_server.url}/settings/people/")
    assert response is not None
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"


def test_admin_pages_render_under_the_strict_csp(make_user, login_page, live_server):
    Firm.objects.filter(id=firm_get().id).update(two_factor_enforced=False)
    make_user(role="ADMIN", username="alex")
    page = login_page("alex")
    page.wait_for_url(f"{live_server.url}/")
    nav = page.locator("nav.sidenav").inner_text()
    for label in ("People", "Firm settings", "Audit log"):
        assert label in nav
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    for path in (
        "/",
        "/settings/firm/",
        "/settings/people/",
        "/settings/people/invite/",
        "/profile/",
        "/profile/two-factor/",
        "/audit/",
        "/api/v1/docs",
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    # The docs page runs the bundled Swagger UI: it must render under script-src 'self'.
    assert page.locator(".swagger-ui .opblock").first.is_visible()
    assert problems == []
