"""Banking writes: bank accounts, CSV mappings, statement imports.

An import either stores every new line of every statement of the file for the chosen account,
with its ``StatementImport`` row and one audit event, in one transaction, or stores nothing:
each statement is parsed and checked (``checks``) before the transaction that stores them.
Uploads on the page go through a job (``statement_import_queue`` -> huey task ->
``statement_import_run``), which writes its progress on the import row; the shell command and
the API's synchronous path call ``statement_import``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction

from caseledger.banking import checks, locks
from caseledger.banking.choices import FILE_FORMATS, ImportPhase, ImportStatus, StatementFormat
from caseledger.banking.exceptions import BankingError, StatementRefused
from caseledger.banking.models import BankAccount, BankStatement, StatementImport, StatementLine
from caseledger.banking.parsers import detect, parse_file
from caseledger.banking.parsers.base import (
    ParsedLine,
    ParsedStatement,
    fingerprint,
    normalise_account,
)
from caseledger.banking.parsers.csvfile import CsvMapping, parse_table, read_table
from caseledger.core import audit, clock
from caseledger.core.crypto import lookup_hash
from caseledger.ledger import accounts as ledger_codes
from caseledger.ledger.models import Account

NAME_REQUIRED = "name: required"
BANK_REQUIRED = "bank_name: required"
NUMBER_INVALID = "number: must have at least 4 letters or digits (got {count})"
NUMBER_TAKEN = "number: another bank account already has this number"
LEDGER_NOT_BANK = (
    "ledger_account: must be the operating bank ({operating}) or a trust bank account "
    "(1010-1099); {code} is not a bank account"
)
LEDGER_TAKEN = "ledger_account: {code} is already mapped to bank account {name}"
LEDGER_INACTIVE = "ledger_account: {code} is inactive"
FORMAT_UNKNOWN = "formats: unknown format {value!r}"
ACCOUNT_INACTIVE = "account: bank account {name} is inactive"
FILE_TOO_LARGE = "file: {size:,} bytes is larger than the limit of {limit:,} bytes"
FILE_ALREADY_IMPORTED = (
    "file: this file was already imported into {name} on {day} (import {pk}); nothing was added"
)
MAPPING_NO_HEADER = "mapping: the header of the CSV layout is missing"
IMPORT_NOT_WAITING = "import: import {pk} is {status}, not waiting for a column mapping"

WINDOW_INVALID = "match_window_days: must be 0 to {limit} days (got {value})"
STALE_INVALID = "stale_days: must be 1 to {limit} days (got {value})"
MAX_WINDOW_DAYS = 30
MAX_STALE_DAYS = 365

MAX_FILE_BYTES = 100 * 1024 * 1024
INSERT_BATCH = 2000


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# -- bank accounts ------------------------------------------------------------------------


def _clean_number(number: str) -> str:
    cleaned = (number or "").strip()
    count = len(normalise_account(cleaned))
    if count < 4:
        raise BankingError(NUMBER_INVALID.format(count=count), "number")
    return cleaned


def _check_formats(formats: list[str]) -> list[str]:
    for value in formats:
        if value not in dict(FILE_FORMATS):
            raise BankingError(FORMAT_UNKNOWN.format(value=value), "formats")
    return sorted(set(formats))


def _check_number_free(number_hash: str, exclude: int | None = None) -> None:
    taken = BankAccount.objects.filter(number_hash=number_hash)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise BankingError(NUMBER_TAKEN, "number")


def bank_account_create(
    *,
    name: str,
    bank_name: str,
    number: str,
    ledger_account: Account,
    formats: list[str],
    actor: Any,
    now: datetime,
) -> BankAccount:
    """Record a bank account mapped to a ledger bank account (operating 1000 or a trust bank);
    the currency and trust flag are the ledger account's. Raises BankingError naming the
    field."""
    name, bank_name = (name or "").strip(), (bank_name or "").strip()
    if not name:
        raise BankingError(NAME_REQUIRED, "name")
    if not bank_name:
        raise BankingError(BANK_REQUIRED, "bank_name")
    number = _clean_number(number)
    formats = _check_formats(formats)
    if not (ledger_account.code == ledger_codes.OPERATING_BANK or ledger_account.is_trust_bank):
        raise BankingError(
            LEDGER_NOT_BANK.format(operating=ledger_codes.OPERATING_BANK, code=ledger_account.code),
            "ledger_account",
        )
    if not ledger_account.is_active:
        raise BankingError(LEDGER_INACTIVE.format(code=ledger_account.code), "ledger_account")
    number_hash = lookup_hash(normalise_account(number))
    with transaction.atomic():
        existing = BankAccount.objects.filter(ledger_account=ledger_account).first()
        if existing is not None:
            raise BankingError(
                LEDGER_TAKEN.format(code=ledger_account.code, name=existing.name),
                "ledger_account",
            )
        _check_number_free(number_hash)
        account = BankAccount.objects.create(
            name=name,
            bank_name=bank_name,
            number=number,
            number_hash=number_hash,
            number_last4=normalise_account(number)[-4:],
            currency=ledger_account.currency,
            ledger_account=ledger_account,
            is_trust=ledger_account.is_trust,
            formats=formats,
            created_at=now,
            updated_at=now,
        )
        audit.record(
            actor=actor,
            action="banking.account_created",
            at=now,
            obj=account,
            after={
                "name": name,
                "bank_name": bank_name,
                "number": account.number_masked,
                "ledger_account": ledger_account.code,
                "currency": account.currency,
                "formats": formats,
            },
        )
    return account


def bank_account_update(
    *,
    bank_account: BankAccount,
    name: str,
    bank_name: str,
    formats: list[str],
    is_active: bool,
    actor: Any,
    now: datetime,
    number: str | None = None,
    match_window_days: int | None = None,
    stale_days: int | None = None,
) -> BankAccount:
    """Change the name, bank, expected formats, active flag and (when given) the number and the
    matching settings. The ledger account and currency never change: statements already
    imported belong to them."""
    if match_window_days is not None and not 0 <= match_window_days <= MAX_WINDOW_DAYS:
        raise BankingError(
            WINDOW_INVALID.format(limit=MAX_WINDOW_DAYS, value=match_window_days),
            "match_window_days",
        )
    if stale_days is not None and not 1 <= stale_days <= MAX_STALE_DAYS:
        raise BankingError(
            STALE_INVALID.format(limit=MAX_STALE_DAYS, value=stale_days), "stale_days"
        )
    name, bank_name = (name or "").strip(), (bank_name or "").strip()
    if not name:
        raise BankingError(NAME_REQUIRED, "name")
    if not bank_name:
        raise BankingError(BANK_REQUIRED, "bank_name")
    formats = _check_formats(formats)
    with transaction.atomic():
        account = locks.bank_account_lock(bank_account.pk)
        before = {
            "name": account.name,
            "bank_name": account.bank_name,
            "formats": account.formats,
            "is_active": account.is_active,
            "number": account.number_masked,
            "match_window_days": account.match_window_days,
            "stale_days": account.stale_days,
        }
        account.name, account.bank_name = name, bank_name
        if match_window_days is not None:
            account.match_window_days = match_window_days
        if stale_days is not None:
            account.stale_days = stale_days
        account.formats, account.is_active = formats, is_active
        if number:
            number = _clean_number(number)
            number_hash = lookup_hash(normalise_account(number))
            _check_number_free(number_hash, exclude=account.pk)
            account.number, account.number_hash = number, number_hash
            account.number_last4 = normalise_account(number)[-4:]
        account.updated_at = now
        account.save()
        after = {
            "name": account.name,
            "bank_name": account.bank_name,
            "formats": account.formats,
            "is_active": account.is_active,
            "number": account.number_masked,
            "match_window_days": account.match_window_days,
            "stale_days": account.stale_days,
        }
        changed_before, changed_after = audit.diff(before, after)
        audit.record(
            actor=actor,
            action="banking.account_updated",
            at=now,
            obj=account,
            before=changed_before,
            after=changed_after,
        )
    return account


# -- checking -----------------------------------------------------------------------------


@dataclass
class CheckedFile:
    format: str
    statements: list[ParsedStatement]


def _mapping_of(bank_account: BankAccount | None) -> CsvMapping | None:
    return CsvMapping.from_json(bank_account.csv_mapping) if bank_account else None


def statement_file_check(
    *,
    content: bytes,
    today: date,
    bank_account: BankAccount | None = None,
    currency: str = "USD",
    csv_mapping: CsvMapping | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CheckedFile:
    """Parse and check a file without storing anything: every statement balances, its control
    totals agree and nothing is dated after ``today``; with ``bank_account``, only that
    account's statements are kept, in its currency. Raises StatementRefused."""
    if not content:
        raise StatementRefused("file: the file is empty")
    if len(content) > MAX_FILE_BYTES:
        raise StatementRefused(FILE_TOO_LARGE.format(size=len(content), limit=MAX_FILE_BYTES))
    if bank_account is not None:
        currency = bank_account.currency
    fmt, statements = parse_file(
        content, csv_mapping=csv_mapping or _mapping_of(bank_account), currency=currency
    )
    if bank_account is not None:
        statements = checks.select_for_account(
            statements,
            number=bank_account.number,
            currency=bank_account.currency,
            name=bank_account.name,
        )
    for i, st in enumerate(statements, start=1):
        checks.check_statement(st, today=today)
        if progress is not None:
            progress(i, len(statements))
    return CheckedFile(format=fmt, statements=statements)


