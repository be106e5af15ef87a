"""Core pages: login with two-factor, home, profile, firm settings, people, audit log.

Views parse input, call one service or selector and render; rules live in services."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login

from caseledger.core import clock, guides, selectors, services
from caseledger.core import home as home_registry
from caseledger.core.actions import service_action, staff
from caseledger.core.exceptions import ApplicationError, NotPermitted
from caseledger.core.forms import (
    AuditFilterForm,
    CodeForm,
    FirmSettingsForm,
    InviteForm,
    LoginForm,
    OutboxFilterForm,
    ProfileForm,
    ResetForm,
    RoleForm,
    TokenCreateForm,
    banner_text,
    handle_form,
)
from caseledger.core.i18n import user_language
from caseledger.core.links import site_url
from caseledger.core.middleware import TWO_FACTOR_PENDING
from caseledger.core.models import ApiToken, User
from caseledger.core.paging import peek_page
from caseledger.core.permissions import capability_required

AUDIT_PAGE_SIZE = 50


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# Login ---------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Step one: username and password (django-axes counts failures and locks at five).

    Users with a confirmed TOTP device, and users the firm requires to have one, continue to
    step two; the session is marked as owing a code and TwoFactorMiddleware keeps it there."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        response = super().form_valid(form)
        if selectors.two_factor_needed_at_login(user):
            self.request.session[TWO_FACTOR_PENDING] = True
            device = selectors.totp_device_confirmed(user)
            target = "core:two_factor_verify" if device else "core:two_factor_enrol"
            nxt = self.get_redirect_url()
            url = reverse(target) + (f"?{urlencode({'next': nxt})}" if nxt else "")
            return HttpResponseRedirect(url)
        services.auth_login_recorded(user=user, now=clock.now(), two_factor=False)
        return response


def in_user_language(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The page (and the messages it leaves) in the signed-in user's language: a client
    portal user's own (``core.i18n.user_language``), English for staff."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = user_language(request.user)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapper


def _code_refusal(message: str) -> str:
    """A refusal on the code pages in the page's language (the service's text names the rule
    in English for logs and the API)."""
    if message == services.TOTP_NOT_STARTED:
        return gettext("Start setting up two-factor again; no pending setup was found.")
    return gettext("That code is wrong or has expired; enter the current 6-digit code.")


def _verified(user: Any) -> bool:
    """Whether this session passed two-factor (django_otp's middleware adds ``is_verified`` to
    ``request.user``; the User model does not declare it)."""
    return bool(user.is_verified())


def _finish_two_factor(request: HttpRequest, device: Any) -> None:
    otp_login(request, device)
    request.session.pop(TWO_FACTOR_PENDING, None)


@never_cache
@in_user_language
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Step two: the 6-digit code from the user's authenticator app."""
    if not request.user.is_authenticated:
        return redirect("core:login")
    default = reverse("core:home")
    if _verified(request.user):
        return redirect(_safe_next(request, default))
    device = selectors.totp_device_confirmed(request.user)
    if device is None:
        query = urlencode({"next": _safe_next(request, default)})
        return redirect(reverse("core:two_factor_enrol") + f"?{query}")
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        if services.totp_code_check(device=device, code=form.cleaned_data["code"]):
            _finish_two_factor(request, device)
            services.auth_login_recorded(
                user=staff(request),
                now=clock.now(),
                two_factor=True,
            )
            return redirect(_safe_next(request, default))
        services.totp_failure_recorded(user=staff(request), now=clock.now())
        error = _code_refusal(services.TOTP_CODE_WRONG)
    elif request.method == "POST":
        error = _code_refusal(services.TOTP_CODE_WRONG)
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "error": error, "next": _safe_next(request, "")},
    )


def _qr_data_uri(config_url: str) -> str:
    image = qrcode.make(config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg: bytes = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _grouped_key(device: Any) -> str:
    b32 = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


@never_cache
@in_user_language
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Turn two-factor on: scan the QR code (or type the key), then confirm with a code.

    Reached from the profile page, or during login when the firm requires two-factor for the
    user's role and they have no device yet."""
    if not request.user.is_authenticated:
        return redirect("core:login")
    user = staff(request)
    default = reverse("core:profile")
    if selectors.totp_device_confirmed(user) is not None and _verified(user):
        messages.info(request, gettext("Two-factor is already on for your account."))
        return redirect(default)
    if selectors.totp_device_confirmed(user) is not None:
        return redirect(reverse("core:two_factor_verify"))
    now = clock.now()
    device = services.totp_enrolment_start(user=user, now=now)
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        # Not handle_form/service_action: the refusal is shown on this page in the user's
        # language (_code_refusal), not as the service's English text.
        try:
            device = services.totp_enrolment_confirm(
                user=user, now=now, code=form.cleaned_data["code"]
            )
        except ApplicationError as exc:
            error = _code_refusal(exc.message)
        else:
            _finish_two_factor(request, device)
            messages.success(
                request, gettext("Two-factor is on. You will be asked for a code at login.")
            )
            return redirect(_safe_next(request, reverse("core:home")))
    elif request.method == "POST":
        error = _code_refusal(services.TOTP_CODE_WRONG)
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "error": error,
            "qr": _qr_data_uri(device.config_url),
            "secret": _grouped_key(device),
            "required": selectors.two_factor_required(user),
            "during_login": bool(request.session.get(TWO_FACTOR_PENDING)) or not _verified(user),
            "next": _safe_next(request, ""),
        },
    )


