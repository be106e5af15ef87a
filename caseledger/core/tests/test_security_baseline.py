"""Security baseline (issue 20, docs/security.md): idle session timeout, password rules,
per-token API rate limits."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError

from caseledger.core import clock
from caseledger.core.models import Firm
from caseledger.core.security import LAST_ACTIVITY, password_cores
from caseledger.core.services import api_token_create

pytestmark = pytest.mark.django_db


def _idle(client, minutes: int) -> None:
    session = client.session
    session[LAST_ACTIVITY] = int(clock.now().timestamp()) - minutes * 60
    session.save()


def test_staff_session_ends_after_the_idle_limit(client, login, users, settings):
    settings.SESSION_IDLE_MINUTES_STAFF = 30
    login(users["PARTNER"])
    assert client.get("/clients/").status_code == 200
    _idle(client, 29)
    assert client.get("/clients/").status_code == 200  # activity moves the mark
    _idle(client, 31)
    r = client.get("/clients/")
    assert r.status_code == 302
    assert r["Location"] == "/login/?next=%2Fclients%2F"
    page = client.get(r["Location"])
    assert "signed out after 30 minutes without activity" in page.content.decode()
    # Signed out for good: the next page asks for the login again.
    assert client.get("/clients/").status_code == 302


def test_client_limit_is_shorter_and_the_api_answers_401(client, login, make_user, settings):
    settings.SESSION_IDLE_MINUTES_STAFF = 30
    settings.SESSION_IDLE_MINUTES_CLIENT = 15
    user = make_user(role="CLIENT")
    login(user)
    _idle(client, 16)
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "session_expired"


def test_staff_within_the_limit_keeps_the_session(client, login, users, settings):
    settings.SESSION_IDLE_MINUTES_STAFF = 30
    login(users["BILLING"])
    _idle(client, 20)
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    "password",
    [
        "Password2024!!",  # Django's list, with a year and symbols
        "P@ssw0rd123456",  # leetspeak
        "immigration2026!",  # a word of the trade
        "Attorney#1Attorney#1",
        "summersummer12",  # a repeated common word
        "HarborLaw2026!!",  # the firm's name
    ],
)
def test_common_and_contextual_passwords_are_refused(password, make_user):
    Firm.objects.filter(id=1).update(name="Harbor Law")
    user = make_user()
    with pytest.raises(ValidationError) as exc:
        validate_password(password, user)
    assert any(e.code == "password_too_common" for e in exc.value.error_list)


def test_a_long_unrelated_phrase_is_accepted(make_user):
    validate_password("plinth marmalade corridor", make_user())


def test_short_passwords_are_refused_by_length(make_user):
    with pytest.raises(ValidationError) as exc:
        validate_password("Zq9#vL2!", make_user())
    assert any(e.code == "password_too_short" for e in exc.value.error_list)


def test_password_cores_strip_decorations():
    assert {"password", "p@ssw0rd"} <= password_cores("P@ssw0rd!!") | {"password"}
    assert "password" in password_cores("P@ssw0rd!!")
    assert "summer" in password_cores("SummerSummer")


def test_each_api_token_is_limited_per_minute(client, users, now, settings):
    settings.API_TOKEN_RATE_LIMIT = 3
    cache.clear()
    _, first = api_token_create(user=users["PARTNER"], now=now, name="one")
    _, second = api_token_create(user=users["PARTNER"], now=now, name="two")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {first}"}
    assert [client.get("/api/v1/me", **auth).status_code for _ in range(3)] == [200, 200, 200]
    r = client.get("/api/v1/me", **auth)
    assert r.status_code == 429
    assert 1 <= int(r["Retry-After"]) <= 60
    assert "more than 3 requests this minute" in r.json()["error"]["message"]
    # Another token has its own budget.
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200
