"""Forms for the core pages. They parse and validate input; the services do the work."""

from __future__ import annotations

import re
import secrets
import unicodedata
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.forms.utils import ErrorList
from django.http import HttpRequest

from caseledger.core import clock
from caseledger.core.choices import Role, RoundingRule
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import Firm, User
from caseledger.core.money import MoneyError, currency_choices, format_money, parse_money
from caseledger.core.selectors import firm_get
from caseledger.core.services import firm_ceiling_check, taxpayer_id_normalize

AMOUNT_NEGATIVE = "{field}: must be zero or more (got {value})"
# Invoices imported from the firm's old system are numbered "L-<old number>" (imports app);
# a format starting with it could one day print the same number.
LEGACY_INVOICE_PREFIX = "L-"
INVOICE_FORMAT_LEGACY = 'may not start with "L-" (the numbers of imported invoices)'
INVOICE_FORMAT_NEEDS_SEQ = "must contain {seq} (the running number)"
INVOICE_FORMAT_UNKNOWN = "may only use {{year}} and {{seq}} (found {found})"
CODE_FORMAT = "enter the 6-digit code from your authenticator app"


class MoneyField(forms.CharField):
    """An amount typed as text in the firm's currency ("1,234.56"; "1,234" for JPY), cleaned to
    integer minor units by core.money's one parser. Above the firm's ceiling for a single amount
    it is refused with the same message the services give (``AMOUNT_OVER_CEILING``).

    ``name`` is the field named in messages (default: the label, else "amount");
    ``negative=False`` refuses amounts below zero; ``ceiling=False`` (for the ceiling itself)
    checks only the absolute limit."""

    def __init__(
        self,
        *args: Any,
        name: str | None = None,
        negative: bool = True,
        ceiling: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)
        self.name = name
        self.negative = negative
        self.ceiling = ceiling

    def _field(self) -> str:
        return self.name or str(self.label or "amount")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return format_money(value, firm_get().currency, symbol=False)
        return value

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)  # the text's own checks (required, max_length)
        if text in self.empty_values:
            return None
        firm = firm_get()
        try:
            cents = parse_money(
                text,
                firm.currency,
                field=self._field(),
                ceiling=firm.amount_ceiling_cents if self.ceiling else None,
            ).cents
        except MoneyError as exc:
            raise ValidationError(exc.message) from exc
        if cents < 0 and not self.negative:
            shown = format_money(cents, firm.currency)
            raise ValidationError(AMOUNT_NEGATIVE.format(field=self._field(), value=shown))
        return cents


@cache
def _time_zone_choices() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(zoneinfo.available_timezones()) if "/" in z or z == "UTC"]


