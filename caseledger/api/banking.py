"""Banking API: bank accounts, statement upload (checked and imported at once, or only checked
with ``dry_run``), import status. The upload needs no Idempotency-Key: sending the same file
again is refused as already imported, and overlapping files add only new lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from caseledger.api.pagination import Page, paginate
from caseledger.api.types import DEFAULT_LIMIT, Id, Limit, Offset
from caseledger.banking import selectors, services
from caseledger.banking.models import BankAccount, StatementImport
from caseledger.core import clock
from caseledger.core.permissions import require

router = Router(tags=["banking"])

FILE_REQUIRED = "file: required (multipart form field 'file')"


def _user(request: HttpRequest) -> Any:
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "role", None) else request.user


class BankAccountOut(Schema):
    id: int
    name: str
    bank_name: str
    number_masked: str
    currency: str
    is_trust: bool
    ledger_account: str
    formats: list[str]
    csv_mapping_saved: bool
    is_active: bool


class StatementOut(Schema):
    format: str
    account: str
    currency: str
    opening_cents: int | None
    closing_cents: int | None
    entries: int
    credits_cents: int
    debits_cents: int


class ImportOut(Schema):
    import_id: int | None
    status: str
    format: str
    lines_added: int
    lines_already_imported: int
    statements: list[StatementOut]


class ImportStatusOut(Schema):
    id: int
    bank_account_id: int
    file_name: str
    format: str
    status: str
    phase: str
    percent: int
    error: str
    statements: int
    lines_in_file: int
    lines_added: int
    lines_already_imported: int
    created_at: datetime
    finished_at: datetime | None


def _account_out(a: BankAccount) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.name,
        "bank_name": a.bank_name,
        "number_masked": a.number_masked,
        "currency": a.currency,
        "is_trust": a.is_trust,
        "ledger_account": a.ledger_account.code,
        "formats": a.formats,
        "csv_mapping_saved": bool(a.csv_mapping),
        "is_active": a.is_active,
    }


@router.get("/accounts", response=Page[BankAccountOut], url_name="banking_accounts")
def bank_accounts(
    request: HttpRequest, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    """The firm's bank accounts; ``count`` and ``next`` page through them."""
    require(_user(request), "banking.view")
    rows = [_account_out(a) for a in selectors.bank_account_list()]
    return paginate(request, rows, limit=limit, offset=offset, serialize=list)


@router.post(
    "/accounts/{account_id}/statements",
    response={200: ImportOut, 201: ImportOut},
    url_name="banking_statement_upload",
)
def statement_upload(
    request: HttpRequest,
    account_id: Id,
    file: UploadedFile = File(...),  # noqa: B008 (ninja's parameter declaration)
    dry_run: bool = False,
) -> Status[dict[str, Any]]:
    """Check the file (multipart field ``file``) and import it into the bank account (201), or
    with ``dry_run`` only check it (200). A refusal is a 422 whose message names the figures;
    nothing is stored."""
    user = _user(request)
    require(user, "banking.import")
    account = get_object_or_404(BankAccount, pk=account_id)
    content = file.read()
    now = clock.now()
    if dry_run:
        checked = services.statement_file_check(
            content=content, today=clock.firm_date(now), bank_account=account
        )
        return Status(
            200,
            {
                "import_id": None,
                "status": "CHECKED",
                "format": checked.format,
                "lines_added": 0,
                "lines_already_imported": 0,
                "statements": [
                    services.statement_summary(st, account.number_masked)
                    for st in checked.statements
                ],
            },
        )
    result = services.statement_import(
        bank_account=account,
        file_name=file.name or "statement",
        content=content,
        actor=user,
        now=now,
    )
    imp = result.statement_import
    return Status(
        201,
        {
            "import_id": imp.pk,
            "status": imp.status,
            "format": imp.format,
            "lines_added": imp.lines_added,
            "lines_already_imported": imp.lines_already_imported,
            "statements": [
                services.statement_summary(st, account.number_masked)
                for st in result.checked.statements
            ],
        },
    )


@router.get("/imports/{import_id}", response=ImportStatusOut, url_name="banking_import")
def import_status(request: HttpRequest, import_id: Id) -> dict[str, Any]:
    require(_user(request), "banking.view")
    imp = get_object_or_404(StatementImport.objects.defer("content"), pk=import_id)
    return {
        "id": imp.pk,
        "bank_account_id": imp.bank_account_id,
        "file_name": imp.file_name,
        "format": imp.format,
        "status": imp.status,
        "phase": imp.phase,
        "percent": imp.percent,
        "error": imp.error,
        "statements": imp.statements_count,
        "lines_in_file": imp.lines_in_file,
        "lines_added": imp.lines_added,
        "lines_already_imported": imp.lines_already_imported,
        "created_at": imp.created_at,
        "finished_at": imp.finished_at,
    }