@dataclass
class ImportResult:
    statement_import: StatementImport
    checked: CheckedFile


def statement_summary(st: ParsedStatement, account: str) -> dict[str, Any]:
    """The figures the shell command and the API print for each statement."""
    return {
        "format": st.format,
        "account": account,
        "currency": st.currency,
        "opening_cents": st.opening_cents,
        "closing_cents": st.closing_cents,
        "entries": len(st.lines),
        "credits_cents": st.credits_cents,
        "debits_cents": st.debits_cents,
    }


# -- storing ------------------------------------------------------------------------------


def _keys(st: ParsedStatement) -> list[str]:
    """Dedupe key per line: the bank's reference (with the amount, and the occurrence when a
    reference repeats in one statement), else the fingerprint of date, amount and text."""
    seen: Counter[str] = Counter()
    out = []
    for line in st.lines:
        if line.bank_reference:
            base = f"ref:{line.bank_reference[:120]}|{line.amount_cents}"
            seen[base] += 1
            out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
        else:
            base = f"{line.booking_date}|{line.amount_cents}|{line.description}"
            seen[base] += 1
            out.append(f"fp:{fingerprint(line, seen[base])}")
    return out


def _existing_keys(bank_account: BankAccount, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), INSERT_BATCH):
        chunk = keys[i : i + INSERT_BATCH]
        found.update(
            StatementLine.objects.filter(
                bank_account=bank_account, dedupe_key__in=chunk
            ).values_list("dedupe_key", flat=True)
        )
    return found


