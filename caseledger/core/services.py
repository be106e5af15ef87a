"""Writes for the core app. Each function is one business action: keyword-only arguments, the
clock passed in as ``now``, one transaction, one audit event through ``core.audit.record``."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseledger.core import audit, locks
from caseledger.core.amounts import CURRENCY_LOCKED, money_recorded
from caseledger.core.choices import Role
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import ApiToken, Firm, User
from caseledger.core.money import CURRENCIES, MAX_CEILING_MINOR_UNITS, format_money
from caseledger.core.selectors import firm_get, totp_device_confirmed, two_factor_required

# Fields of the firm that the settings page edits, audited as a before/after diff.
FIRM_EDITABLE_FIELDS = (
    "name",
    "address",
    "email",
    "phone",
    "taxpayer_id",
    "currency",
    "time_zone",
    "invoice_number_format",
    "invoice_number_width",
    "rounding_rule",
    "disbursement_dual_approval_cents",
    "credit_note_approval_cents",
    "write_off_approval_cents",
    "amount_ceiling_cents",
    "two_factor_roles",
    "two_factor_enforced",
    "matters_open_to_all",
    "audit_anchor_email",
)

TAXPAYER_ID_INVALID = (
    "taxpayer_id: must be the firm's 9-digit taxpayer ID (EIN), e.g. 12-3456789 (got {value!r})"
)
USERNAME_TAKEN = "username: {username!r} is already taken"
EMAIL_REQUIRED = "email: required to send the invitation"
SELF_DEACTIVATE = "user: you cannot deactivate your own account"
SELF_ROLE_CHANGE = "role: you cannot change your own role (ask another administrator)"
LAST_ADMIN = "role: at least one active administrator must remain"
TOTP_CODE_WRONG = "code: that code is wrong or has expired; enter the current 6-digit code"
TOTP_NOT_STARTED = "code: start two-factor enrolment again; no pending device was found"
TOTP_REQUIRED_BY_FIRM = (
    "two_factor: the firm requires two-factor for your role; it cannot be turned off"
)
TOTP_NOT_ENABLED = "two_factor: two-factor is not turned on for your account"
TOKEN_NAME_REQUIRED = "name: give the token a name so you can recognise it later"
TOKEN_ALREADY_REVOKED = "token: this token was already revoked"
CURRENCY_UNSUPPORTED = "currency: must be one of the supported ISO 4217 codes (got {value!r})"
CEILING_OUT_OF_RANGE = "amount_ceiling_cents: must be between {low} and {high} (got {value})"

API_TOKEN_PREFIX = "cl_"


def _firm_snapshot(firm: Firm) -> dict[str, Any]:
    return {f: getattr(firm, f) for f in FIRM_EDITABLE_FIELDS}


def taxpayer_id_normalize(value: str) -> str:
    """'123456789', '12 3456789', '12-3456789' -> '12-3456789' (an EIN); '' stays ''. Raises
    ApplicationError (TAXPAYER_ID_INVALID) for anything but nine digits."""
    raw = (value or "").strip()
    if not raw:
        return ""
    digits = re.sub(r"[\s\-.]", "", raw)
    if not re.fullmatch(r"\d{9}", digits):
        raise ApplicationError(TAXPAYER_ID_INVALID.format(value=raw), field="taxpayer_id")
    return f"{digits[:2]}-{digits[2:]}"


def _firm_changes_check(firm: Firm, changes: dict[str, Any]) -> None:
    """Currency: a supported code, fixed once money is recorded. Ceiling: 1 minor unit up to
    MAX_CEILING_MINOR_UNITS. Taxpayer ID: nine digits, stored as an EIN 12-3456789."""
    if "taxpayer_id" in changes:
        changes["taxpayer_id"] = taxpayer_id_normalize(changes["taxpayer_id"])
    if "currency" in changes:
        currency = changes["currency"]
        if currency not in CURRENCIES:
            raise ApplicationError(CURRENCY_UNSUPPORTED.format(value=currency), field="currency")
        if currency != firm.currency and money_recorded():
            raise ApplicationError(
                CURRENCY_LOCKED.format(old=firm.currency, new=currency), field="currency"
            )
    if "amount_ceiling_cents" in changes:
        firm_ceiling_check(
            changes["amount_ceiling_cents"], currency=changes.get("currency", firm.currency)
        )


def firm_ceiling_check(ceiling: int, *, currency: str) -> None:
    """The firm's ceiling for a single amount is 1 minor unit up to MAX_CEILING_MINOR_UNITS;
    ApplicationError (CEILING_OUT_OF_RANGE) otherwise. The settings form asks it too, so its
    message shows under the field."""
    if (
        isinstance(ceiling, bool)
        or not isinstance(ceiling, int)
        or not 1 <= ceiling <= MAX_CEILING_MINOR_UNITS
    ):
        raise ApplicationError(
            CEILING_OUT_OF_RANGE.format(
                low=format_money(1, currency),
                high=format_money(MAX_CEILING_MINOR_UNITS, currency),
                value=format_money(ceiling, currency)
                if isinstance(ceiling, int)
                else repr(ceiling),
            ),
            field="amount_ceiling_cents",
        )


def firm_update(*, actor: User, now: datetime, **changes: Any) -> Firm:
    """Apply ``changes`` (a subset of FIRM_EDITABLE_FIELDS) and audit the diff.

    Recording nothing when nothing changed keeps the audit log about real changes."""
    unknown = set(changes) - set(FIRM_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            f"firm: unknown setting(s) {', '.join(sorted(unknown))}; the settings are "
            f"{', '.join(FIRM_EDITABLE_FIELDS)}",
            field="firm",
        )
    with transaction.atomic():
        firm = locks.firm_lock(firm_id=firm_get().id)
        _firm_changes_check(firm, changes)
        before = _firm_snapshot(firm)
        for field, value in changes.items():
            setattr(firm, field, value)
        firm.full_clean()
        after = _firm_snapshot(firm)
        old, new = audit.diff(before, after)
        if old or new:
            firm.save()
            audit.record(
                actor=actor, action="firm.updated", at=now, obj=firm, before=old, after=new
            )
    return firm


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "is_active": user.is_active,
    }


def _set_password_email_queue(
    *, user: User, site_url: str, template: str, subject: str, key: str, now: datetime
) -> None:
    """The invitation (or set-password) email, through the outbox in the caller's transaction."""
    from caseledger.core import outbox

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = site_url + reverse("core:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    body = render_to_string(template, {"user": user, "link": link, "firm": firm_get()})
    outbox.enqueue(
        key=key,
        kind="core.invitation",
        to=[user.email],
        subject=subject,
        body=body,
        related=user,
        now=now,
    )


def user_password_reset_email_queue(
    *, user: User, to_email: str, subject: str, body: str, token: str, now: datetime
) -> None:
    """A password-reset email (Django's reset form renders it) through the outbox. Keyed by the
    user and a hash of the reset token, so a double submit within the token's second sends one
    email; the token itself never appears in the key the outbox page shows."""
    from caseledger.core import outbox

    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    outbox.enqueue(
        key=f"core.password_reset:{user.pk}:{digest}",
        kind="core.password_reset",
        to=[to_email],
        subject=subject,
        body=body,
        related=user,
        now=now,
    )


def user_invite(
    *,
    actor: User,
    now: datetime,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    site_url: str,
    template: str = "core/email/invite.txt",
    subject: str = "You are invited to CaseLedger",
) -> User:
    """Create the user without a usable password and email them a link to set one.

    The email is written to the outbox in this transaction and leaves after it commits, so a
    rolled-back invite sends nothing. ``template`` and ``subject``: the portal's invitation
    for client users (in the client's language)."""
    if not email:
        raise ApplicationError(EMAIL_REQUIRED, field="email")
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ApplicationError(USERNAME_TAKEN.format(username=username), field="username")
        user = User(
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=role,
            date_joined=now,
            initials=(first_name[:1] + last_name[:1]).upper(),
        )
        user.set_unusable_password()
        user.full_clean()
        user.save()
        audit.record(
            actor=actor, action="user.invited", at=now, obj=user, after=_user_snapshot(user)
        )
        _set_password_email_queue(
            user=user,
            site_url=site_url,
            template=template,
            subject=subject,
            key=f"core.invitation:{user.pk}",
            now=now,
        )
    return user


def _active_admins_other_than(user: User) -> int:
    return User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).count()