class FirmSettingsForm(forms.ModelForm):
    currency = forms.ChoiceField(
        choices=(),
        help_text="ISO 4217. Fixed once money has been recorded.",
    )
    amount_ceiling_cents = MoneyField(
        name="amount_ceiling_cents",
        negative=False,
        ceiling=False,
        label="Largest single amount",
        help_text="No deposit, payment, expense, rate, invoice line, credit note, write-off or "
        "refund may exceed it (default 10,000,000.00).",
    )
    disbursement_dual_approval_cents = MoneyField(
        name="disbursement_dual_approval_cents",
        negative=False,
        label="Trust disbursements needing two approvers, from",
        help_text="Amount in the firm's currency; disbursements at or above it need two approvers.",
    )
    credit_note_approval_cents = MoneyField(
        name="credit_note_approval_cents",
        negative=False,
        label="Credit notes needing approval, from",
        help_text="Credit notes at or above this amount wait for a partner's approval.",
    )
    write_off_approval_cents = MoneyField(
        name="write_off_approval_cents",
        negative=False,
        label="Write-offs needing approval, from",
        help_text="Write-offs at or above this amount wait for a partner's approval.",
    )
    two_factor_roles = forms.MultipleChoiceField(
        label="Roles that must use two-factor",
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    time_zone = forms.ChoiceField(label="Time zone", choices=())
    rounding_rule = forms.ChoiceField(choices=RoundingRule.choices)

    class Meta:
        model = Firm
        fields = [
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
            "two_factor_enforced",
            "two_factor_roles",
            "matters_open_to_all",
            "audit_anchor_email",
        ]
        labels = {
            "name": "Firm name",
            "taxpayer_id": "Taxpayer ID (EIN)",
            "invoice_number_format": "Invoice number format",
            "invoice_number_width": "Digits in the running number",
            "two_factor_enforced": "Enforce two-factor login for the roles below",
            "matters_open_to_all": "Attorneys and paralegals see every matter",
            "audit_anchor_email": "Email the audit log's daily anchor to the partners",
        }
        help_texts = {
            "two_factor_enforced": "Users in these roles must enter a code from an "
            "authenticator app after their password; those without one set it up at next login.",
            "invoice_number_format": "Use {year} and {seq}, e.g. {year}-{seq} gives 2026-000042.",
            "matters_open_to_all": "Off: they see only matters they are assigned to.",
            "audit_anchor_email": "Each night the signed head of the audit log is written to the "
            "server's anchor file; with this on, each partner also gets it by email, a copy "
            "kept outside the server.",
            "taxpayer_id": "Nine digits, e.g. 12-3456789. Sent as LAW_FIRM_ID in LEDES e-bills; "
            "LEDES export is refused until it is set.",
        }
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = _time_zone_choices()  # type: ignore[attr-defined]
        self.fields["currency"].choices = currency_choices()  # type: ignore[attr-defined]
        self.fields["invoice_number_width"].widget.attrs.update({"min": 1, "max": 12})

    def clean_amount_ceiling_cents(self) -> int | None:
        # The service's rule and message, under the field (the model's range constraint would
        # otherwise answer first, with Django's generic text).
        value = self.cleaned_data.get("amount_ceiling_cents")
        if value is not None:
            try:
                # Amounts on this page are typed in the currency in force (MoneyField).
                firm_ceiling_check(value, currency=firm_get().currency)
            except ApplicationError as exc:
                raise ValidationError(exc.message) from exc
        return value

    def clean_taxpayer_id(self) -> str:
        # The service's rule and message, under the field.
        try:
            return taxpayer_id_normalize(self.cleaned_data.get("taxpayer_id") or "")
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc

    def clean_invoice_number_format(self) -> str:
        value = self.cleaned_data.get("invoice_number_format") or ""
        found = set(re.findall(r"\{([^}]*)\}", value))
        unknown = found - {"year", "seq"}
        if unknown:
            raise ValidationError(
                INVOICE_FORMAT_UNKNOWN.format(
                    found=", ".join("{" + u + "}" for u in sorted(unknown))
                )
            )
        if "seq" not in found:
            raise ValidationError(INVOICE_FORMAT_NEEDS_SEQ)
        if value.upper().startswith(LEGACY_INVOICE_PREFIX):
            raise ValidationError(INVOICE_FORMAT_LEGACY)
        return value

    def clean_invoice_number_width(self) -> int:
        value = self.cleaned_data["invoice_number_width"]
        if not 1 <= value <= 12:
            raise ValidationError(f"must be between 1 and 12 (got {value})")
        return int(value)


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.PARALEGAL)

    def clean_username(self) -> str:
        value = self.cleaned_data["username"].strip()
        User.username_validator(value)
        if User.objects.filter(username__iexact=value).exists():
            raise ValidationError(f"{value!r} is already taken")
        return value


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email"]


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=7,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(label="Token name", max_length=80)


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        queryset=User.objects.order_by("username", "id"), required=False, empty_label="Anyone"
    )
    action = forms.CharField(required=False, help_text="Prefix, e.g. firm.")
    object_type = forms.ChoiceField(required=False, label="Object type")
    object_id = forms.CharField(required=False, label="Object id")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args: Any, object_types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Any"), *[(t, t) for t in object_types]]
        self.fields["object_type"].choices = choices  # type: ignore[attr-defined]


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False)
    search = forms.CharField(required=False, help_text="Key, address or subject")

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        from caseledger.core.choices import OutboxStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any"), *OutboxStatus.choices]  # type: ignore[attr-defined]
        self.fields["kind"].choices = [("", "Any"), *[(k, k) for k in kinds]]  # type: ignore[attr-defined]