def _line_row(
    line: ParsedLine, key: str, bank_account: BankAccount, statement: BankStatement
) -> StatementLine:
    return StatementLine(
        bank_account=bank_account,
        statement=statement,
        booking_date=line.booking_date,
        value_date=line.value_date,
        amount_cents=line.amount_cents,
        description=line.description[:500],
        bank_reference=line.bank_reference[:140],
        customer_reference=line.customer_reference[:140],
        counterparty=line.counterparty[:200],
        code=line.code[:40],
        balance_after_cents=line.balance_after_cents,
        details=[
            {
                "amount_cents": d.amount_cents,
                "bank_reference": d.bank_reference,
                "customer_reference": d.customer_reference,
                "counterparty": d.counterparty,
                "description": d.description,
            }
            for d in line.details
        ],
        dedupe_key=key,
    )


LINE_IN_CLOSED_MONTH = (
    "file: a line dated {day} ({amount} cents, {text!r}) falls in a month of {name} whose "
    "reconciliation is signed (closed through {through}); a partner reopens that month before "
    "lines dated in it are imported"
)


def _closed_check(bank_account: BankAccount, lines: list[Any]) -> None:
    """New lines may not land in a signed month (the database refuses them too; this says
    which line and why, instead of an error from the trigger)."""
    from caseledger.ledger.services import period_closed_through

    through = period_closed_through(account=bank_account.ledger_account_id)
    if through is None:
        return
    for line in lines:
        if line.booking_date <= through:
            raise StatementRefused(
                LINE_IN_CLOSED_MONTH.format(
                    day=line.booking_date.isoformat(),
                    amount=line.amount_cents,
                    text=(line.description or "")[:60],
                    name=bank_account.name,
                    through=through.isoformat(),
                )
            )