def user_role_set(*, actor: User, now: datetime, user: User, role: str) -> User:
    if user.pk == actor.pk:
        raise ApplicationError(SELF_ROLE_CHANGE, field="role")
    with transaction.atomic():
        user = locks.user_lock(user_id=user.pk)
        if user.role == role:
            return user
        if user.role == Role.ADMIN and user.is_active and _active_admins_other_than(user) == 0:
            raise ApplicationError(LAST_ADMIN, field="role")
        before = {"role": user.role}
        user.role = role
        user.full_clean()
        user.save(update_fields=["role"])
        audit.record(
            actor=actor, action="user.role_changed", at=now, obj=user, before=before,
            after={"role": role},
        )  # fmt: skip
    return user


def user_active_set(*, actor: User, now: datetime, user: User, active: bool) -> User:
    """Deactivate (no login, no API, sessions end at their next request) or reactivate."""
    if user.pk == actor.pk and not active:
        raise ApplicationError(SELF_DEACTIVATE, field="user")
    with transaction.atomic():
        user = locks.user_lock(user_id=user.pk)
        if user.is_active == active:
            return user
        if not active and user.role == Role.ADMIN and _active_admins_other_than(user) == 0:
            raise ApplicationError(LAST_ADMIN, field="role")
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="user.reactivated" if active else "user.deactivated",
            at=now,
            obj=user,
            before={"is_active": not active},
            after={"is_active": active},
        )
    return user


