"""Reconciliation pages: the report of a date with prepare / sign / reopen, the client ledger
listing, the archive of signed months with their PDFs, and the sign-off deadline setting."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from caseledger.banking.choices import ReconciliationStatus as Status
from caseledger.banking.forms import (
    ReconcilePrepareForm,
    ReconcileReopenForm,
    ReconcileSettingsForm,
    ReconcileSignForm,
)
from caseledger.banking.models import BankAccount, Reconciliation
from caseledger.banking.reconciliation import selectors, services
from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import handle_form
from caseledger.core.permissions import capability_required


def _account(pk: int) -> BankAccount:
    return get_object_or_404(BankAccount.objects.select_related("ledger_account"), pk=pk)


def _date(request: HttpRequest) -> date:
    """The ``date`` query parameter; last month's end when missing or not a usable date."""
    text = request.GET.get("date") or ""
    try:
        return clock.date_check(date.fromisoformat(text), field="date")
    except (ValueError, ApplicationError):
        return selectors.default_period_end(clock.firm_today())


@capability_required("banking.reconcile_view")
def home(request: HttpRequest) -> HttpResponse:
    today = clock.firm_today()
    accounts = [
        (account, selectors.month_statuses(account, today, limit=3))
        for account in BankAccount.objects.filter(is_active=True)
        .select_related("ledger_account")
        .order_by("-is_trust", "name", "id")
    ]
    return render(
        request,
        "banking/reconciliation_home.html",
        {"accounts": accounts, "settings_row": services.reconciliation_settings_get()},
    )


def _report_page(
    request: HttpRequest,
    account: BankAccount,
    as_of: date,
    *,
    prepare_form: ReconcilePrepareForm | None = None,
    reopen_form: ReconcileReopenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    record = selectors.reconciliation_live(account, as_of)
    report = reconciliation_compute(bank_account=account, as_of=as_of)
    trust_accounts = []
    if account.is_trust:
        others = list(
            BankAccount.objects.filter(is_trust=True, is_active=True)
            .select_related("ledger_account")
            .order_by("ledger_account__code", "id")
        )
        if len(others) > 1:
            # Several trust accounts: each closes on its own (its clients' money in it).
            trust_accounts = [
                (
                    other,
                    report
                    if other.pk == account.pk
                    else reconciliation_compute(bank_account=other, as_of=as_of),
                )
                for other in others
            ]
    return render(
        request,
        "banking/reconciliation.html",
        {
            "account": account,
            "as_of": as_of,
            "report": report,
            "record": record,
            "changed": record is not None and record.report_sha256 != report.sha256,
            "prepare_form": prepare_form or ReconcilePrepareForm(initial={"period_end": as_of}),
            "sign_form": ReconcileSignForm(),
            "reopen_form": reopen_form or ReconcileReopenForm(),
            "months": selectors.month_statuses(account, clock.firm_today()),
            "currency": account.currency,
            "trust_accounts": trust_accounts,
        },
        status=status,
    )


@capability_required("banking.reconcile_view")
def report(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_page(request, _account(pk), _date(request))


@capability_required("banking.reconcile_view")
def client_listing(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    if not account.ledger_account.is_trust:
        raise Http404("client ledgers exist for trust accounts only")
    as_of = _date(request)
    report = reconciliation_compute(bank_account=account, as_of=as_of)
    return render(
        request,
        "banking/reconciliation_clients.html",
        {"account": account, "as_of": as_of, "report": report, "currency": account.currency},
    )


@require_POST
@capability_required("banking.reconcile_prepare")
def prepare(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    form = ReconcilePrepareForm(request.POST)
    rec = handle_form(
        request,
        form,
        lambda d: services.reconciliation_prepare(
            bank_account=account, period_end=d["period_end"], actor=request.user, now=clock.now()
        ),
    )
    if rec is None:
        as_of = form.cleaned_data.get("period_end") if hasattr(form, "cleaned_data") else None
        return _report_page(
            request, account, as_of or _date(request), prepare_form=form, status=400
        )
    messages.success(request, f"Reconciliation to {rec.period_end} prepared; waiting for review.")
    return redirect(f"{_url(account)}?date={rec.period_end.isoformat()}")


def _url(account: BankAccount) -> str:
    from django.urls import reverse

    return reverse("banking:reconciliation", args=[account.pk])


def _record(pk: int) -> Reconciliation:
    return get_object_or_404(
        Reconciliation.objects.select_related("bank_account__ledger_account").defer("pdf"), pk=pk
    )


@require_POST
@capability_required("banking.reconcile_sign")
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(pk)
    form = ReconcileSignForm(request.POST)
    signed = handle_form(
        request,
        form,
        lambda d: services.reconciliation_sign(
            reconciliation=rec, actor=request.user, now=clock.now()
        ),
    )
    if signed is None:
        for error in form.non_field_errors() or []:
            messages.error(request, str(error))
        for name, errors in form.errors.items():
            if name != "__all__":
                for error in errors:
                    messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Reconciliation to {rec.period_end} signed; the month is closed in the journal.",
        )
    return redirect(f"{_url(rec.bank_account)}?date={rec.period_end.isoformat()}")


@require_POST
@capability_required("banking.reconcile_reopen")
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    rec = _record(pk)
    form = ReconcileReopenForm(request.POST)
    done = handle_form(
        request,
        form,
        lambda d: services.reconciliation_reopen(
            reconciliation=rec, actor=request.user, reason=d["reason"], now=clock.now()
        ),
    )
    if done is None:
        return _report_page(request, rec.bank_account, rec.period_end, reopen_form=form, status=400)
    messages.success(request, f"{rec.period_end:%B %Y} reopened; sign it again when corrected.")
    return redirect(f"{_url(rec.bank_account)}?date={rec.period_end.isoformat()}")


@capability_required("banking.reconcile_view")
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    return render(
        request,
        "banking/reconciliation_archive.html",
        {
            "account": account,
            "records": selectors.reconciliation_list(account),
            "currency": account.currency,
        },
    )


@capability_required("banking.reconcile_view")
def pdf(request: HttpRequest, pk: int) -> HttpResponse:
    rec = get_object_or_404(Reconciliation.objects.select_related("bank_account"), pk=pk)
    if rec.status not in (Status.SIGNED, Status.REOPENED) or not rec.pdf:
        raise Http404("only a signed reconciliation has an archived PDF")
    response = HttpResponse(bytes(rec.pdf), content_type="application/pdf")
    name = f"reconciliation-{rec.bank_account_id}-{rec.period_end.isoformat()}-{rec.pk}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@capability_required("banking.reconcile_settings")
def settings_edit(request: HttpRequest) -> HttpResponse:
    row = services.reconciliation_settings_get()
    form = ReconcileSettingsForm(
        request.POST or None, initial={"signoff_due_days": row.signoff_due_days}
    )
    saved: Any = handle_form(
        request,
        form,
        lambda d: services.reconciliation_settings_update(
            signoff_due_days=d["signoff_due_days"], actor=request.user, now=clock.now()
        ),
    )
    if saved is not None:
        messages.success(request, "Reconciliation settings saved.")
        return redirect("banking:reconciliation_home")
    return render(request, "banking/reconciliation_settings.html", {"form": form})