def _store(
    *,
    bank_account: BankAccount,
    imp: StatementImport,
    checked: CheckedFile,
    actor: Any,
    now: datetime,
) -> StatementImport:
    """Inside the caller's transaction, with the bank account locked: the statements and their
    new lines, the import row marked DONE, one audit event."""
    duplicate = (
        StatementImport.objects.filter(
            bank_account=bank_account, file_sha256=imp.file_sha256, status=ImportStatus.DONE
        )
        .exclude(pk=imp.pk)
        .first()
    )
    if duplicate is not None:
        raise StatementRefused(
            FILE_ALREADY_IMPORTED.format(
                name=bank_account.name,
                day=clock.firm_date(duplicate.created_at).isoformat(),
                pk=duplicate.pk,
            )
        )
    added = already = stored_statements = 0
    taken: set[str] = set()
    for st in checked.statements:
        keys = _keys(st)
        existing = _existing_keys(bank_account, keys) | taken
        new = [(line, key) for line, key in zip(st.lines, keys, strict=True) if key not in existing]
        already += len(keys) - len(new)
        if not new and _statement_on_file(bank_account, st):
            continue
        _closed_check(bank_account, [line for line, _ in new])
        statement = BankStatement.objects.create(
            statement_import=imp,
            bank_account=bank_account,
            format=st.format,
            statement_id=st.statement_id[:140],
            currency=st.currency,
            period_start=st.period_start,
            period_end=st.period_end,
            opening_cents=st.opening_cents,
            closing_cents=st.closing_cents,
            opening_stated=st.opening_stated,
            credits_cents=st.credits_cents,
            debits_cents=st.debits_cents,
            entries=len(st.lines),
            created_at=now,
        )
        stored_statements += 1
        StatementLine.objects.bulk_create(
            [_line_row(line, key, bank_account, statement) for line, key in new],
            batch_size=INSERT_BATCH,
        )
        taken.update(key for _, key in new)
        added += len(new)
    imp.status = ImportStatus.DONE
    imp.phase = ImportPhase.FINISHED
    imp.format = checked.format
    imp.progress_total = imp.progress_done = len(checked.statements)
    imp.statements_count = stored_statements
    imp.lines_in_file = sum(len(st.lines) for st in checked.statements)
    imp.lines_added = added
    imp.lines_already_imported = already
    imp.error = ""
    imp.finished_at = now
    imp.save()
    audit.record(
        actor=actor,
        action="banking.statement_imported",
        at=now,
        obj=imp,
        after={
            "bank_account": bank_account.pk,
            "file_name": imp.file_name,
            "file_sha256": imp.file_sha256,
            "format": checked.format,
            "statements": stored_statements,
            "lines_added": added,
            "lines_already_imported": already,
            "closing_cents": [st.closing_cents for st in checked.statements],
        },
    )
    return imp


def _statement_on_file(bank_account: BankAccount, st: ParsedStatement) -> bool:
    return BankStatement.objects.filter(
        bank_account=bank_account,
        format=st.format,
        statement_id=st.statement_id[:140],
        period_end=st.period_end,
        closing_cents=st.closing_cents,
        entries=len(st.lines),
    ).exists()