def user_unlock(*, actor: User, now: datetime, user: User) -> int:
    """Clear django-axes' failed-login lockout for ``user``; returns the attempts removed."""
    from axes.utils import reset

    with transaction.atomic():
        removed = reset(username=user.get_username())
        audit.record(
            actor=actor,
            action="user.unlocked",
            at=now,
            obj=user,
            after={"attempts_cleared": removed},
        )
    return int(removed or 0)


def user_profile_update(
    *, user: User, now: datetime, first_name: str, last_name: str, email: str
) -> User:
    with transaction.atomic():
        user = locks.user_lock(user_id=user.pk)
        before = _user_snapshot(user)
        user.first_name, user.last_name, user.email = first_name, last_name, email
        user.full_clean()
        old, new = audit.diff(before, _user_snapshot(user))
        if old or new:
            user.save(update_fields=["first_name", "last_name", "email"])
            audit.record(
                actor=user, action="user.profile_updated", at=now, obj=user, before=old, after=new
            )
    return user


def user_password_changed(*, user: User, now: datetime, actor: User | None = None) -> None:
    """Record a password change (set by Django's form; the hash is never audited)."""
    audit.record(actor=actor or user, action="user.password_changed", at=now, obj=user)


def user_password_reset(*, user: User, now: datetime) -> None:
    """After a password set through an emailed link: record it and clear any lockout."""
    from axes.utils import reset

    with transaction.atomic():
        reset(username=user.get_username())
        audit.record(actor=user, action="user.password_reset", at=now, obj=user)


def auth_login_recorded(*, user: User, now: datetime, two_factor: bool) -> None:
    audit.record(
        actor=user, action="auth.login", at=now, obj=user, after={"two_factor": two_factor}
    )


def totp_enrolment_start(*, user: User, now: datetime) -> TOTPDevice:
    """Return the pending (unconfirmed) device, creating it on first call. No audit event:
    nothing changes for the user until the device is confirmed with a code."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def totp_code_check(*, device: TOTPDevice, code: str) -> bool:
    """Verify ``code`` against ``device`` (django-otp throttles repeated failures)."""
    code = (code or "").strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        # Count a malformed code as a failure too, so throttling sees every guess.
        device.throttle_increment()
        return False
    return bool(device.verify_token(code))


def totp_enrolment_confirm(*, user: User, now: datetime, code: str) -> TOTPDevice:
    """Confirm the pending device with its first code; any older device is removed."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            raise ApplicationError(TOTP_NOT_STARTED, field="code")
        if not totp_code_check(device=device, code=code):
            raise ApplicationError(TOTP_CODE_WRONG, field="code")
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(
            actor=user, action="user.two_factor_enabled", at=now, obj=user,
            after={"two_factor": True},
        )  # fmt: skip
    return device


def totp_disable(*, user: User, now: datetime, code: str) -> None:
    """Turn two-factor off; needs a current code, refused when the firm requires it."""
    with transaction.atomic():
        device = totp_device_confirmed(user)
        if device is None:
            raise ApplicationError(TOTP_NOT_ENABLED, field="two_factor")
        if two_factor_required(user):
            raise ApplicationError(TOTP_REQUIRED_BY_FIRM, field="two_factor")
        if not totp_code_check(device=device, code=code):
            raise ApplicationError(TOTP_CODE_WRONG, field="code")
        TOTPDevice.objects.filter(user=user).delete()
        audit.record(
            actor=user, action="user.two_factor_disabled", at=now, obj=user,
            before={"two_factor": True}, after={"two_factor": False},
        )  # fmt: skip


def totp_failure_recorded(*, user: User, now: datetime) -> None:
    audit.record(actor=user, action="auth.two_factor_failed", at=now, obj=user)


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user: User, now: datetime, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret; the secret is not stored and cannot be
    shown again."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(TOKEN_NAME_REQUIRED, field="name")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:80],
            prefix=secret[:10],
            token_hash=api_token_hash(secret),
            created_at=now,
        )
        audit.record(
            actor=user, action="api_token.created", at=now, obj=token,
            after={"name": token.name, "prefix": token.prefix},
        )  # fmt: skip
    return token, secret


def api_token_revoke(*, actor: User, now: datetime, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        token = locks.api_token_lock(token_id=token.pk)
        if token.revoked_at is not None:
            raise ApplicationError(TOKEN_ALREADY_REVOKED, field="token")
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor, action="api_token.revoked", at=now, obj=token,
            after={"revoked_at": now},
        )  # fmt: skip
    return token


def api_token_authenticate(*, secret: str, now: datetime) -> User | None:
    """The active user owning ``secret``, or None. Marks the token used (at most once a
    minute, to keep reads from writing on every call)."""
    if not secret or not secret.startswith(API_TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=api_token_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
