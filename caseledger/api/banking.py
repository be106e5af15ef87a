"""Banking API: bank accounts, statement upload (checked and imported at once, or only checked
with ``dry_run``), import status; matching suggestions, accepting or making matches and
unmatching. The upload needs no Idempotency-Key: sending the same file
again is refused as already imported, and overlapping files add only new lines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from caseledger.api.pagination import Page, paginate
from caseledger.api.types import DEFAULT_LIMIT, Day, Flag, Id, Limit, Offset, column
from caseledger.banking import match_services, selectors, services
from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import BankAccount, LineMatch, StatementImport, StatementLine
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


# -- matching -----------------------------------------------------------------------------

LINE_REQUIRED = "line_id: required (or line_ids with posting_id, or accept_all: true)"
SPLIT_POSTING_REQUIRED = "posting_id: required with line_ids (the one posting the lines show)"
NO_SUGGESTION = "line_id: line {id} has no suggestion that can be accepted (none, or ambiguous)"


class SuggestionOut(Schema):
    line_id: int
    posting_ids: list[int]
    reason: str
    rule: str
    confident: bool
    candidates: list[list[int]]
    # Rule "split": every statement line of a posting split over several lines (line_id first).
    line_ids: list[int]


class MatchIn(Schema):
    """``line_id`` with ``posting_ids``: a manual match (they must sum to what the line has
    left); ``line_ids`` with ``posting_id``: several lines to one posting (they must sum to it
    exactly); ``line_id`` alone: accept the line's current suggestion; ``accept_all``: accept
    every confident suggestion. An ``Idempotency-Key`` replays the first answer."""

    line_id: Id | None = None
    posting_ids: list[Id] | None = Field(default=None, max_length=500)
    # Several lines to one posting (a deposit the bank split): they must sum to it exactly.
    line_ids: list[Id] | None = Field(default=None, max_length=500)
    posting_id: Id | None = None
    note: column(LineMatch, "reason") = ""  # type: ignore[valid-type]
    accept_all: Flag = False


class MatchRowOut(Schema):
    line_id: int
    posting_id: int
    amount_cents: int
    method: str
    reason: str


class MatchOut(Schema):
    accepted: int
    skipped: list[str]
    matches: list[MatchRowOut]


def _match_out(result: Any) -> dict[str, Any]:
    return {
        "accepted": result.accepted,
        "skipped": result.skipped,
        "matches": [
            {
                "line_id": m.line_id,
                "posting_id": m.posting_id,
                "amount_cents": m.amount_cents,
                "method": m.method,
                "reason": m.reason,
            }
            for m in result.matches
        ],
    }


@router.get(
    "/accounts/{account_id}/suggestions",
    response=Page[SuggestionOut],
    url_name="banking_suggestions",
)
def suggestions(
    request: HttpRequest, account_id: Id, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> dict[str, Any]:
    """Suggested matches for the account's open lines (by line date, as the workbench), each
    with why it matched; ambiguous ones (``confident`` false) list their ``candidates``."""
    require(_user(request), "banking.view")
    account = get_object_or_404(BankAccount, pk=account_id)

    def serialize(rows: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "line_id": s.line_id,
                "posting_ids": list(s.posting_ids),
                "reason": s.reason,
                "rule": s.rule,
                "confident": s.confident,
                "candidates": [list(c) for c in s.candidates],
                "line_ids": list(s.line_ids),
            }
            for s in rows
        ]

    return paginate(
        request,
        selectors.match_suggestions(account),
        limit=limit,
        offset=offset,
        serialize=serialize,
    )


@router.post(
    "/accounts/{account_id}/matches", response={201: MatchOut}, url_name="banking_match_create"
)
def match_create(request: HttpRequest, account_id: Id, payload: MatchIn) -> Status:
    user = _user(request)
    require(user, "banking.match")
    account = get_object_or_404(BankAccount.objects.select_related("ledger_account"), pk=account_id)
    now = clock.now()
    if payload.accept_all:
        return Status(
            201,
            _match_out(
                match_services.bank_account_auto_match(bank_account=account, actor=user, now=now)
            ),
        )
    if payload.line_ids is not None:
        if payload.posting_id is None:
            raise BankingError(SPLIT_POSTING_REQUIRED, "posting_id")
        rows = match_services.match_split(
            bank_account=account,
            line_ids=payload.line_ids,
            posting_id=payload.posting_id,
            actor=user,
            now=now,
            note=payload.note,
        )
        return Status(
            201,
            _match_out(match_services.AcceptResult(accepted=len(rows), skipped=[], matches=rows)),
        )
    if payload.line_id is None:
        raise BankingError(LINE_REQUIRED, "line_id")
    line = get_object_or_404(StatementLine, pk=payload.line_id, bank_account=account)
    if payload.posting_ids is not None:
        rows = match_services.match_manual(
            bank_account=account,
            line=line,
            posting_ids=payload.posting_ids,
            actor=user,
            now=now,
            note=payload.note,
        )
        return Status(
            201, _match_out(match_services.AcceptResult(accepted=1, skipped=[], matches=rows))
        )
    # Every open line: a split suggestion (rule "split") holding this line needs its others.
    found = [
        s
        for s in selectors.match_suggestions(account)
        if s.confident and (s.line_id == line.pk or line.pk in s.line_ids)
    ]
    if not found:
        raise BankingError(NO_SUGGESTION.format(id=line.pk), "line_id")
    return Status(
        201,
        _match_out(
            match_services.suggestions_accept(
                bank_account=account, suggestions=found[:1], actor=user, now=now, strict=True
            )
        ),
    )


@router.delete(
    "/accounts/{account_id}/matches/{line_id}",
    response={200: dict[str, int]},
    url_name="banking_match_delete",
)
def match_delete(request: HttpRequest, account_id: Id, line_id: Id) -> dict[str, int]:
    """Unmatch a line: every posting matched to it becomes open again."""
    user = _user(request)
    require(user, "banking.match")
    line = get_object_or_404(StatementLine, pk=line_id, bank_account_id=account_id)
    removed = match_services.match_remove(line=line, actor=user, now=clock.now())
    return {"line_id": line.pk, "removed": removed}


class MonthStatusOut(Schema):
    period_end: date
    status: str  # SIGNED | PREPARED | OPEN
    reconciliation_id: int | None
    is_balanced: bool | None


class ReconciliationOut(Schema):
    bank_account_id: int
    date: date
    kind: str  # three_way | two_way
    report: dict[str, Any]  # the canonical report: figures (cents) and items by id
    report_sha256: str
    balanced: bool
    record_status: str | None  # the month's PREPARED or SIGNED record, if any
    record_id: int | None
    chain_hash: str | None
    months: list[MonthStatusOut]


@router.get(
    "/accounts/{account_id}/reconciliation",
    response=ReconciliationOut,
    url_name="banking_reconciliation",
)
def reconciliation(request: HttpRequest, account_id: Id, date: Day | None = None) -> dict[str, Any]:
    """The reconciliation of the account at the end of ``date`` (default: last month's end):
    the figures and adjusting items as JSON, the month's record and the status of its months."""
    from caseledger.banking.reconciliation import selectors as recon_selectors
    from caseledger.banking.reconciliation.compute import reconciliation_compute

    require(_user(request), "banking.reconcile_view")
    account = get_object_or_404(BankAccount.objects.select_related("ledger_account"), pk=account_id)
    today = clock.firm_date(clock.now())
    as_of = date or recon_selectors.default_period_end(today)
    clock.date_check(as_of, field="date")
    report = reconciliation_compute(bank_account=account, as_of=as_of)
    record = recon_selectors.reconciliation_live(account, as_of)
    return {
        "bank_account_id": account.pk,
        "date": as_of,
        "kind": report.canonical["kind"],
        "report": report.canonical,
        "report_sha256": report.sha256,
        "balanced": report.balanced,
        "record_status": record.status if record else None,
        "record_id": record.pk if record else None,
        "chain_hash": (record.chain_hash or None) if record else None,
        "months": [m.__dict__ for m in recon_selectors.month_statuses(account, today)],
    }
