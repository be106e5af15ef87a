"""Two-step login: password, then a TOTP code for users with a device or required by the firm."""

from __future__ import annotations

import pytest
from django.core import mail
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseledger.core import services
from caseledger.core.forms import banner_text
from caseledger.core.models import AuditEvent, Firm, OutboxMessage
from caseledger.core.selectors import firm_get
from caseledger.core.services import TOTP_CODE_WRONG

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.django_db


def totp_now(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def set_enforcement(enforced: bool, roles: list[str] | None = None) -> None:
    fields: dict[str, object] = {"two_factor_enforced": enforced}
    if roles is not None:
        fields["two_factor_roles"] = roles
    Firm.objects.filter(id=firm_get().id).update(**fields)


def test_password_alone_when_not_required_and_no_device(client, make_user):
    set_enforcement(False)
    make_user(role="PARTNER", username="pat")
    r = client.post("/login/", {"username": "pat", "password": PASSWORD})
    assert r.status_code == 302
    assert r["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", after={"two_factor": False}).exists()


def test_user_with_device_must_enter_code(client, make_user):
    set_enforcement(False)
    user = make_user(role="ATTORNEY", username="ann")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    r = client.post("/login/", {"username": "ann", "password": PASSWORD})
    assert r["Location"].startswith("/login/two-factor/")
    # Every other page sends the session back to the code page until the code is given.
    r = client.get("/profile/")
    assert r.status_code == 302
    assert r["Location"].startswith("/login/two-factor/")
    r = client.post("/login/two-factor/", {"code": totp_now(device)})
    assert r.status_code == 302
    assert r["Location"] == "/"
    assert client.get("/profile/").status_code == 200


def test_wrong_code_gives_one_clear_message(client, make_user):
    set_enforcement(False)
    user = make_user(role="ATTORNEY", username="ann")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.post("/login/", {"username": "ann", "password": PASSWORD})
    wrong = f"{(int(totp_now(device)) + 1) % 1_000_000:06d}"
    r = client.post("/login/two-factor/", {"code": wrong})
    assert r.status_code == 200
    body = r.content.decode()
    # Shown without the internal "code:" prefix.
    assert body.count(banner_text(TOTP_CODE_WRONG)) == 1
    assert TOTP_CODE_WRONG not in body
    assert client.get("/").status_code == 302  # still not in
    assert AuditEvent.objects.filter(action="auth.two_factor_failed").count() == 1


def test_malformed_code_gives_the_same_message(client, make_user):
    set_enforcement(False)
    user = make_user(role="ATTORNEY", username="ann")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.post("/login/", {"username": "ann", "password": PASSWORD})
    r = client.post("/login/two-factor/", {"code": "12ab"})
    assert r.content.decode().count(banner_text(TOTP_CODE_WRONG)) == 1
    assert TOTP_CODE_WRONG not in r.content.decode()


def test_required_role_without_device_is_sent_to_enrol(client, make_user):
    set_enforcement(True, ["PARTNER"])
    make_user(role="PARTNER", username="pat")
    r = client.post("/login/", {"username": "pat", "password": PASSWORD})
    assert r["Location"].startswith("/profile/two-factor/")
    assert client.get("/").status_code == 302
    page = client.get("/profile/two-factor/")
    assert page.status_code == 200
    assert b"data:image/svg+xml;base64," in page.content
    device = TOTPDevice.objects.get(user__username="pat", confirmed=False)
    r = client.post("/profile/two-factor/", {"code": totp_now(device)})
    assert r.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="user.two_factor_enabled").count() == 1


def test_enrolment_with_a_wrong_code_says_so_without_the_field_prefix(client, make_user):
    set_enforcement(True, ["PARTNER"])
    make_user(role="PARTNER", username="pat")
    client.post("/login/", {"username": "pat", "password": PASSWORD})
    client.get("/profile/two-factor/")
    device = TOTPDevice.objects.get(user__username="pat", confirmed=False)
    wrong = f"{(int(totp_now(device)) + 1) % 1_000_000:06d}"
    body = client.post("/profile/two-factor/", {"code": wrong}).content.decode()
    assert body.count(banner_text(TOTP_CODE_WRONG)) == 1
    assert TOTP_CODE_WRONG not in body
    device.refresh_from_db()
    assert not device.confirmed


def test_enforcement_reaches_sessions_already_open(client, make_user):
    set_enforcement(False)
    make_user(role="BILLING", username="bill")
    client.post("/login/", {"username": "bill", "password": PASSWORD})
    assert client.get("/").status_code == 200
    set_enforcement(True, ["BILLING"])
    r = client.get("/")
    assert r.status_code == 302
    assert r["Location"].startswith("/profile/two-factor/")
    # The API refuses the session too, with JSON.
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"


