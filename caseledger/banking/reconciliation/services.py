"""Reconciliation writes: prepare a month, sign it (a different lawyer), reopen it (a partner,
with a reason), verify the signed chain, and the daily checks that open tasks.

Signing locks the bank account row, then the ledger balance rows of the accounts it closes
(the order entry_post takes them in), recomputes the report under those locks, and closes
the ledger account through the month's end in the same transaction: an entry dated in the
month either committed before (then the figures differ from the prepared ones and signing is
refused) or is refused by the database after (ledger.ClosedPeriod trigger). Never both.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from caseledger.banking import locks
from caseledger.banking.choices import ReconciliationStatus as Status
from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import (
    BankAccount,
    BankStatement,
    Reconciliation,
    ReconciliationSettings,
)
from caseledger.banking.reconciliation.compute import (
    reconciliation_compute,
    report_hash,
)
from caseledger.core import audit, clock
from caseledger.core.choices import LAWYER_ROLES, Role
from caseledger.ledger import accounts as codes
from caseledger.ledger import locks as ledger_locks
from caseledger.ledger import services as ledger_services
from caseledger.ledger.choices import AccountType
from caseledger.ledger.models import Account, ClosedPeriod

# -- refusal messages (tests assert these exact texts) ---------------------------------------
PERIOD_IN_FUTURE = "period_end: {day} has not ended yet (today is {today})"
NO_STATEMENT = "period_end: no statement of this account ends on or before {day}; import it first"
BEFORE_BOOKS = (
    "period_end: the books of {name} start on {start} (its opening balance); there is nothing "
    "to reconcile before it"
)
ALREADY_SIGNED = "period_end: {month} is already signed ({when} by {who})"
LATER_SIGNED = "period_end: {month} is already signed; a month before it cannot be signed now"
NOT_PREPARED = "reconciliation: it is {status}, not waiting for a signature"
SIGNER_IS_PREPARER = "signed_by: the reviewer must be a different person from the preparer ({who})"
SIGNER_NOT_LAWYER = "signed_by: only a partner or attorney signs a reconciliation (you are {role})"
FIGURES_CHANGED = (
    "reconciliation: the figures changed since it was prepared ({before} -> {after}); "
    "prepare it again"
)
UNEXPLAINED = (
    "reconciliation: {amount} of the difference is not explained by any item; find it before "
    "signing"
)
REOPEN_NOT_PARTNER = "reopened_by: only a partner reopens a signed month (you are {role})"
REOPEN_NOT_SIGNED = "reconciliation: it is {status}; only a signed month is reopened"
REOPEN_NOT_LATEST = "reconciliation: {month} is signed after it; reopen the latest month first"
REOPEN_REASON = "reason: say why the signed month is reopened"
SETTINGS_DAYS = "signoff_due_days: must be between 0 and 365 (got {value})"

VARIANCE_TASK_KEY = "banking.recon_variance:{account}:{day}"
UNSIGNED_TASK_KEY = "banking.recon_unsigned:{account}:{month}"


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def first_period_end(bank_account: BankAccount) -> date | None:
    """The first day the account is reconciled as of: its books start (the cutover), else its
    first statement's end; None before it has a statement. Months end from this one's on."""
    if bank_account.books_start is not None:
        return bank_account.books_start
    return (
        BankStatement.objects.filter(bank_account=bank_account)
        .exclude(period_end__isnull=True)
        .order_by("period_end", "id")
        .values_list("period_end", flat=True)
        .first()
    )


def _money(cents: int, currency: str) -> str:
    from caseledger.core.money import Money

    return Money(cents, currency).format()


def _closes(bank_account: BankAccount) -> list[Account]:
    """The ledger accounts a signature closes: the bank's, and for the firm's only trust bank
    the client trust liability too (its client ledgers are then the report's listing)."""
    accounts = [bank_account.ledger_account]
    if bank_account.ledger_account.is_trust:
        trust_banks = Account.objects.filter(is_trust=True, account_type=AccountType.ASSET)
        if trust_banks.count() == 1:
            accounts.append(Account.objects.get(code=codes.CLIENT_TRUST_LIABILITY))
    return accounts


def _reference(rec: Reconciliation) -> str:
    return f"banking.reconciliation:{rec.pk}"


def reconciliation_prepare(
    *, bank_account: BankAccount, period_end: date, actor: Any, now: datetime
) -> Reconciliation:
    """Compute the month ending ``period_end`` (any statement date; a month's last day for the
    monthly sign-off) and keep it as PREPARED by ``actor``. A month prepared again replaces
    the earlier preparation (kept, DISCARDED). Refused for a date not yet over, a month
    already signed, or an account with no statement by then."""
    clock.date_check(period_end, field="period_end")
    today = clock.firm_date(now)
    if period_end >= today:
        raise BankingError(
            PERIOD_IN_FUTURE.format(day=period_end.isoformat(), today=today.isoformat()),
            "period_end",
        )
    with transaction.atomic():
        account = locks.bank_account_lock(bank_account.pk)
        if account.books_start is not None and period_end < account.books_start:
            raise BankingError(
                BEFORE_BOOKS.format(name=account.name, start=account.books_start.isoformat()),
                "period_end",
            )
        _refuse_signed(account, period_end)
        if not BankStatement.objects.filter(
            bank_account=account, period_end__lte=period_end
        ).exists():
            raise BankingError(NO_STATEMENT.format(day=period_end.isoformat()), "period_end")
        report = reconciliation_compute(bank_account=account, as_of=period_end)
        Reconciliation.objects.filter(
            bank_account=account, period_end=period_end, status=Status.PREPARED
        ).update(status=Status.DISCARDED)
        rec = Reconciliation.objects.create(
            bank_account=account,
            period_start=min(month_bounds(period_end)[0], period_end),
            period_end=period_end,
            status=Status.PREPARED,
            report=report.canonical,
            report_sha256=report.sha256,
            statement_balance_cents=report.bank_balance_cents,
            adjusted_bank_cents=report.adjusted_bank_cents,
            journal_cents=report.journal_cents,
            client_total_cents=report.canonical.get("client_total_cents"),
            is_balanced=report.balanced,
            prepared_by=actor,
            prepared_at=now,
        )
        audit.record(
            actor=actor,
            action="banking.reconciliation_prepared",
            at=now,
            obj=rec,
            after={
                "bank_account": account.pk,
                "period_end": period_end.isoformat(),
                "report_sha256": rec.report_sha256,
                "balanced": report.balanced,
            },
        )
    return rec


def _refuse_signed(account: BankAccount, period_end: date) -> None:
    signed = (
        Reconciliation.objects.filter(bank_account=account, status=Status.SIGNED)
        .filter(period_end__gte=period_end)
        .select_related("signed_by")
        .order_by("-period_end", "-id")
    )
    for rec in signed:
        if rec.period_end == period_end:
            raise BankingError(
                ALREADY_SIGNED.format(
                    month=period_end.isoformat(),
                    when=clock.firm_date(rec.signed_at).isoformat() if rec.signed_at else "",
                    who=rec.signed_by,
                ),
                "period_end",
            )
        raise BankingError(LATER_SIGNED.format(month=rec.period_end.isoformat()), "period_end")


def _chain_hash(prev_chain_hash: str, report_sha256: str) -> str:
    return hashlib.sha256(f"{prev_chain_hash}:{report_sha256}".encode()).hexdigest()


def reconciliation_sign(
    *, reconciliation: Reconciliation, actor: Any, now: datetime
) -> Reconciliation:
    """Sign a prepared month as its reviewer: a partner or attorney who did not prepare it.

    Under the locks (bank account row, then the ledger balance rows) the report is computed
    again and must equal the prepared one (same SHA-256) and have no unexplained difference.
    Then: chained to the account's previous signed record, the PDF archived, and the ledger
    account(s) closed through the month's end, all in one transaction."""
    role = getattr(actor, "role", "")
    if role not in LAWYER_ROLES:
        label = Role(role).label if role in Role.values else "not signed in"
        raise BankingError(SIGNER_NOT_LAWYER.format(role=label), "signed_by")
    with transaction.atomic():
        account = locks.bank_account_lock(reconciliation.bank_account_id)
        rec = locks.reconciliation_lock(reconciliation.pk)
        if rec.status != Status.PREPARED:
            raise BankingError(NOT_PREPARED.format(status=rec.get_status_display()), "status")
        if rec.prepared_by_id == getattr(actor, "pk", None):
            raise BankingError(SIGNER_IS_PREPARER.format(who=rec.prepared_by), "signed_by")
        _refuse_signed(account, rec.period_end)
        closes = _closes(account)
        # The order entry_post locks them in: every entry on these accounts waits for us.
        ledger_locks.account_balances_lock([a.pk for a in closes])
        report = reconciliation_compute(bank_account=account, as_of=rec.period_end)
        if report.sha256 != rec.report_sha256:
            raise BankingError(
                FIGURES_CHANGED.format(before=rec.report_sha256[:12], after=report.sha256[:12]),
                "reconciliation",
            )
        if report.unexplained_cents:
            raise BankingError(
                UNEXPLAINED.format(amount=_money(report.unexplained_cents, account.currency)),
                "reconciliation",
            )
        previous = (
            Reconciliation.objects.filter(bank_account=account)
            .exclude(chain_hash="")
            .order_by("-signed_at", "-id")
            .first()
        )
        rec.previous = previous
        rec.prev_chain_hash = previous.chain_hash if previous is not None else ""
        rec.chain_hash = _chain_hash(rec.prev_chain_hash, rec.report_sha256)
        rec.status = Status.SIGNED
        rec.signed_by = actor
        rec.signed_at = now
        from caseledger.banking.reconciliation.pdf import reconciliation_pdf

        rec.pdf = reconciliation_pdf(rec, report)
        rec.save(
            update_fields=[
                "previous",
                "prev_chain_hash",
                "chain_hash",
                "status",
                "signed_by",
                "signed_at",
                "pdf",
            ]
        )
        for ledger_account in closes:
            ledger_services.period_close(
                account=ledger_account,
                closed_through=rec.period_end,
                reference=_reference(rec),
                actor=actor,
                now=now,
            )
        audit.record(
            actor=actor,
            action="banking.reconciliation_signed",
            at=now,
            obj=rec,
            after={
                "bank_account": account.pk,
                "period_end": rec.period_end.isoformat(),
                "report_sha256": rec.report_sha256,
                "chain_hash": rec.chain_hash,
                "previous": previous.pk if previous is not None else None,
            },
        )
    return rec


def reconciliation_reopen(
    *, reconciliation: Reconciliation, actor: Any, reason: str, now: datetime
) -> Reconciliation:
    """Reopen the latest signed month of an account (a partner, with a reason): the record
    stays (REOPENED, kept in the chain), the ledger account(s) open again from that month, and
    the next signature of the month is a new record chained after this one."""
    role = getattr(actor, "role", "")
    if role != Role.PARTNER:
        label = Role(role).label if role in Role.values else "not signed in"
        raise BankingError(REOPEN_NOT_PARTNER.format(role=label), "reopened_by")
    reason = (reason or "").strip()
    if not reason:
        raise BankingError(REOPEN_REASON, "reason")
    with transaction.atomic():
        account = locks.bank_account_lock(reconciliation.bank_account_id)
        rec = locks.reconciliation_lock(reconciliation.pk)
        if rec.status != Status.SIGNED:
            raise BankingError(REOPEN_NOT_SIGNED.format(status=rec.get_status_display()), "status")
        later = (
            Reconciliation.objects.filter(
                bank_account=account, status=Status.SIGNED, period_end__gt=rec.period_end
            )
            .order_by("period_end", "id")
            .first()
        )
        if later is not None:
            raise BankingError(
                REOPEN_NOT_LATEST.format(month=later.period_end.isoformat()), "reconciliation"
            )
        for closed in ClosedPeriod.objects.filter(reference=_reference(rec), is_active=True):
            ledger_services.period_reopen(closed_period=closed, actor=actor, reason=reason, now=now)
        rec.status = Status.REOPENED
        rec.reopened_by = actor
        rec.reopened_at = now
        rec.reopen_reason = reason[:500]
        rec.save(update_fields=["status", "reopened_by", "reopened_at", "reopen_reason"])
        audit.record(
            actor=actor,
            action="banking.reconciliation_reopened",
            at=now,
            obj=rec,
            before={"status": Status.SIGNED},
            after={"status": Status.REOPENED, "reason": reason},
        )
    return rec


# -- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    reconciliation: int
    bank_account: int
    period_end: str
    status: str
    ok: bool
    problems: list[str]

    def as_json(self) -> str:
        return json.dumps(
            {
                "reconciliation": self.reconciliation,
                "bank_account": self.bank_account,
                "period_end": self.period_end,
                "status": self.status,
                "ok": self.ok,
                "problems": self.problems,
            },
            sort_keys=True,
        )


def reconciliations_verify() -> list[VerifyResult]:
    """Every signed record, account by account in signing order: its stored report still hashes
    to ``report_sha256``, its headline figures are the report's, its chain link is the
    previous record's chain hash, and a month still signed computes again to the same report
    (a reopened month's data may have been corrected since, so only its hash and link are
    checked)."""
    out: list[VerifyResult] = []
    records = (
        Reconciliation.objects.exclude(chain_hash="")
        .select_related("bank_account__ledger_account")
        .order_by("bank_account_id", "signed_at", "id")
    )
    last: dict[int, Reconciliation] = {}
    for rec in records:
        problems: list[str] = []
        report = rec.report or {}
        if report_hash(report) != rec.report_sha256:
            problems.append("report: the stored report does not hash to report_sha256")
        figures = {
            "statement_balance_cents": report.get("bank_balance_cents"),
            "adjusted_bank_cents": report.get("adjusted_bank_cents"),
            "journal_cents": report.get("journal_cents"),
            "client_total_cents": report.get("client_total_cents"),
        }
        for name, value in figures.items():
            if getattr(rec, name) != value:
                problems.append(f"{name}: {getattr(rec, name)} but the report says {value}")
        previous = last.get(rec.bank_account_id)
        expected_prev = previous.chain_hash if previous is not None else ""
        if rec.prev_chain_hash != expected_prev or rec.previous_id != (
            previous.pk if previous is not None else None
        ):
            problems.append("chain: prev_chain_hash does not link to the previous signed record")
        if rec.chain_hash != _chain_hash(rec.prev_chain_hash, rec.report_sha256):
            problems.append("chain: chain_hash is not sha256(prev_chain_hash:report_sha256)")
        if rec.status == Status.SIGNED:
            again = reconciliation_compute(
                bank_account=rec.bank_account, as_of=rec.period_end, use_checkpoint=False
            )
            if again.sha256 != rec.report_sha256:
                problems.append(
                    f"figures: the month computes to {again.sha256[:12]} now, signed as "
                    f"{rec.report_sha256[:12]}"
                )
        last[rec.bank_account_id] = rec
        out.append(
            VerifyResult(
                reconciliation=rec.pk,
                bank_account=rec.bank_account_id,
                period_end=rec.period_end.isoformat(),
                status=rec.status,
                ok=not problems,
                problems=problems,
            )
        )
    return out


# -- settings and the daily job --------------------------------------------------------------


def reconciliation_settings_get() -> ReconciliationSettings:
    """The reconciliation settings; their defaults, unsaved, until someone saves them (a read
    never writes: ``reconciliation_settings_update`` creates the row under its lock)."""
    return ReconciliationSettings.objects.filter(id=1).first() or ReconciliationSettings(id=1)


def reconciliation_settings_update(
    *, signoff_due_days: int, actor: Any, now: datetime
) -> ReconciliationSettings:
    if not 0 <= int(signoff_due_days) <= 365:
        raise BankingError(SETTINGS_DAYS.format(value=signoff_due_days), "signoff_due_days")
    with transaction.atomic():
        row = locks.reconciliation_settings_lock()
        before = row.signoff_due_days
        row.signoff_due_days = int(signoff_due_days)
        row.updated_at = now
        row.save(update_fields=["signoff_due_days", "updated_at"])
        audit.record(
            actor=actor,
            action="banking.reconciliation_settings_updated",
            at=now,
            obj=row,
            before={"signoff_due_days": before},
            after={"signoff_due_days": row.signoff_due_days},
        )
    return row


@dataclass(frozen=True)
class DailyResult:
    bank_account: int
    as_of: str | None
    variance_cents: int
    variance_task: int | None
    unsigned_months: list[str]
    unsigned_tasks: list[int]

    def as_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def _task_once(**kwargs: Any) -> int:
    """One task per key, ever: a key that already had a task (open or done) opens none."""
    from caseledger.matters.models import Task
    from caseledger.matters.services import task_open_for_system

    existing = Task.objects.filter(system_key=kwargs["key"]).order_by("id").first()
    if existing is not None:
        return existing.pk
    return task_open_for_system(**kwargs).pk


def reconciliation_daily(*, now: datetime) -> list[DailyResult]:
    """For every active bank account: (1) the latest imported statement against the journal
    (the two-way reconciliation at its date); a difference opens one task for billing; (2)
    every month of the last twelve that ended more than ``signoff_due_days`` ago, has a
    statement and is not signed opens one task for the partners. Idempotent: one task per
    account and date / month, whatever the reruns."""
    today = clock.firm_date(now)
    due_days = reconciliation_settings_get().signoff_due_days
    results: list[DailyResult] = []
    for account in BankAccount.objects.filter(is_active=True).select_related("ledger_account"):
        statement = (
            BankStatement.objects.filter(bank_account=account, closing_cents__isnull=False)
            .exclude(period_end__isnull=True)
            .order_by("-period_end", "-id")
            .first()
        )
        variance = 0
        variance_task = None
        as_of = None
        if statement is not None and statement.period_end is not None:
            as_of = statement.period_end
            report = reconciliation_compute(bank_account=account, as_of=as_of)
            variance = report.adjusted_bank_cents - report.journal_cents
            if variance:
                with transaction.atomic():
                    variance_task = _task_once(
                        key=VARIANCE_TASK_KEY.format(account=account.pk, day=as_of.isoformat()),
                        matter=None,
                        title=(
                            f"Bank variance on {account.name} at {as_of.isoformat()}: "
                            f"{_money(variance, account.currency)}"
                        ),
                        due_date=today + timedelta(days=3),
                        now=now,
                        assignee_role=Role.BILLING,
                        description=(
                            "The bank statement, adjusted for items in transit, differs from "
                            "the journal. Record the unrecorded bank items (fees, interest, "
                            "returns) or match the lines, then prepare the reconciliation."
                        ),
                    )
        months: list[str] = []
        tasks: list[int] = []
        first = first_period_end(account)
        if first is not None:
            signed = set(
                Reconciliation.objects.filter(
                    bank_account=account, status=Status.SIGNED
                ).values_list("period_end", flat=True)
            )
            _start, end = month_bounds(first)
            horizon = month_bounds(today.replace(day=1) - timedelta(days=365))[0]
            while end + timedelta(days=due_days) < today:
                if end >= horizon and end not in signed:
                    months.append(end.strftime("%Y-%m"))
                    with transaction.atomic():
                        tasks.append(
                            _task_once(
                                key=UNSIGNED_TASK_KEY.format(
                                    account=account.pk, month=end.strftime("%Y-%m")
                                ),
                                matter=None,
                                title=(f"Sign the {end:%B %Y} reconciliation of {account.name}"),
                                due_date=today + timedelta(days=3),
                                now=now,
                                assignee_role=Role.PARTNER,
                                description=(
                                    f"{end:%B %Y} ended {(today - end).days} days ago and its "
                                    "reconciliation is not signed. Prepare it (billing) and "
                                    "sign it (a partner or attorney other than the preparer)."
                                ),
                            )
                        )
                end = month_bounds(end + timedelta(days=1))[1]
        results.append(
            DailyResult(
                bank_account=account.pk,
                as_of=as_of.isoformat() if as_of else None,
                variance_cents=variance,
                variance_task=variance_task,
                unsigned_months=months,
                unsigned_tasks=tasks,
            )
        )
    return results


def match_closed(*, line: Any, posting: Any) -> bool:
    """True when a match of ``line`` and ``posting`` would change a signed month: both are
    dated in its closed period. Such a match may be neither made nor undone (the database
    refuses it too; on SQLite only the making, see banking migration 0003)."""
    account = BankAccount.objects.only("ledger_account_id").get(pk=line.bank_account_id)
    through = ledger_services.period_closed_through(account=account.ledger_account_id)
    return through is not None and line.booking_date <= through and posting.entry_date <= through


UNMATCH_CLOSED = (
    "line: {line} is part of a signed reconciliation (closed through {through}); a partner "
    "reopens the month before its matches change"
)


def match_guard(*, lines: Any, action: str) -> None:
    """Registered with ``banking.hooks``: no unmatch changes a signed month (PostgreSQL's
    trigger refuses it too; SQLite's cannot, see ``match_closed``). Making a match of a line and
    a posting both in a closed month is refused by the database on both engines."""
    if action != "unmatch":
        return
    for line in lines:
        for match in line.matches.select_related("posting"):
            if match_closed(line=line, posting=match.posting):
                account = BankAccount.objects.only("ledger_account_id").get(pk=line.bank_account_id)
                through = ledger_services.period_closed_through(account=account.ledger_account_id)
                raise BankingError(
                    UNMATCH_CLOSED.format(line=line.pk, through=through), field="line"
                )