def statement_import(
    *,
    bank_account: BankAccount,
    file_name: str,
    content: bytes,
    actor: Any,
    now: datetime,
    csv_mapping: CsvMapping | None = None,
) -> ImportResult:
    """Import a file at once (shell command, API): check everything, then store it in one
    transaction. Returns the import row and the statements as checked. Raises
    StatementRefused (nothing stored) or BankingError."""
    if not bank_account.is_active:
        raise BankingError(ACCOUNT_INACTIVE.format(name=bank_account.name), "account")
    checked = statement_file_check(
        content=content,
        today=clock.firm_date(now),
        bank_account=bank_account,
        csv_mapping=csv_mapping,
    )
    with transaction.atomic():
        account = locks.bank_account_lock(bank_account.pk)
        imp = StatementImport.objects.create(
            bank_account=account,
            file_name=file_name[:255],
            file_sha256=_sha256(content),
            content=content,
            format=checked.format,
            status=ImportStatus.RUNNING,
            uploaded_by=actor,
            created_at=now,
        )
        imp = _store(bank_account=account, imp=imp, checked=checked, actor=actor, now=now)
    return ImportResult(statement_import=imp, checked=checked)


# -- the opening (cutover) ----------------------------------------------------------------

BOOKS_ALREADY_OPEN = "as_of: the books of {name} already start on {day}"
BOOKS_CLOSED = (
    "as_of: {name} is reconciled and closed through {through}; its books cannot start on "
    "{day}, which is not after it"
)
OPENING_NEGATIVE = "balance_cents: the opening balance cannot be negative (got {amount})"
OPENING_DIFFERS = (
    "balance_cents: the statement of {name} imported for {day} closes at {closing}, not at "
    "the opening balance {amount}"
)


def bank_account_books_open(
    *, bank_account: BankAccount, as_of: date, balance_cents: int, actor: Any, now: datetime
) -> BankStatement:
    """Start the account's books in CaseLedger on ``as_of`` at ``balance_cents`` (the cutover):
    sets ``books_start`` and returns the statement that is the bank side that day. A statement
    imported for that day is used as it is (its closing must be the balance); otherwise the
    balance is recorded as an OPENING statement (no file, no lines: opening = closing). From
    then on the reconciliation lists nothing dated on or before ``as_of`` (see ``compute``).
    Once per account; refused (BankingError naming the field) when the account is closed on or
    after ``as_of``. One audit event, ``banking.books_opened``. Runs in the caller's
    transaction when there is one."""
    from caseledger.banking.selectors import statement_on
    from caseledger.core.money import format_money
    from caseledger.ledger.services import period_closed_through

    clock.date_check(as_of, field="as_of")
    if balance_cents < 0:
        raise BankingError(
            OPENING_NEGATIVE.format(amount=format_money(balance_cents, bank_account.currency)),
            "balance_cents",
        )
    with transaction.atomic():
        account = locks.bank_account_lock(bank_account.pk)
        if account.books_start is not None:
            raise BankingError(
                BOOKS_ALREADY_OPEN.format(name=account.name, day=account.books_start), "as_of"
            )
        through = period_closed_through(account=account.ledger_account_id)
        if through is not None and through >= as_of:
            raise BankingError(
                BOOKS_CLOSED.format(name=account.name, through=through, day=as_of), "as_of"
            )
        statement = statement_on(bank_account=account, day=as_of)
        if statement is not None and statement.closing_cents != balance_cents:
            raise BankingError(
                OPENING_DIFFERS.format(
                    name=account.name,
                    day=as_of,
                    closing=format_money(int(statement.closing_cents or 0), account.currency),
                    amount=format_money(balance_cents, account.currency),
                ),
                "balance_cents",
            )
        imported = statement is not None
        if statement is None:
            statement = _opening_statement(account, as_of, balance_cents, actor, now)
        account.books_start = as_of
        account.updated_at = now
        account.save(update_fields=["books_start", "updated_at"])
        audit.record(
            actor=actor,
            action="banking.books_opened",
            at=now,
            obj=account,
            before={"books_start": None},
            after={
                "books_start": as_of,
                "balance_cents": balance_cents,
                "statement": statement.pk,
                "statement_imported": imported,
            },
        )
    return statement


