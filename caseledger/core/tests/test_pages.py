"""Firm settings, people, profile and API tokens, audit page, home panels."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from caseledger.core import selectors, services
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import ApiToken, AuditEvent, Firm, User
from caseledger.core.selectors import firm_get

pytestmark = pytest.mark.django_db


def firm_form(**overrides):
    data = {
        "name": "Raman & Okafor",
        "address": "1 Main St",
        "email": "office@example.com",
        "phone": "555",
        "currency": "USD",
        "time_zone": "America/Chicago",
        "invoice_number_format": "INV-{year}-{seq}",
        "invoice_number_width": "5",
        "rounding_rule": "HALF_EVEN",
        "disbursement_dual_approval_cents": "7,500.00",
        "credit_note_approval_cents": "$250",
        "write_off_approval_cents": "100.5",
        "amount_ceiling_cents": "10,000,000.00",
        "two_factor_enforced": "on",
        "two_factor_roles": ["ADMIN", "PARTNER"],
        "matters_open_to_all": "",
    }
    data.update(overrides)
    return data


def test_firm_settings_saves_cents_and_audits_the_diff(login, users):
    client = login(users["ADMIN"])
    r = client.post("/settings/firm/", firm_form())
    assert r.status_code == 302
    firm = Firm.objects.get(id=1)
    assert firm.disbursement_dual_approval_cents == 750_000
    assert firm.credit_note_approval_cents == 25_000
    assert firm.write_off_approval_cents == 10_050
    assert firm.currency == "USD"
    assert firm.time_zone == "America/Chicago"
    assert firm.two_factor_roles == ["ADMIN", "PARTNER"]
    event = AuditEvent.objects.get(action="firm.updated")
    assert event.before is not None
    assert event.after is not None
    assert event.before["disbursement_dual_approval_cents"] == 500_000
    assert event.after["disbursement_dual_approval_cents"] == 750_000
    assert event.after["invoice_number_format"] == "INV-{year}-{seq}"
    assert "matters_open_to_all" not in event.after  # unchanged fields are not in the diff
    # Saving the same values again records nothing.
    client.post("/settings/firm/", firm_form())
    assert AuditEvent.objects.filter(action="firm.updated").count() == 1
    page = client.get("/settings/firm/").content.decode()
    assert 'value="7,500.00"' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "disbursement_dual_approval_cents",
            "12.345",
            "USD has at most 2 decimal places (got &#x27;12.345&#x27;)",
        ),
        (
            "disbursement_dual_approval_cents",
            "-5",
            "must be zero or more (got -$5.00)",
        ),
        (
            "credit_note_approval_cents",
            "abc",
            "must be an amount like 1,234.56 (got &#x27;abc&#x27;)",
        ),
        ("credit_note_approval_cents", "１２３", "must be an amount like 1,234.56"),
        ("amount_ceiling_cents", "0", "must be between $0.01 and"),
        (
            "amount_ceiling_cents",
            "1,000,000,000.01",
            "must be between $0.01 and $1,000,000,000.00 (got $1,000,000,000.01)",
        ),
        ("amount_ceiling_cents", "1e9", "must be an amount like 1,234.56"),
        ("invoice_number_format", "{year}", "must contain {seq}"),
        ("invoice_number_format", "{seq}-{client}", "may only use {year} and {seq}"),
        ("currency", "U5D", "Select a valid choice"),
        ("currency", "XYZ", "Select a valid choice"),
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
    ],
)
def test_firm_settings_bad_input_names_the_field(login, users, field, value, message):
    client = login(users["ADMIN"])
    r = client.post("/settings/firm/", firm_form(**{field: value}))
    assert r.status_code == 200
    page = r.content.decode()
    # Under the field (core.forms.handle_form), without the internal "<field>: " prefix.
    block = re.search(rf'<ul class="errorlist" id="id_{field}-errors">(.*?)</ul>', page, re.S)
    assert block is not None
    assert message in block.group(1)
    assert f"{field}: " not in page
    assert not AuditEvent.objects.filter(action="firm.updated").exists()


def test_two_factor_switch_is_one_click(login, users):
    Firm.objects.filter(id=firm_get().id).update(two_factor_enforced=False)
    client = login(users["ADMIN"])
    client.post("/settings/firm/two-factor/")
    assert Firm.objects.get(id=1).two_factor_enforced is True
    event = AuditEvent.objects.get(action="firm.updated")
    assert event.before == {"two_factor_enforced": False}
    assert event.after == {"two_factor_enforced": True}


def test_invite_creates_user_without_password_and_emails_a_link(
    login, users, django_capture_on_commit_callbacks
):
    admin_client = login(users["ADMIN"])
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(
            "/settings/people/invite/",
            {
                "username": "newbie",
                "first_name": "New",
                "last_name": "Person",
                "email": "new@example.com",
                "role": "ATTORNEY",
            },
        )
    assert r.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.role == "ATTORNEY"
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line)
    other = Client()
    assert link.startswith("http://127.0.0.1:8000/password-reset/")
    r = other.get(link.removeprefix("http://127.0.0.1:8000"), follow=True)
    assert b"Set a new password" in r.content
    r = other.post(
        r.redirect_chain[-1][0],
        {"new_password1": "my own passphrase 2026", "new_password2": "my own passphrase 2026"},
    )
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.check_password("my own passphrase 2026")
    assert AuditEvent.objects.filter(action="user.invited", object_id=str(user.pk)).exists()


def test_invite_refuses_a_taken_username(login, users):
    r = login(users["ADMIN"]).post(
        "/settings/people/invite/",
        {
            "username": "PARTNER",
            "first_name": "A",
            "last_name": "B",
            "email": "a@b.c",
            "role": "PARTNER",
        },
    )
    assert "already taken" in r.content.decode()


def test_role_change_deactivate_reactivate_are_audited(login, users):
    client = login(users["ADMIN"])
    target = users["PARALEGAL"]
    client.post(f"/settings/people/{target.pk}/role/", {"role": "ATTORNEY"})
    client.post(f"/settings/people/{target.pk}/active/", {"active": "0"})
    target.refresh_from_db()
    assert target.role == "ATTORNEY"
    assert not target.is_active
    client.post(f"/settings/people/{target.pk}/active/", {"active": "1"})
    actions = list(
        AuditEvent.objects.filter(object_id=str(target.pk), object_type="core.user")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["user.role_changed", "user.deactivated", "user.reactivated"]
    page = client.get(f"/settings/people/{target.pk}/").content.decode()
    assert "user.role_changed" in page


def test_deactivated_user_is_refused_everywhere(login, users):
    user = users["ATTORNEY"]
    client = login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    r = client.get("/profile/")
    assert r.status_code == 302  # Django's ModelBackend drops an inactive user's session


def test_the_last_admin_cannot_be_demoted_or_deactivated(users, now, make_user):
    other_admin = make_user(role="ADMIN", username="admin2")
    only = users["ADMIN"]
    services.user_active_set(actor=only, now=now, user=other_admin, active=False)
    with pytest.raises(ApplicationError, match="at least one active administrator"):
        services.user_role_set(actor=other_admin, now=now, user=only, role="PARTNER")
    with pytest.raises(ApplicationError) as exc:
        services.user_active_set(actor=only, now=now, user=only, active=False)
    assert exc.value.message == services.SELF_DEACTIVATE


def test_profile_update_is_audited(login, users):
    client = login(users["OPERATIONS"])
    client.post("/profile/", {"first_name": "Omar", "last_name": "H", "email": "o@example.com"})
    event = AuditEvent.objects.get(action="user.profile_updated")
    assert event.after == {"email": "o@example.com", "first_name": "Omar", "last_name": "H"}


def test_api_token_shown_once_stored_hashed_and_revocable(login, users):
    user = users["BILLING"]
    client = login(user)
    r = client.post("/profile/tokens/", {"name": "accounting export"})
    body = r.content.decode()
    token = ApiToken.objects.get(user=user)
    start = body.index('id="new-token"') if 'id="new-token"' in body else -1
    assert start > 0
    secret = body.split('value="', body[:start].count('value="'))[-1].split('"', 1)[0]
    assert secret.startswith("cl_")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in client.get("/profile/").content.decode()  # never shown again

    api = Client()
    r = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.status_code == 200
    assert r.json()["role"] == "BILLING"
    assert r.json()["username"] == user.username
    token.refresh_from_db()
    assert token.last_used_at is not None

    client.post(f"/profile/tokens/{token.pk}/revoke/")
    r = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.status_code == 401
    assert r.json() == {
        "error": {
            "code": "unauthenticated",
            "message": "Authentication required: send Authorization: Bearer <token>.",
            "field": None,
        }
    }


def test_someone_elses_token_cannot_be_revoked(login, users, now):
    token, _ = services.api_token_create(user=users["PARTNER"], now=now, name="mine")
    r = login(users["ATTORNEY"]).post(f"/profile/tokens/{token.pk}/revoke/")
    assert r.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_of_deactivated_user_stops_working(users, now):
    _, secret = services.api_token_create(user=users["PARTNER"], now=now, name="x")
    User.objects.filter(pk=users["PARTNER"].pk).update(is_active=False)
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_audit_page_filters_and_paginates(login, users, now):
    from caseledger.core import audit

    admin = users["ADMIN"]
    for i in range(55):
        audit.record(actor=admin, action="test.bulk", at=now + timedelta(seconds=i), obj=admin)
    audit.record(
        actor=users["PARTNER"], action="firm.updated", at=now - timedelta(days=3),
        before={"name": "Old"}, after={"name": "New"},
    )  # fmt: skip
    client = login(users["PARTNER"])
    first = client.get("/audit/").content.decode()
    # No count of the whole log: the rows shown, and an "Older" link when more follow.
    assert "Events 1–50, newest first" in first
    assert "Page 1<" in first
    assert "page=2" in first
    assert "Newer" not in first
    second = client.get("/audit/", {"page": "2"}).content.decode()
    assert "Events 51–56, newest first" in second
    assert "page=1" in second
    assert "page=3" not in second
    assert "Old" in second
    past_end = client.get("/audit/", {"page": "9"}).content.decode()
    assert "Events 1–50, newest first" in past_end
    r = client.get("/audit/", {"action": "firm.", "actor": users["PARTNER"].pk}).content.decode()
    assert "Events 1–1," in r
    assert "Old" in r
    assert "New" in r
    day = (now - timedelta(days=3)).date().isoformat()
    r = client.get("/audit/", {"date_from": day, "date_to": day}).content.decode()
    assert "Events 1–1," in r
    r = client.get("/audit/", {"object_type": "core.user", "object_id": str(admin.pk)})
    assert "Events 1–50," in r.content.decode()
    r = client.get("/audit/", {"object_type": "core.user", "object_id": str(admin.pk), "page": 2})
    assert "Events 51–55," in r.content.decode()


def test_audit_object_types_are_the_distinct_types_in_order(users, now):
    from caseledger.core import audit

    admin = users["ADMIN"]
    audit.record(actor=admin, action="test.a", at=now, obj=admin)
    audit.record(actor=admin, action="test.b", at=now, obj=admin)
    audit.record(actor=admin, action="test.c", at=now)  # no object: not a type
    want = list(
        AuditEvent.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
    assert "core.user" in want
    assert selectors.audit_object_types() == want


def test_home_shows_panels_by_role(login, users):
    admin_home = login(users["ADMIN"]).get("/").content.decode()
    assert 'data-panel="core.users_by_role"' in admin_home
    assert 'data-panel="core.recent_audit"' in admin_home
    assert "Administrator" in admin_home
    partner_home = login(users["PARTNER"]).get("/").content.decode()
    assert 'data-panel="core.recent_audit"' in partner_home
    assert 'data-panel="core.users_by_role"' not in partner_home
    para_home = login(users["PARALEGAL"]).get("/").content.decode()
    assert 'data-panel="core.account"' in para_home
    assert 'data-panel="core.recent_audit"' not in para_home
    assert "/settings/people/" not in para_home  # no admin navigation


def test_forbidden_page_explains_itself(login, users):
    r = login(users["PARALEGAL"]).get("/settings/firm/")
    assert r.status_code == 403
    assert "firm.manage: not permitted for your role (Paralegal)." in r.content.decode()


@pytest.mark.parametrize("path", ["/audit/", "/settings/people/", "/"])
def test_list_pages_do_not_grow_queries_with_rows(login, users, now, make_user, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from caseledger.core import audit

    client = login(users["ADMIN"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            person = make_user(role="ATTORNEY", username=f"bulk{i}")
            audit.record(actor=person, action="test.bulk", at=now, obj=person, after={"i": i})

    add(2, 0)
    few = count()
    add(30, 2)
    assert count() == few


def test_pages_show_times_in_the_firms_time_zone(login, users):
    from datetime import UTC, datetime

    from caseledger.core import audit

    audit.record(
        actor=users["ADMIN"], action="test.zone", at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    )
    client = login(users["PARTNER"])
    Firm.objects.filter(id=1).update(time_zone="America/New_York")
    assert "Mar 2, 2026 6:30 PM" in client.get("/audit/", {"action": "test.zone"}).content.decode()
    Firm.objects.filter(id=1).update(time_zone="Asia/Tokyo")
    assert "Mar 3, 2026 8:30 AM" in client.get("/audit/", {"action": "test.zone"}).content.decode()


def test_favicon_ico_leads_to_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("caseledger/favicon.svg")


def test_changing_your_own_role_is_refused_under_the_field(login, users):
    admin = users["ADMIN"]
    client = login(admin)
    r = client.post(f"/settings/people/{admin.pk}/role/", {"role": "PARTNER"})
    assert r.status_code == 422
    page = r.content.decode()
    block = re.search(r'<ul class="errorlist" id="id_role-errors">(.*?)</ul>', page, re.S)
    assert block is not None
    assert "you cannot change your own role (ask another administrator)" in block.group(1)
    assert "role: you cannot" not in page
    admin.refresh_from_db()
    assert admin.role == "ADMIN"


def test_home_lays_the_narrow_panels_out_together_between_the_wide_ones():
    """A wide panel before every narrow one stays on top; the narrow ones come next, in order,
    so no wide panel cuts a row of them short; the other wide ones last."""
    from caseledger.core.home import HomePanel, RenderedPanel, laid_out

    def panel(key: str, wide: bool) -> RenderedPanel:
        return RenderedPanel(HomePanel(key, key, "", "", lambda r, n: {}, wide=wide), {})

    shown = [
        panel("risk", True),
        panel("waiting", False),
        panel("tasks", False),
        panel("deadlines", True),
        panel("trust", False),
        panel("audit", True),
    ]
    keys = [p.panel.key for p in laid_out(shown)]
    assert keys == ["risk", "waiting", "tasks", "trust", "deadlines", "audit"]
    assert laid_out([]) == []
    assert [p.panel.key for p in laid_out(shown[3:4])] == ["deadlines"]