def test_disable_two_factor_needs_a_code_and_is_refused_when_required(login, make_user):
    from conftest import verify_two_factor

    set_enforcement(False)
    user = make_user(role="ATTORNEY", username="ann")
    client = login(user)
    device = verify_two_factor(client, user)
    r = client.post("/profile/two-factor/disable/", {"code": "000000"}, follow=True)
    # A banner (the code is not kept), without the internal "code:" prefix.
    assert banner_text(TOTP_CODE_WRONG) in r.content.decode()
    assert TOTP_CODE_WRONG not in r.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()
    device.refresh_from_db()
    device.throttle_reset()
    set_enforcement(True, ["ATTORNEY"])
    r = client.post("/profile/two-factor/disable/", {"code": totp_now(device)}, follow=True)
    assert banner_text(services.TOTP_REQUIRED_BY_FIRM) in r.content.decode()
    set_enforcement(False)
    client.post("/profile/two-factor/disable/", {"code": totp_now(device)})
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="user.two_factor_disabled").count() == 1


def test_inactive_user_cannot_log_in(client, make_user):
    make_user(role="PARALEGAL", username="gone", is_active=False)
    r = client.post("/login/", {"username": "gone", "password": PASSWORD})
    assert r.status_code == 200
    assert "Username or password is wrong" in r.content.decode()


def test_five_failures_lock_the_account_and_admin_unlocks(client, make_user, users, now):
    set_enforcement(False)
    make_user(role="PARALEGAL", username="lee")
    for _ in range(5):
        r = client.post("/login/", {"username": "lee", "password": "wrong"})
    assert r.status_code == 429
    assert "Account locked" in r.content.decode()
    r = client.post("/login/", {"username": "lee", "password": PASSWORD})
    assert r.status_code == 429
    from caseledger.core.models import User

    services.user_unlock(actor=users["ADMIN"], now=now, user=User.objects.get(username="lee"))
    r = client.post("/login/", {"username": "lee", "password": PASSWORD})
    assert r.status_code == 302


def test_password_reset_by_email(client, make_user, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "http://127.0.0.1:8101"
    set_enforcement(False)
    make_user(role="PARALEGAL", username="lee")
    for _ in range(5):
        client.post("/login/", {"username": "lee", "password": "wrong"})
    assert client.post("/login/", {"username": "lee", "password": PASSWORD}).status_code == 429
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/password-reset/", {"email": "lee@example.com"})
    assert r.status_code == 302
    assert len(mail.outbox) == 1
    # Through the outbox, under a key that does not reveal the reset token.
    (row,) = OutboxMessage.objects.filter(kind="core.password_reset")
    assert row.status == "SENT"
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id
    assert row.key.startswith(f"core.password_reset:{row.related_id}:")
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line)
    # Absolute from SITE_URL, not from the Host header of the request that asked for it.
    assert link.startswith("http://127.0.0.1:8101/password-reset/")
    path = link.removeprefix("http://127.0.0.1:8101")
    assert path.rstrip("/").rsplit("/", 1)[1] not in row.key  # the token stays in the body
    r = client.get(path, follow=True)
    assert b"Set a new password" in r.content
    r = client.post(
        r.redirect_chain[-1][0],
        {
            "new_password1": "a brand new passphrase 42",
            "new_password2": "a brand new passphrase 42",
        },
    )
    assert r.status_code == 302
    # The emailed link proved the address: the lockout is cleared with the new password.
    r = client.post("/login/", {"username": "lee", "password": "a brand new passphrase 42"})
    assert r.status_code == 302
    assert r["Location"] == "/"
    assert AuditEvent.objects.filter(action="user.password_reset").count() == 1


def test_invited_user_who_lost_the_link_can_ask_for_a_new_one(
    client, users, now, django_capture_on_commit_callbacks
):
    services.user_invite(
        actor=users["ADMIN"], now=now, username="inv", email="inv@example.com",
        first_name="In", last_name="Vited", role="ATTORNEY", site_url="http://x",
    )  # fmt: skip
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/password-reset/", {"email": "inv@example.com"})
    assert len(mail.outbox) == 1


def test_next_survives_the_code_step(client, make_user):
    set_enforcement(False)
    user = make_user(role="ATTORNEY", username="ann")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    r = client.post(
        "/login/",
        {"username": "ann", "password": PASSWORD, "next": "/profile/?tab=a&x=1"},
    )
    assert r["Location"] == "/login/two-factor/?next=%2Fprofile%2F%3Ftab%3Da%26x%3D1"
    r = client.post(r["Location"], {"code": totp_now(device)})
    assert r["Location"] == "/profile/?tab=a&x=1"


def test_next_to_another_site_is_ignored(client, make_user):
    set_enforcement(False)
    user = make_user(role="ATTORNEY", username="ann")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.post("/login/", {"username": "ann", "password": PASSWORD})
    r = client.post("/login/two-factor/?next=https://evil.example/", {"code": totp_now(device)})
    assert r["Location"] == "/"