def _opening_statement(
    account: BankAccount, as_of: date, balance_cents: int, actor: Any, now: datetime
) -> BankStatement:
    """The entered opening balance as a statement of one day, with its import row (no file)."""
    name = f"Opening balance {as_of.isoformat()}"
    imp = StatementImport.objects.create(
        bank_account=account,
        file_name=name,
        # Not a file's hash: what was entered, so the row says what it holds.
        file_sha256=_sha256(f"opening:{account.pk}:{as_of.isoformat()}:{balance_cents}".encode()),
        format=StatementFormat.OPENING,
        status=ImportStatus.DONE,
        phase=ImportPhase.FINISHED,
        progress_done=1,
        progress_total=1,
        statements_count=1,
        uploaded_by=actor,
        created_at=now,
        finished_at=now,
    )
    return BankStatement.objects.create(
        statement_import=imp,
        bank_account=account,
        format=StatementFormat.OPENING,
        statement_id=name,
        currency=account.currency,
        period_start=as_of,
        period_end=as_of,
        opening_cents=balance_cents,
        closing_cents=balance_cents,
        opening_stated=True,
        credits_cents=0,
        debits_cents=0,
        entries=0,
        created_at=now,
    )


# -- the import job -----------------------------------------------------------------------


def _enqueue(pk: int) -> None:
    from caseledger.banking.tasks import statement_import_job

    statement_import_job(pk)


def statement_import_queue(
    *, bank_account: BankAccount, file_name: str, content: bytes, actor: Any, now: datetime
) -> StatementImport:
    """Record an upload and start its import job after commit. The format is recognised at
    once (an unknown format, an intraday report or an investment statement is refused here,
    nothing stored), and so is a file already imported. A CSV file whose layout has no saved
    mapping waits for one (NEEDS_MAPPING)."""
    if not bank_account.is_active:
        raise BankingError(ACCOUNT_INACTIVE.format(name=bank_account.name), "account")
    if not content:
        raise StatementRefused("file: the file is empty")
    if len(content) > MAX_FILE_BYTES:
        raise StatementRefused(FILE_TOO_LARGE.format(size=len(content), limit=MAX_FILE_BYTES))
    fmt = detect(content)
    status = ImportStatus.QUEUED
    if fmt == StatementFormat.CSV:
        mapping = _mapping_of(bank_account)
        if mapping is None or not mapping.fits(read_table(content).header):
            status = ImportStatus.NEEDS_MAPPING
    sha = _sha256(content)
    with transaction.atomic():
        duplicate = StatementImport.objects.filter(
            bank_account=bank_account, file_sha256=sha, status=ImportStatus.DONE
        ).first()
        if duplicate is not None:
            raise StatementRefused(
                FILE_ALREADY_IMPORTED.format(
                    name=bank_account.name,
                    day=clock.firm_date(duplicate.created_at).isoformat(),
                    pk=duplicate.pk,
                )
            )
        imp = StatementImport.objects.create(
            bank_account=bank_account,
            file_name=file_name[:255],
            file_sha256=sha,
            content=content,
            format=fmt,
            status=status,
            uploaded_by=actor,
            created_at=now,
        )
        audit.record(
            actor=actor,
            action="banking.import_uploaded",
            at=now,
            obj=imp,
            after={"file_name": imp.file_name, "format": fmt, "status": status},
        )
        if status == ImportStatus.QUEUED:
            transaction.on_commit(lambda: _enqueue(imp.pk))
    return imp


def csv_preview(*, statement_import: StatementImport, mapping: CsvMapping) -> ParsedStatement:
    """The file's CSV read through ``mapping`` (for the mapping page's preview); raises
    StatementRefused naming the first row that does not read."""
    table = read_table(bytes(statement_import.content))
    return parse_table(table, mapping, statement_import.bank_account.currency)