@require_POST
@capability_required("profile.edit")
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    service_action(
        request,
        lambda: services.totp_disable(
            user=staff(request), now=clock.now(), code=request.POST.get("code", "")
        ),
        "Two-factor is off for your account.",
    )
    return redirect("core:profile")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    form_class = ResetForm
    email_template_name = "core/email/password_reset.txt"
    subject_template_name = "core/email/password_reset_subject.txt"
    success_url = reverse_lazy("core:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        # The emailed link starts from SITE_URL, not from the Host header of this request.
        self.extra_email_context = {"site_url": site_url()}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("core:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # The emailed link proves the address: a lockout from failed logins ends here too.
        services.user_password_reset(user=form.user, now=clock.now())
        return response


# Home ----------------------------------------------------------------------------------------


@capability_required("profile.edit")
def home(request: HttpRequest) -> HttpResponse:
    landing = home_registry.landing_for(request.user)
    if landing:
        return redirect(landing)
    now = clock.now()
    return render(
        request,
        "core/home.html",
        {"firm": selectors.firm_get(), "panels": home_registry.panels_for(request, now)},
    )


@capability_required("waiting.view")
def waiting(request: HttpRequest) -> HttpResponse:
    """Everything waiting on the signed-in person, oldest first, each linked to where it is
    resolved (sources: each app's ``waiting.py``)."""
    from caseledger.core.waiting import waiting_for, waiting_rows

    now = clock.now()
    groups = waiting_for(request.user, now)
    kind = request.GET.get("kind", "")
    shown = [g for g in groups if g.source.key == kind] or groups
    return render(
        request,
        "core/waiting.html",
        {
            "groups": groups,
            "rows": waiting_rows(shown),
            "kind": kind if len(shown) == 1 and shown[0].source.key == kind else "",
            "cut": [g for g in shown if g.batch.count > len(g.batch.items)],
            "total": sum(g.batch.count for g in groups),
            "now": now,
        },
    )


# Profile -------------------------------------------------------------------------------------


def _profile_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    context = {
        "profile_form": ProfileForm(instance=user),
        "token_form": TokenCreateForm(),
        "tokens": list(selectors.api_token_list(user=user)),
        "two_factor_on": selectors.totp_device_confirmed(user) is not None,
        "two_factor_required": selectors.two_factor_required(user),
        "code_form": CodeForm(),
    }
    context.update(extra)
    return context


@never_cache
@capability_required("profile.edit")
def profile(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=User.objects.get(pk=request.user.pk or 0))
        if form.is_valid():
            services.user_profile_update(
                user=staff(request),
                now=clock.now(),
                **form.cleaned_data,
            )
            messages.success(request, "Your details are saved.")
            return redirect("core:profile")
        return render(request, "core/profile.html", _profile_context(request, profile_form=form))
    return render(request, "core/profile.html", _profile_context(request))


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("core:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        update_session_auth_hash(self.request, form.user)
        services.user_password_changed(user=form.user, now=clock.now())
        messages.success(self.request, "Your password is changed.")
        return response


password_change = capability_required("profile.edit")(PasswordChangeView.as_view())  # type: ignore[type-var]


@never_cache
@require_POST
@capability_required("api.tokens")
def api_token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    created = handle_form(
        request,
        form,
        lambda d: services.api_token_create(
            user=staff(request),
            now=clock.now(),
            name=d["name"],
        ),
    )
    if created is None:
        return render(request, "core/profile.html", _profile_context(request, token_form=form))
    token, secret = created
    # Rendered, not redirected: the secret exists only in this response.
    return render(
        request, "core/profile.html", _profile_context(request, new_token=token, secret=secret)
    )


@require_POST
@capability_required("api.tokens")
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    service_action(
        request,
        lambda: services.api_token_revoke(actor=staff(request), now=clock.now(), token=token),
        f"Token “{token.name}” is revoked.",
    )
    return redirect("core:profile")


# Firm settings -------------------------------------------------------------------------------


@capability_required("firm.manage")
def firm_settings(request: HttpRequest) -> HttpResponse:
    firm = selectors.firm_get()
    form = FirmSettingsForm(request.POST or None, instance=firm)
    saved = handle_form(
        request,
        form,
        lambda d: services.firm_update(
            actor=staff(request),
            now=clock.now(),
            **{f: d[f] for f in form.Meta.fields},
        ),
    )
    if saved is not None:
        messages.success(request, "Firm settings are saved.")
        return redirect("core:firm_settings")
    firm = selectors.firm_get()
    return render(request, "core/firm_settings.html", {"form": form, "firm": firm})


@require_POST
@capability_required("firm.manage")
def firm_two_factor_toggle(request: HttpRequest) -> HttpResponse:
    """The one-click switch: turn two-factor enforcement on or off."""
    firm = selectors.firm_get()
    enforced = not firm.two_factor_enforced
    service_action(
        request,
        lambda: services.firm_update(
            actor=staff(request), now=clock.now(), two_factor_enforced=enforced
        ),
        "Two-factor is now required for: " + ", ".join(firm.two_factor_roles).lower() + "."
        if enforced
        else "Two-factor is no longer required (users who turned it on still use it).",
    )
    return redirect("core:firm_settings")


# People --------------------------------------------------------------------------------------


def _locked_usernames() -> set[str]:
    from axes.models import AccessAttempt

    limit = settings.AXES_FAILURE_LIMIT
    cutoff = clock.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    return set(
        AccessAttempt.objects.filter(failures_since_start__gte=limit, attempt_time__gte=cutoff)
        .exclude(username=None)
        .values_list("username", flat=True)
    )


@capability_required("users.manage")
def users(request: HttpRequest) -> HttpResponse:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    people = list(selectors.user_list())
    with_2fa = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    locked = _locked_usernames()
    rows = [
        {"user": u, "two_factor": u.pk in with_2fa, "locked": u.username in locked} for u in people
    ]
    return render(request, "core/users.html", {"rows": rows})


@capability_required("users.manage")
def user_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    user = handle_form(
        request,
        form,
        lambda d: services.user_invite(
            actor=staff(request),
            now=clock.now(),
            site_url=site_url(),
            **d,
        ),
    )
    if user is not None:
        messages.success(request, f"Invitation sent to {user.email}.")
        return redirect("core:user_detail", pk=user.pk)
    return render(request, "core/user_invite.html", {"form": form})


@capability_required("users.manage")
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    return _user_page(request, person, RoleForm(initial={"role": person.role}))


def _user_page(
    request: HttpRequest, person: User, role_form: RoleForm, status: int = 200
) -> HttpResponse:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    events = selectors.audit_event_list(
        filters=selectors.AuditFilters(object_type="core.user", object_id=str(person.pk))
    )[:20]
    return render(
        request,
        "core/user_detail.html",
        {
            "person": person,
            "role_form": role_form,
            "two_factor": TOTPDevice.objects.filter(user=person, confirmed=True).exists(),
            "locked": person.username in _locked_usernames(),
            "events": events,
        },
        status=status,
    )


@require_POST
@capability_required("users.manage")
def user_role(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    changed = handle_form(
        request,
        form,
        lambda d: services.user_role_set(
            actor=staff(request),
            now=clock.now(),
            user=person,
            role=d["role"],
        ),
    )
    if changed is None:
        return _user_page(request, person, form, status=422)
    messages.success(request, f"{person} is now {form.cleaned_data['role'].lower()}.")
    return redirect("core:user_detail", pk=person.pk)


@require_POST
@capability_required("users.manage")
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "1"
    service_action(
        request,
        lambda: services.user_active_set(
            actor=staff(request), now=clock.now(), user=person, active=active
        ),
        f"{person} is {'reactivated' if active else 'deactivated'}.",
    )
    return redirect("core:user_detail", pk=person.pk)


@require_POST
@capability_required("users.manage")
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    service_action(
        request,
        lambda: services.user_unlock(actor=staff(request), now=clock.now(), user=person),
        f"{person} can log in again.",
    )
    return redirect("core:user_detail", pk=person.pk)


# Audit log -----------------------------------------------------------------------------------


@capability_required("audit.view")
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, object_types=selectors.audit_object_types())
    filters = selectors.AuditFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.AuditFilters(
            actor_id=data["actor"].pk if data["actor"] else None,
            action=data["action"].strip(),
            object_type=data["object_type"],
            object_id=data["object_id"].strip(),
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
    # No COUNT over the log (2M events: 97 ms): the page reads one row past its own to know
    # whether an older page exists (``peek_page``).
    page = peek_page(
        selectors.audit_event_list(filters=filters), AUDIT_PAGE_SIZE, request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    rows = []
    for event in page.object_list:
        keys = sorted(set(event.before or {}) | set(event.after or {}))
        rows.append(
            {
                "event": event,
                "has_before": event.before is not None,
                "changes": [
                    ((event.before or {}).get(k), (event.after or {}).get(k), k) for k in keys
                ],
            }
        )
    return render(
        request,
        "core/audit.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


# Outbox --------------------------------------------------------------------------------------

OUTBOX_PAGE_SIZE = 50


@capability_required("outbox.view")
def outbox_list(request: HttpRequest) -> HttpResponse:
    from caseledger.core.outbox import FAILED_STATUSES, MAX_ATTEMPTS, stale_after

    form = OutboxFilterForm(request.GET or None, kinds=selectors.outbox_kinds())
    filters = selectors.OutboxFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.OutboxFilters(
            status=data["status"], kind=data["kind"], search=data["search"].strip()
        )
    paginator = Paginator(selectors.outbox_message_list(filters=filters), OUTBOX_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/outbox.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "counts": selectors.outbox_status_counts(),
            "failed_statuses": FAILED_STATUSES,
            "max_attempts": MAX_ATTEMPTS,
            "stale_minutes": int(stale_after().total_seconds() // 60),
        },
    )


@require_POST
@capability_required("outbox.retry")
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    from caseledger.core import outbox
    from caseledger.core.models import OutboxMessage

    message = get_object_or_404(OutboxMessage, pk=pk)
    # Not service_action: the retry sends now, and its outcome has two levels (sent, or queued
    # again: a warning).
    try:
        outbox.message_retry(message=message, actor=staff(request), now=clock.now())
    except ApplicationError as exc:
        messages.error(request, banner_text(exc.message))
    else:
        message.refresh_from_db()
        if message.status == "SENT":
            messages.success(request, f"“{message.subject}” was sent.")
        else:
            messages.warning(
                request,
                f"“{message.subject}” is queued to be sent again ({message.status.lower()}).",
            )
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(back)
    return redirect("core:outbox")


# Errors --------------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_json(request):
        from django.http import JsonResponse

        return JsonResponse(
            {"error": {"code": "not_found", "message": "No such API route.", "field": None}},
            status=404,
        )
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    from django.http import JsonResponse

    if _wants_json(request):
        return JsonResponse(
            {
                "error": {
                    "code": "server_error",
                    "message": "Internal error; it was logged. Try again or contact the firm.",
                    "field": None,
                }
            },
            status=500,
        )
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)


@require_GET
def baseline(request: HttpRequest) -> HttpResponse:
    """The load test's baseline (bench/loadtest.py): the smallest page through the whole
    middleware stack (sessions, firm lookup, security headers), no query of its own. Its
    throughput on the same server is what the measured mix is compared with."""
    return HttpResponse(b"ok\n", content_type="text/plain")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page's icon link says (PDF viewers, bookmarks);
    send them to the site's icon instead of a 404."""
    return redirect(static("caseledger/favicon.svg"), permanent=True)


@capability_required("help.view")
def help_guide(request: HttpRequest, guide: str) -> HttpResponse:
    """A training guide (docs/guides/<guide>.md) rendered, its screenshots served below."""
    import markdown

    found = guides.GUIDES.get(guide)
    if found is None:
        raise Http404("No such guide.")
    role = staff(request).role
    if not guides.may_read(role, found):
        raise NotPermitted("help.view: clients read the client guide only.")
    html = markdown.markdown(
        guides.path_of(found).read_text(encoding="utf-8"), extensions=["toc", "tables"]
    )
    # Relative links of the Markdown (as GitHub shows it) to the served screenshots and guides.
    img_prefix = reverse("core:help_image", args=["x.png"])[: -len("x.png")]
    html = html.replace('src="img/', f'src="{img_prefix}')
    html = re.sub(r'href="([a-z]+)\.md', r'href="../\1/', html)
    return render(
        request,
        "core/help.html",
        {
            "guide": found,
            "body": mark_safe(html),  # noqa: S308 - the repository's own docs, not user input
            "guides": [
                g for g in guides.GUIDES.values() if guides.may_read(staff(request).role, g)
            ],
        },
    )


@capability_required("help.view")
def help_image(request: HttpRequest, name: str) -> HttpResponse:
    """A guide's screenshot from docs/guides/img: a plain file name, nothing outside it."""
    if not guides.IMAGE_NAME.match(name):
        raise Http404("No such screenshot.")
    path = (guides.IMAGES_DIR / name).resolve()
    if path.parent != guides.IMAGES_DIR.resolve() or not path.is_file():
        raise Http404("No such screenshot.")
    if not guides.may_see_image(staff(request).role, name):
        raise NotPermitted("help.view: clients see the client guide's screenshots only.")
    return HttpResponse(path.read_bytes(), content_type="image/png")  # tens of kB each
