"""Banking pages: bank accounts (list, create, edit, detail), statement upload, the CSV
mapping step with its preview, import progress and statements."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from caseledger.banking import selectors, services
from caseledger.banking.choices import ImportStatus
from caseledger.banking.forms import (
    BankAccountEditForm,
    BankAccountForm,
    MappingForm,
    UploadForm,
)
from caseledger.banking.models import BankAccount, BankStatement, StatementImport
from caseledger.banking.parsers.csvfile import CsvMapping, read_table, suggest_mapping
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import handle_form, service_error_add
from caseledger.core.permissions import capability_required

# Seconds between reloads of an import page while its job runs (no JavaScript needed).
REFRESH_SECONDS = 2


@capability_required("banking.view")
def account_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "banking/accounts.html",
        {
            "accounts": selectors.bank_account_list(),
        },
    )


@capability_required("banking.manage")
def account_new(request: HttpRequest) -> HttpResponse:
    form = BankAccountForm(
        request.POST or None, ledger_accounts=selectors.ledger_bank_accounts_unmapped()
    )
    account = handle_form(
        request,
        form,
        lambda d: services.bank_account_create(
            name=d["name"],
            bank_name=d["bank_name"],
            number=d["number"],
            ledger_account=d["ledger_account"],
            formats=d["formats"],
            actor=request.user,
            now=clock.now(),
        ),
    )
    if account is not None:
        messages.success(request, f"Bank account {account.name} created.")
        return redirect("banking:account", pk=account.pk)
    return render(
        request,
        "banking/account_form.html",
        {"form": form, "title": "New bank account", "submit": "Create bank account"},
    )


@capability_required("banking.manage")
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(BankAccount, pk=pk)
    initial = {
        "name": account.name,
        "bank_name": account.bank_name,
        "formats": account.formats,
        "is_active": account.is_active,
    }
    form = BankAccountEditForm(request.POST or None, initial=initial)
    saved = handle_form(
        request,
        form,
        lambda d: services.bank_account_update(
            bank_account=account,
            name=d["name"],
            bank_name=d["bank_name"],
            number=d["number"] or None,
            formats=d["formats"],
            is_active=d["is_active"],
            actor=request.user,
            now=clock.now(),
        ),
    )
    if saved is not None:
        messages.success(request, "Bank account saved.")
        return redirect("banking:account", pk=account.pk)
    return render(
        request,
        "banking/account_form.html",
        {
            "form": form,
            "account": account,
            "title": f"Edit {account.name}",
            "submit": "Save",
        },
    )


def _account_page(
    request: HttpRequest, account: BankAccount, upload_form: UploadForm, status: int = 200
) -> HttpResponse:
    statements = list(selectors.bank_account_statements(account)[:24])
    return render(
        request,
        "banking/account.html",
        {
            "account": account,
            "upload_form": upload_form,
            "imports": selectors.bank_account_imports(account)[:20],
            "statements": statements,
            "any_computed": any(not s.opening_stated for s in statements),
            "lines": selectors.bank_account_latest_lines(account),
        },
        status=status,
    )


@capability_required("banking.view")
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(BankAccount.objects.select_related("ledger_account"), pk=pk)
    return _account_page(request, account, UploadForm())


@require_POST
@capability_required("banking.import")
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(BankAccount.objects.select_related("ledger_account"), pk=pk)
    form = UploadForm(request.POST, request.FILES)

    def queue(data: dict[str, Any]) -> StatementImport:
        upload = data["file"]
        try:
            return services.statement_import_queue(
                bank_account=account,
                file_name=upload.name,
                content=upload.read(),
                actor=request.user,
                now=clock.now(),
            )
        except ApplicationError as exc:
            if exc.field not in form.fields:
                exc.field = "file"  # every refusal of an upload is about the file uploaded
            raise

    imp = handle_form(request, form, queue)
    if imp is None:
        return _account_page(request, account, form, status=400)
    if imp.status == ImportStatus.NEEDS_MAPPING:
        return redirect("banking:import_mapping", pk=imp.pk)
    return redirect("banking:import", pk=imp.pk)


@capability_required("banking.view")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    imp = get_object_or_404(
        StatementImport.objects.select_related("bank_account", "uploaded_by").defer("content"),
        pk=pk,
    )
    running = imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    response = render(
        request,
        "banking/import.html",
        {
            "imp": imp,
            "running": running,
            "statements": imp.statements.order_by("period_end", "id"),
            "refresh": REFRESH_SECONDS,
        },
    )
    if running:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@capability_required("banking.import")
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    imp = get_object_or_404(StatementImport.objects.select_related("bank_account"), pk=pk)
    if imp.status != ImportStatus.NEEDS_MAPPING:
        return redirect("banking:import", pk=imp.pk)
    table = read_table(bytes(imp.content))
    saved = CsvMapping.from_json(imp.bank_account.csv_mapping)
    suggestion, problem = suggest_mapping(table)
    start = saved if saved is not None and saved.fits(table.header) else suggestion
    initial = {name: getattr(start, name) for name in MappingForm.COLUMNS}
    initial.update(date_format=start.date_format, decimal_comma=start.decimal_comma)
    if problem and start is suggestion and "more than one way" in problem:
        initial["date_format"] = ""  # ambiguous: a person chooses
    form = MappingForm(request.POST or None, header=table.header, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        mapping = form.mapping()
        try:
            if "confirm" in request.POST:
                services.statement_import_mapping_confirm(
                    statement_import=imp, mapping=mapping, actor=request.user, now=clock.now()
                )
                return redirect("banking:import", pk=imp.pk)
            preview = services.csv_preview(statement_import=imp, mapping=mapping)
        except ApplicationError as exc:
            service_error_add(form, exc)
    return render(
        request,
        "banking/mapping.html",
        {
            "imp": imp,
            "form": form,
            "header": table.header,
            "sample": table.rows[:8],
            "problem": problem if request.method == "GET" else "",
            "preview": preview,
            "preview_lines": preview.lines[:15] if preview else [],
            "currency": imp.bank_account.currency,
        },
    )


@capability_required("banking.view")
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(
        BankStatement.objects.select_related("bank_account", "statement_import"), pk=pk
    )
    return render(
        request,
        "banking/statement.html",
        {"statement": statement, "lines": selectors.statement_lines(statement)},
    )