def _mapping_save(
    account_id: int, mapping: CsvMapping, *, actor: Any, now: datetime, import_id: int | None
) -> BankAccount:
    locked = locks.bank_account_lock(account_id)
    before = {"csv_mapping": locked.csv_mapping}
    locked.csv_mapping = mapping.to_json()
    locked.updated_at = now
    locked.save(update_fields=["csv_mapping", "updated_at"])
    audit.record(
        actor=actor,
        action="banking.csv_mapping_saved",
        at=now,
        obj=locked,
        before=before,
        after={"csv_mapping": locked.csv_mapping, "import": import_id},
    )
    return locked


def bank_account_csv_mapping_save(
    *, bank_account: BankAccount, mapping: CsvMapping, actor: Any, now: datetime
) -> BankAccount:
    """Save a CSV column mapping for the bank account's files of that layout (its header)."""
    if not mapping.header:
        raise BankingError(MAPPING_NO_HEADER, "mapping")
    with transaction.atomic():
        return _mapping_save(bank_account.pk, mapping, actor=actor, now=now, import_id=None)


def statement_import_mapping_confirm(
    *, statement_import: StatementImport, mapping: CsvMapping, actor: Any, now: datetime
) -> StatementImport:
    """Save the confirmed CSV mapping on the bank account and start the import job. The
    whole file must read and check through the mapping first (raises StatementRefused)."""
    table = read_table(bytes(statement_import.content))
    mapping.header = list(table.header)
    account = statement_import.bank_account
    st = parse_table(table, mapping, account.currency)
    checks.check_statement(st, today=clock.firm_date(now))
    with transaction.atomic():
        imp = locks.statement_import_lock(statement_import.pk)
        if imp.status != ImportStatus.NEEDS_MAPPING:
            raise BankingError(
                IMPORT_NOT_WAITING.format(pk=imp.pk, status=imp.get_status_display()), "import"
            )
        _mapping_save(account.pk, mapping, actor=actor, now=now, import_id=imp.pk)
        imp.status = ImportStatus.QUEUED
        imp.save(update_fields=["status"])
        transaction.on_commit(lambda: _enqueue(imp.pk))
    return imp


def _progress(pk: int, **fields: Any) -> None:
    """Progress is written in its own short transaction so the page sees it while the job
    works; it touches only the import row's progress columns."""
    with transaction.atomic():
        StatementImport.objects.filter(pk=pk).update(**fields)


def statement_import_run(*, import_id: int, now: datetime) -> StatementImport | None:
    """The job: claim a QUEUED import (once: a retried or duplicate job finds it taken), parse
    and check the file with progress, then store everything in one transaction. A refusal
    marks the import REFUSED with the message and drops the file; nothing else is stored."""
    claimed = StatementImport.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, phase=ImportPhase.PARSING
    )
    if not claimed:
        return None
    imp = StatementImport.objects.select_related("bank_account").get(pk=import_id)
    account = imp.bank_account

    def progress(done: int, total: int) -> None:
        _progress(import_id, phase=ImportPhase.CHECKING, progress_done=done, progress_total=total)

    try:
        checked = statement_file_check(
            content=bytes(imp.content),
            today=clock.firm_date(now),
            bank_account=account,
            progress=progress,
        )
        _progress(import_id, phase=ImportPhase.STORING)
        with transaction.atomic():
            locked_account = locks.bank_account_lock(account.pk)
            imp = locks.statement_import_lock(import_id)
            return _store(
                bank_account=locked_account,
                imp=imp,
                checked=checked,
                actor=imp.uploaded_by,
                now=now,
            )
    except StatementRefused as exc:
        with transaction.atomic():
            imp = locks.statement_import_lock(import_id)
            imp.status = ImportStatus.REFUSED
            imp.phase = ImportPhase.FINISHED
            imp.error = exc.message
            imp.content = b""
            imp.finished_at = now
            imp.save()
            audit.record(
                actor=imp.uploaded_by,
                action="banking.import_refused",
                at=now,
                obj=imp,
                after={"error": exc.message},
            )
        return imp
