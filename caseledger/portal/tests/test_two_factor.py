"""Two-factor for client portal users: optional, and required by the firm setting that requires
it for staff roles (Firm.two_factor_enforced with "CLIENT" among Firm.two_factor_roles, the
"Client (portal)" box on the firm settings page). Required, a client without an authenticator
is sent to enrol (the staff TOTP enrolment) before any portal page or API answer; not required,
the password alone opens the portal."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseledger.clients.tests.factories import make_person
from caseledger.core.choices import Role
from caseledger.core.models import AuditEvent, Firm
from caseledger.core.selectors import firm_get
from caseledger.core.tests.test_login import PASSWORD, totp_now

pytestmark = pytest.mark.django_db

PORTAL_PAGES = ("portal:home", "portal:invoices", "portal:trust", "portal:credits")


def _firm_requires_client_two_factor(required: bool) -> None:
    roles = ["ADMIN", "PARTNER", "BILLING"] + (["CLIENT"] if required else [])
    Firm.objects.filter(id=firm_get().id).update(two_factor_enforced=True, two_factor_roles=roles)


def _portal_client(make_user: Any) -> Any:
    client = make_person()
    user = make_user(role=Role.CLIENT, username="ana@mail.example")
    client.portal_users.add(user)
    return user


def test_required_a_client_without_two_factor_enrols_before_seeing_anything(client, make_user):
    _firm_requires_client_two_factor(True)
    user = _portal_client(make_user)
    signed_in = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert signed_in["Location"].startswith(reverse("core:two_factor_enrol"))
    for name in PORTAL_PAGES:
        page = client.get(reverse(name))
        assert page.status_code == 302, name
        assert page["Location"].startswith(reverse("core:two_factor_enrol")), name
    assert client.get("/api/v1/me").status_code == 401
    enrol = client.get(reverse("core:two_factor_enrol") + "?next=/portal/invoices/")
    assert enrol.status_code == 200
    assert "Your firm requires a second step at login" in enrol.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post(
        reverse("core:two_factor_enrol"), {"code": totp_now(device), "next": "/portal/invoices/"}
    )
    assert done.status_code == 302
    assert done["Location"] == "/portal/invoices/"
    for name in PORTAL_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    assert AuditEvent.objects.filter(action="user.two_factor_enabled", actor=user).exists()


def test_required_a_client_with_two_factor_gives_the_code_at_login(client, make_user):
    _firm_requires_client_two_factor(True)
    user = _portal_client(make_user)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    signed_in = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert signed_in["Location"].startswith(reverse("core:two_factor_verify"))
    assert client.get(reverse("portal:home")).status_code == 302
    client.post(reverse("core:two_factor_verify"), {"code": totp_now(device)})
    assert client.get(reverse("portal:home")).status_code == 200


def test_not_required_the_password_opens_the_portal(client, make_user):
    _firm_requires_client_two_factor(False)
    user = _portal_client(make_user)
    signed_in = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert not signed_in["Location"].startswith("/profile/two-factor/")
    for name in PORTAL_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_turned_on_it_reaches_a_client_session_already_open(client, make_user):
    _firm_requires_client_two_factor(False)
    user = _portal_client(make_user)
    client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert client.get(reverse("portal:home")).status_code == 200
    _firm_requires_client_two_factor(True)
    page = client.get(reverse("portal:invoices"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("core:two_factor_enrol"))


def test_the_firm_settings_page_offers_it_for_client_portal_users(client, login, users):
    login(users["ADMIN"])
    page = client.get(reverse("core:firm_settings")).content.decode()
    assert 'value="CLIENT"' in page
    assert "Client (portal)" in page


def test_a_spanish_client_enrols_and_gives_the_code_in_spanish(client, make_user):
    """Core's enrolment and code pages read in the client's language (core.i18n.user_language,
    registered by the portal); staff keep English."""
    _firm_requires_client_two_factor(True)
    user = _portal_client(make_user)
    user.portal_clients.update(preferred_language="es")
    client.post("/login/", {"username": user.username, "password": PASSWORD})
    enrol = client.get(reverse("core:two_factor_enrol") + "?next=/portal/")
    assert enrol["Content-Language"] == "es"
    page = enrol.content.decode()
    assert '<html lang="es">' in page
    assert "Active la verificación en dos pasos" in page
    assert "La firma exige un segundo paso para iniciar sesión" in page
    assert "Escanee el código QR" in page
    assert "Cancelar y cerrar sesión" in page
    assert "Portal del cliente" in page
    assert "Set up two-factor" not in page
    wrong = client.post(reverse("core:two_factor_enrol"), {"code": "000000", "next": "/portal/"})
    assert "Ese código no es correcto o ya venció" in wrong.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post(
        reverse("core:two_factor_enrol"), {"code": totp_now(device), "next": "/portal/"}
    )
    assert done["Location"] == "/portal/"
    home = client.get("/portal/").content.decode()
    assert "La verificación en dos pasos está activada" in home
    client.post(reverse("core:logout"))
    client.post("/login/", {"username": user.username, "password": PASSWORD})
    verify = client.get(reverse("core:two_factor_verify"))
    assert verify["Content-Language"] == "es"
    assert "Escriba su código" in verify.content.decode()


def test_staff_read_the_two_factor_pages_in_english(client, users):
    _firm_requires_client_two_factor(True)
    client.post("/login/", {"username": users["ADMIN"].username, "password": PASSWORD})
    enrol = client.get(reverse("core:two_factor_enrol"))
    assert enrol["Content-Language"] == "en"
    page = enrol.content.decode()
    assert '<html lang="en">' in page
    assert "Set up two-factor login" in page