class ResetForm(PasswordResetForm):
    """Django's form skips accounts without a usable password; ours includes invited people
    who never set one (their invitation link may have expired). The email goes through the
    outbox like every other message."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        from django.template import loader

        from caseledger.core import clock
        from caseledger.core.services import user_password_reset_email_queue

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        user_password_reset_email_queue(
            user=context["user"],
            to_email=to_email,
            subject=subject,
            body=body,
            token=str(context.get("token", "")),
            now=clock.now(),
        )

    def get_users(self, email: str) -> Any:
        email_field = User.get_email_field_name()
        return (
            u
            for u in User.objects.filter(**{f"{email_field}__iexact": email, "is_active": True})
            if _email_matches(email, getattr(u, email_field))
        )


def _email_matches(a: str, b: str) -> bool:
    # The same case-insensitive comparison Django's own reset form makes.
    return bool(
        unicodedata.normalize("NFKC", a).casefold() == unicodedata.normalize("NFKC", b).casefold()
    )


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Username or password is wrong. After 5 failed attempts the account "
        "is locked for an hour.",
        "inactive": "This account is deactivated. Ask your firm's administrator.",
    }


# --- the form -> service -> message path ------------------------------------------------------

FORM_TOKEN_FIELD = "form_token"
FORM_ALREADY_SUBMITTED = (
    "This form was already submitted and recorded once; nothing was recorded again. "
    "Open the form afresh to enter something new."
)

# The store that consumes one-time form tokens: ``fn(token, user, path, now) -> bool`` (False when
# the token was already used), called inside the write's transaction. The payments app provides
# it (its table lives in payments' migrations); core only knows the interface.
_token_store: list[Callable[[str, Any, str, datetime], bool]] = []


def register_form_token_store(fn: Callable[[str, Any, str, datetime], bool]) -> None:
    """Install the one store of one-time form tokens (a second call replaces the first)."""
    _token_store[:] = [fn]


class OneTimeTokenMixin(forms.Form):
    """A hidden one-time token on a money form. ``handle_form`` consumes it in the same
    transaction as the write, so a double submit records nothing twice. A POST without the
    field (an old page, a script) is not protected, like before."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(FORM_TOKEN_FIELD, secrets.token_urlsafe(24))


def error_text(message: str, *names: str) -> str:
    """``message`` without the leading "<field>: " (once or repeated, e.g. "amount: amount: ..."),
    for any of ``names`` (the field's name and label). The rest is the message as written."""
    text = str(message)
    prefixes = {f"{n.strip().lower()}:" for n in names if n and n.strip()}
    changed = True
    while changed:
        changed = False
        head, sep, rest = text.partition(":")
        if sep and f"{head.strip().lower()}:" in prefixes:
            text = rest.strip()
            changed = True
    return text


_INTERNAL_PREFIX = re.compile(r"^\s*[a-z][a-z0-9_]*(?:\.[a-z0-9_]+|\[\d+\])*\s*:\s+")


def banner_text(message: str) -> str:
    """A refusal shown in a message banner (an action with no form field to put it under):
    the message without its internal "<field>:" prefixes, its first letter then capitalised
    ("invoice: select at least one draft" -> "Select at least one draft").
    Only lower-case identifiers are prefixes; "Draft #3: ..." or "Email failed: ..." stay."""
    text = str(message)
    stripped = False
    while match := _INTERNAL_PREFIX.match(text):
        text = text[match.end() :]
        stripped = True
    return text[:1].upper() + text[1:] if stripped else text


def _names(form: forms.BaseForm, field: str) -> tuple[str, ...]:
    label = form.fields[field].label if field in form.fields else None
    return (field, field.replace("_", " "), str(label or ""))


def form_errors_tidy(form: forms.BaseForm) -> None:
    """Rewrite each field error without its internal field prefix (shown under the field)."""
    for field, errors in list(form.errors.items()):
        if field == NON_FIELD_ERRORS:
            continue
        tidy = ErrorList([error_text(str(e), *_names(form, field)) for e in errors])
        form.errors[field] = tidy


def service_error_add(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Put a service's refusal under the form field it names (``exc.field``, else the message's
    own "<field>:" prefix); a refusal naming no field of the form goes above the form as is."""
    candidates = [exc.field or "", exc.message.partition(":")[0].strip()]
    for name in candidates:
        key = name.split(".")[0].split("[")[0]
        if key and key in form.fields and not form.fields[key].widget.is_hidden:
            form.add_error(key, error_text(exc.message, *_names(form, key)))
            return
    form.add_error(None, exc.message)


R = TypeVar("R")


def handle_form(
    request: HttpRequest, form: forms.BaseForm, call: Callable[[dict[str, Any]], R]
) -> R | None:
    """The one path from a submitted form to a service.

    On a POST: validate the whole form (every field error at once, each under its field without
    internal prefixes); when valid, run ``call(cleaned_data)`` in one transaction, consuming the
    form's one-time token (``OneTimeTokenMixin``) first. A service refusal
    (``ApplicationError``) lands under the field it names and rolls everything back, the token
    included, so the corrected form can be sent again. Returns the call's result, or None when
    the form is to be shown again (the bound form keeps what was typed)."""
    if request.method != "POST":
        return None
    if not form.is_valid():
        form_errors_tidy(form)
        return None
    token = form.cleaned_data.get(FORM_TOKEN_FIELD) or ""
    try:
        with transaction.atomic():
            if token:
                if not _token_store:
                    raise RuntimeError("no form token store registered")
                if not _token_store[0](token, request.user, request.path, clock.now()):
                    raise ApplicationError(FORM_ALREADY_SUBMITTED)
            return call(form.cleaned_data)
    except ApplicationError as exc:
        service_error_add(form, exc)
        return None
