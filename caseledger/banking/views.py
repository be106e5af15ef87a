"""Banking pages: bank accounts (list, create, edit, detail), statement upload, the CSV
mapping step with its preview, import progress and statements; the matching workbench and a
statement line's page (match by hand, unmatch, resolve)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from caseledger.banking import match_services, resolutions, selectors, services
from caseledger.banking.choices import ImportStatus, Resolution
from caseledger.banking.forms import (
    AcceptForm,
    BankAccountEditForm,
    BankAccountForm,
    ManualMatchForm,
    MappingForm,
    ResolveForm,
    SplitForm,
    UploadForm,
)
from caseledger.banking.models import BankAccount, BankStatement, StatementImport, StatementLine
from caseledger.banking.parsers.base import ParsedStatement
from caseledger.banking.parsers.csvfile import CsvMapping, read_table, suggest_mapping
from caseledger.core import clock
from caseledger.core.actions import service_action, staff
from caseledger.core.exceptions import ApplicationError
from caseledger.core.forms import handle_form
from caseledger.core.money import format_money
from caseledger.core.permissions import capability_required
from caseledger.ledger.models import Posting

# Seconds between reloads of an import page while its job runs (no JavaScript needed).
REFRESH_SECONDS = 2
# Rows per table on the matching workbench (the counts above them say how many there are).
WORKBENCH_ROWS = 200


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
            actor=staff(request),
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
        "match_window_days": account.match_window_days,
        "stale_days": account.stale_days,
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
            match_window_days=d["match_window_days"],
            stale_days=d["stale_days"],
            actor=staff(request),
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
                actor=staff(request),
                now=clock.now(),
            )
        except ApplicationError as exc:  # not shown here: handle_form puts it under "file"
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

    def call(_d: dict[str, Any]) -> tuple[bool, ParsedStatement | None]:
        """(confirmed, preview): "confirm" saves the mapping and queues the import; otherwise
        the file read through the mapping is previewed (nothing written)."""
        mapping = form.mapping()
        if "confirm" in request.POST:
            services.statement_import_mapping_confirm(
                statement_import=imp, mapping=mapping, actor=staff(request), now=clock.now()
            )
            return True, None
        return False, services.csv_preview(statement_import=imp, mapping=mapping)

    preview = None
    result = handle_form(request, form, call)
    if result is not None:
        confirmed, preview = result
        if confirmed:
            return redirect("banking:import", pk=imp.pk)
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


# -- matching -----------------------------------------------------------------------------


def _shown(suggestions: list[Any]) -> str:
    return ";".join(f"{s.line_id}:{'-'.join(str(p) for p in s.posting_ids)}" for s in suggestions)


@capability_required("banking.view")
def matching_workbench(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(BankAccount.objects.select_related("ledger_account"), pk=pk)
    lines = list(selectors.lines_open(account)[:WORKBENCH_ROWS])
    suggestions = {s.line_id: s for s in selectors.match_suggestions(account)}
    suggested = {p for s in suggestions.values() for p in s.posting_ids}
    suggested |= {p for s in suggestions.values() for c in s.candidates for p in c}
    postings = {p.pk: p for p in Posting.objects.filter(pk__in=suggested).select_related("entry")}
    # The other lines of a split suggestion point at the line that carries it.
    part_of = {lid: s.line_id for s in suggestions.values() for lid in s.line_ids[1:]}
    rows = []
    for line in lines:
        s = suggestions.get(line.pk)
        rows.append(
            {
                "line": line,
                "left": line.amount_cents - line.matched,  # type: ignore[attr-defined]
                "suggestion": s,
                "postings": [postings[p] for p in s.posting_ids if p in postings] if s else [],
                "shown": _shown([s]) if s and s.confident else "",
                "split_with": [lid for lid in s.line_ids if lid != line.pk] if s else [],
                "part_of": part_of.get(line.pk),
            }
        )
    confident = [r["suggestion"] for r in rows if r["shown"]]
    suggested_ids = {p for s in confident for p in s.posting_ids}
    today = clock.firm_date(clock.now())
    return render(
        request,
        "banking/matching.html",
        {
            "account": account,
            "rows": rows,
            "counts": selectors.match_counts(account),
            "accept_all": _shown(confident),
            "confident_count": len(confident),
            "open_postings": list(
                selectors.postings_open(account).exclude(pk__in=suggested_ids)[:WORKBENCH_ROWS]
            ),
            "stale": list(selectors.postings_stale(account, today=today)[:WORKBENCH_ROWS]),
            "matched": selectors.lines_matched_recent(account),
            "rows_limit": WORKBENCH_ROWS,
        },
    )


@require_POST
@capability_required("banking.match")
def matching_accept(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(BankAccount.objects.select_related("ledger_account"), pk=pk)
    form = AcceptForm(request.POST)
    current: list[Any] = []

    def accept(_: dict[str, Any]) -> match_services.AcceptResult:
        wanted = set(form.proposals())
        # Every open line: a split suggestion needs its other lines too.
        current.extend(
            s
            for s in selectors.match_suggestions(account)
            if s.confident and (s.line_id, s.posting_ids) in wanted
        )
        return match_services.suggestions_accept(
            bank_account=account, suggestions=current, actor=staff(request), now=clock.now()
        )

    result = handle_form(request, form, accept)
    if result is None:
        messages.error(request, "Nothing was matched: the suggestions were not received.")
    else:
        # Suggestions sent but no longer current, or refused on accepting (a split matches
        # several lines, so this counts suggestions, not lines).
        gone = len(set(form.proposals())) - len(current) + len(result.skipped)
        text = f"{result.accepted} line{'s' if result.accepted != 1 else ''} matched."
        if gone:
            plural = "s" if gone != 1 else ""
            text += f" {gone} suggestion{plural} no longer applied (matched meanwhile)."
        messages.success(request, text)
    return redirect("banking:matching", pk=account.pk)


def _line_page(
    request: HttpRequest,
    line: StatementLine,
    match_form: ManualMatchForm | None = None,
    resolve_form: ResolveForm | None = None,
    split_form: SplitForm | None = None,
    status: int = 200,
) -> HttpResponse:
    candidates = selectors.line_candidates(line)
    split_postings, split_lines = selectors.split_candidates(line)
    kinds = selectors.line_resolutions(line)
    matches = list(selectors.line_matches(line))
    left = line.amount_cents - sum(m.amount_cents for m in matches)
    if match_form is None:
        match_form = ManualMatchForm(choices=_posting_choices(line, candidates))
    if resolve_form is None:
        resolve_form = ResolveForm(
            kinds=kinds, targets=_targets(line, kinds), payments=_payments(line, kinds)
        )
    if split_form is None:
        split_form = _split_form(line, None, split_postings, split_lines)
    return render(
        request,
        "banking/line.html",
        {
            "split_form": split_form,
            "can_split": bool(split_postings and split_lines),
            "line": line,
            "account": line.bank_account,
            "matches": matches,
            "left": left,
            "candidates": candidates,
            "match_form": match_form,
            "resolve_form": resolve_form,
            "kinds": kinds,
        },
        status=status,
    )


def _posting_choices(line: StatementLine, candidates: list[Any]) -> list[tuple[int, str]]:
    cur = line.bank_account.currency
    return [
        (
            p.pk,
            f"{p.entry_date} · {format_money(p.amount_cents, cur)} · JE-{p.entry_id} "
            f"{p.entry.memo[:80]}",
        )
        for p in candidates
    ]


def _targets(line: StatementLine, kinds: list[tuple[str, str]]) -> list[tuple[int, str]] | None:
    from caseledger.banking import hooks

    if Resolution.RETURNED_DEPOSIT not in {k for k, _ in kinds}:
        return None
    return hooks.line_resolver_choices(Resolution.RETURNED_DEPOSIT, line=line)


def _payments(line: StatementLine, kinds: list[tuple[str, str]]) -> list[tuple[int, str]] | None:
    if Resolution.CARD_PAYOUT_NET not in {k for k, _ in kinds}:
        return None
    return _posting_choices(line, selectors.card_payments_open(line))


def _split_form(
    line: StatementLine, data: Any, postings: list[Any], lines: list[StatementLine]
) -> SplitForm:
    cur = line.bank_account.currency
    return SplitForm(
        data,
        postings=_posting_choices(line, postings),
        lines=[
            (
                other.pk,
                f"{other.booking_date} · {format_money(other.amount_cents, cur)} · "
                f"{(other.description or other.bank_reference)[:80]}",
            )
            for other in lines
        ],
    )


def _line(pk: int) -> StatementLine:
    return get_object_or_404(
        StatementLine.objects.select_related("bank_account__ledger_account", "statement"), pk=pk
    )


@capability_required("banking.view")
def line_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _line_page(request, _line(pk))


@require_POST
@capability_required("banking.match")
def line_match(request: HttpRequest, pk: int) -> HttpResponse:
    line = _line(pk)
    form = ManualMatchForm(
        request.POST, choices=_posting_choices(line, selectors.line_candidates(line))
    )
    done = handle_form(
        request,
        form,
        lambda d: match_services.match_manual(
            bank_account=line.bank_account,
            line=line,
            posting_ids=[int(p) for p in d["postings"]],
            actor=staff(request),
            now=clock.now(),
            note=d["note"],
        ),
    )
    if done is None:
        return _line_page(request, line, match_form=form, status=400)
    messages.success(
        request, f"Line matched to {len(done)} posting{'s' if len(done) != 1 else ''}."
    )
    return redirect("banking:matching", pk=line.bank_account_id)


@require_POST
@capability_required("banking.match")
def line_unmatch(request: HttpRequest, pk: int) -> HttpResponse:
    line = _line(pk)
    service_action(
        request,
        lambda: match_services.match_remove(line=line, actor=staff(request), now=clock.now()),
        lambda removed: f"Unmatched: {removed} posting{'s' if removed != 1 else ''} open again.",
    )
    return redirect("banking:line", pk=line.pk)


@require_POST
@capability_required("banking.match")
def line_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    line = _line(pk)
    kinds = selectors.line_resolutions(line)
    form = ResolveForm(
        request.POST, kinds=kinds, targets=_targets(line, kinds), payments=_payments(line, kinds)
    )
    done = handle_form(
        request,
        form,
        lambda d: resolutions.line_resolve(
            line=line,
            kind=d["kind"],
            target_id=d.get("target"),
            payment_ids=d.get("payments") or (),
            actor=staff(request),
            now=clock.now(),
            note=d["note"],
        ),
    )
    if done is None:
        return _line_page(request, line, resolve_form=form, status=400)
    kind = Resolution(form.cleaned_data["kind"])
    if kind == Resolution.RETURNED_DEPOSIT and not done:
        messages.success(
            request,
            "Reversal requested: above the firm's threshold it needs the approval of a partner "
            "other than you (on the deposit's page). Approving it posts the reversal and "
            "matches this line.",
        )
        return redirect("banking:line", pk=line.pk)
    text = f"Resolved as {kind.label.split(' (')[0].lower()}."
    if kind == Resolution.BANK_FEE:
        text += (
            f" Now transfer {format_money(-line.amount_cents, line.bank_account.currency)} "
            "from the operating account to this trust account today: it is booked, and stays "
            "open on both accounts until their statements show it."
        )
    messages.success(request, text)
    return redirect("banking:matching", pk=line.bank_account_id)


@require_POST
@capability_required("banking.match")
def line_split(request: HttpRequest, pk: int) -> HttpResponse:
    """This line and the others ticked show one posting the bank split: matched together."""
    line = _line(pk)
    postings, lines = selectors.split_candidates(line)
    form = _split_form(line, request.POST, postings, lines)
    done = handle_form(
        request,
        form,
        lambda d: match_services.match_split(
            bank_account=line.bank_account,
            line_ids=[line.pk, *d["lines"]],
            posting_id=d["posting"],
            actor=staff(request),
            now=clock.now(),
            note=d["note"],
        ),
    )
    if done is None:
        return _line_page(request, line, split_form=form, status=400)
    messages.success(request, f"{len(done)} lines matched to one posting.")
    return redirect("banking:matching", pk=line.bank_account_id)
