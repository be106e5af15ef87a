"""Every refusal of the core services (firm settings, users, two-factor, API tokens) that no
other test checked by its text: each is raised with the message naming the field and the rule,
and a refused call leaves the firm, users, devices, tokens, the outbox and audit events as they
were (``scripts/refusal_coverage.py`` lists them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseledger.core import services
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import ApiToken, AuditEvent, Firm, OutboxMessage, User

pytestmark = pytest.mark.django_db


def _state() -> dict[str, Any]:
    return {
        "firm": list(Firm.objects.values().order_by("id")),
        "users": list(User.objects.values().order_by("id")),
        "devices": list(TOTPDevice.objects.values().order_by("id")),
        "tokens": list(ApiToken.objects.values().order_by("id")),
        "outbox": OutboxMessage.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., **kwargs)``: the call raises ApplicationError matching
    ``match`` and changes nothing."""

    def check(call: Callable[..., Any], *, match: str, **kwargs: Any) -> None:
        before = _state()
        with pytest.raises(ApplicationError, match=match):
            call(**kwargs)
        assert _state() == before

    return check


def test_firm_update_refuses_an_unknown_setting_and_a_bad_taxpayer_id(users, now, refused):
    services.firm_get()
    args = {"actor": users["ADMIN"], "now": now}
    refused(
        services.firm_update,
        match=r"^firm: unknown setting\(s\) colour, logo; the settings are name, address, ",
        colour="blue",
        logo="x.png",
        **args,
    )
    refused(
        services.firm_update,
        match=(
            r"^taxpayer_id: must be the firm's 9-digit taxpayer ID \(EIN\), e\.g\. 12-3456789 "
            r"\(got '12-345'\)$"
        ),
        taxpayer_id="12-345",
        **args,
    )


def test_user_invite_refuses_no_email_and_a_taken_username(users, now, refused):
    args = {
        "actor": users["ADMIN"],
        "now": now,
        "first_name": "Jane",
        "last_name": "Roe",
        "role": "PARALEGAL",
        "site_url": "https://caseledger.example",
    }
    refused(
        services.user_invite,
        match=r"^email: required to send the invitation$",
        username="jroe",
        email="",
        **args,
    )
    refused(
        services.user_invite,
        match=r"^username: 'Paralegal' is already taken$",
        username="Paralegal",
        email="jane@example.com",
        **args,
    )


def test_two_factor_refuses_confirming_without_enrolment_and_disabling_when_off(
    users, now, refused
):
    user = users["PARALEGAL"]
    refused(
        services.totp_enrolment_confirm,
        match=r"^code: start two-factor enrolment again; no pending device was found$",
        user=user,
        now=now,
        code="123456",
    )
    refused(
        services.totp_disable,
        match=r"^two_factor: two-factor is not turned on for your account$",
        user=user,
        now=now,
        code="123456",
    )


def test_api_tokens_refuse_no_name_and_a_second_revocation(users, now, refused):
    user = users["ATTORNEY"]
    refused(
        services.api_token_create,
        match=r"^name: give the token a name so you can recognise it later$",
        user=user,
        now=now,
        name="  ",
    )
    token, _secret = services.api_token_create(user=user, now=now, name="Laptop")
    services.api_token_revoke(actor=user, now=now, token=token)
    refused(
        services.api_token_revoke,
        match=r"^token: this token was already revoked$",
        actor=user,
        now=now,
        token=token,
    )
