"""Banking reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from caseledger.banking import matching
from caseledger.banking.models import (
    BankAccount,
    BankStatement,
    LineMatch,
    StatementImport,
    StatementLine,
)
from caseledger.ledger.choices import AccountType
from caseledger.ledger.models import Account, Posting


def bank_account_list() -> QuerySet[BankAccount]:
    """Every bank account with its ledger account, line count and latest statement date."""
    return (
        BankAccount.objects.select_related("ledger_account")
        .annotate(
            line_count=Count("lines", distinct=True), last_period_end=Max("statements__period_end")
        )
        .order_by("-is_active", "name", "id")
    )


def ledger_bank_accounts_unmapped() -> QuerySet[Account]:
    """Ledger bank accounts (operating and trust banks) not yet mapped to a bank account."""
    from caseledger.ledger import accounts as codes

    return (
        Account.objects.filter(is_active=True, account_type=AccountType.ASSET)
        .filter(Q(code=codes.OPERATING_BANK) | Q(is_trust=True))
        .filter(bank_account__isnull=True)
        .order_by("code", "id")
    )


def bank_account_statements(bank_account: BankAccount) -> QuerySet[BankStatement]:
    return BankStatement.objects.filter(bank_account=bank_account).order_by("-period_end", "-id")


def bank_account_imports(bank_account: BankAccount) -> QuerySet[StatementImport]:
    return (
        StatementImport.objects.filter(bank_account=bank_account)
        .select_related("uploaded_by")
        .defer("content")
        .order_by("-created_at", "-id")
    )


def statement_on(*, bank_account: BankAccount, day: date) -> BankStatement | None:
    """The statement ending on ``day`` with a closing balance (the latest imported, as the
    reconciliation picks it), or None."""
    return (
        BankStatement.objects.filter(
            bank_account=bank_account, period_end=day, closing_cents__isnull=False
        )
        .order_by("-id")
        .first()
    )


def bank_account_of_ledger(*, code: str) -> BankAccount | None:
    """The bank account mapped to the ledger account ``code`` (e.g. the trust bank 1010), or
    None."""
    return (
        BankAccount.objects.select_related("ledger_account")
        .filter(ledger_account__code=code)
        .first()
    )


def statement_lines(statement: BankStatement) -> QuerySet[StatementLine]:
    return StatementLine.objects.filter(statement=statement).order_by("booking_date", "id")


def bank_account_latest_lines(bank_account: BankAccount, limit: int = 50) -> list[StatementLine]:
    return list(
        StatementLine.objects.filter(bank_account=bank_account).order_by("-booking_date", "-id")[
            :limit
        ]
    )


# -- matching -----------------------------------------------------------------------------


def _line_in(row: dict[str, Any]) -> matching.LineIn:
    details = tuple(
        matching.DetailIn(
            int(d.get("amount_cents") or 0),
            matching.reference_tokens(
                d.get("bank_reference", ""),
                d.get("customer_reference", ""),
                d.get("description", ""),
            ),
        )
        for d in (row["details"] or [])
        if isinstance(d, dict)
    )
    return matching.LineIn(
        id=row["id"],
        booking_date=row["booking_date"],
        amount_cents=row["amount_cents"] - row["matched"],
        tokens=matching.reference_tokens(
            row["bank_reference"], row["customer_reference"], row["description"]
        ),
        details=details if row["matched"] == 0 else (),
        untouched=row["matched"] == 0,
    )


def _after_books_start(bank_account: BankAccount, field: str) -> Q:
    """Rows dated after the account's books start (every row when they start with its first
    statement): what came before is the old system's history, never matched."""
    if bank_account.books_start is None:
        return Q()
    return Q(**{f"{field}__gt": bank_account.books_start})


def lines_open(bank_account: BankAccount) -> QuerySet[StatementLine]:
    """Lines not fully matched, with ``matched`` (the sum of their matches), oldest first;
    none booked on or before the account's books start."""
    return (
        StatementLine.objects.filter(bank_account=bank_account)
        .filter(_after_books_start(bank_account, "booking_date"))
        .annotate(matched=Coalesce(Sum("matches__amount_cents"), Value(0)))
        .exclude(matched=F("amount_cents"))
        .order_by("booking_date", "id")
    )


def postings_open(bank_account: BankAccount) -> QuerySet[Posting]:
    """Postings on the bank account's ledger account with no statement line yet, dated after
    the account's books start (the opening entry is the books' balance, not a movement)."""
    return (
        Posting.objects.filter(account_id=bank_account.ledger_account_id, bank_matches__isnull=True)
        .filter(_after_books_start(bank_account, "entry_date"))
        .select_related("entry")
        .order_by("entry_date", "id")
    )


def match_suggestions(
    bank_account: BankAccount, *, line_ids: Iterable[int] | None = None
) -> list[matching.Suggestion]:
    """Suggestions for the account's open lines (or only ``line_ids``) against its open
    postings; see ``banking.matching``. Two queries whatever the number of rows."""
    lines_qs = lines_open(bank_account)
    if line_ids is not None:
        lines_qs = lines_qs.filter(pk__in=list(line_ids))
    lines = [
        _line_in(row)
        for row in lines_qs.values(  # type: ignore[misc]
            "id",
            "booking_date",
            "amount_cents",
            "matched",
            "bank_reference",
            "customer_reference",
            "description",
            "details",
        ).iterator(chunk_size=5000)
    ]
    if not lines:
        return []
    postings = (
        matching.PostingIn(pid, day, amount, matching.reference_tokens(memo))
        for pid, day, amount, memo in Posting.objects.filter(
            account_id=bank_account.ledger_account_id, bank_matches__isnull=True
        )
        .filter(_after_books_start(bank_account, "entry_date"))
        .values_list("id", "entry_date", "amount_cents", "entry__memo")
        .iterator(chunk_size=5000)
    )
    return matching.suggest(lines, postings, window_days=bank_account.match_window_days)


def postings_stale(bank_account: BankAccount, *, today: date) -> QuerySet[Posting]:
    """Checks and disbursements (money out) on the account's ledger account still without a
    statement line ``bank_account.stale_days`` days after their date, oldest first."""
    cutoff = today - timedelta(days=bank_account.stale_days)
    return postings_open(bank_account).filter(amount_cents__lt=0, entry_date__lte=cutoff)


def line_matches(line: StatementLine) -> QuerySet[LineMatch]:
    return (
        LineMatch.objects.filter(line=line)
        .select_related("posting__entry", "matched_by")
        .order_by("id")
    )


def lines_matched_recent(bank_account: BankAccount, limit: int = 30) -> list[StatementLine]:
    """Lines with at least one match, latest first, with their matches prefetched."""
    return list(
        StatementLine.objects.filter(bank_account=bank_account, matches__isnull=False)
        .distinct()
        .prefetch_related(
            Prefetch(
                "matches",
                queryset=LineMatch.objects.select_related("posting__entry").order_by("id"),
            )
        )
        .order_by("-booking_date", "-id")[:limit]
    )


@dataclass
class MatchCounts:
    lines: int
    lines_open: int
    postings_open: int


def match_counts(bank_account: BankAccount) -> MatchCounts:
    return MatchCounts(
        lines=StatementLine.objects.filter(bank_account=bank_account).count(),
        lines_open=lines_open(bank_account).count(),
        postings_open=postings_open(bank_account).count(),
    )


MANUAL_CANDIDATE_DAYS = 31


def line_candidates(line: StatementLine, limit: int = 100) -> list[Posting]:
    """Open postings a person may match ``line`` to by hand: same direction, within a month."""
    qs = postings_open(line.bank_account).filter(
        entry_date__gte=line.booking_date - timedelta(days=MANUAL_CANDIDATE_DAYS),
        entry_date__lte=line.booking_date + timedelta(days=MANUAL_CANDIDATE_DAYS),
    )
    qs = qs.filter(amount_cents__gt=0) if line.amount_cents > 0 else qs.filter(amount_cents__lt=0)
    return list(qs[:limit])


def line_resolutions(line: StatementLine) -> list[tuple[str, str]]:
    """The resolutions that fit ``line`` (its account kind and direction; the ones of apps
    above banking only when registered)."""
    from caseledger.banking import hooks
    from caseledger.banking.choices import Resolution

    money_in = line.amount_cents > 0
    trust = line.bank_account.is_trust
    fits = {
        Resolution.INTEREST: trust and money_in,
        Resolution.BANK_FEE: trust and not money_in,
        Resolution.OPERATING_FEE: not trust and not money_in,
        Resolution.RETURNED_DEPOSIT: trust and not money_in,
        Resolution.CARD_PAYOUT: trust and money_in,
        Resolution.CARD_PAYOUT_NET: not trust and money_in,
        Resolution.INTEREST_REMITTANCE: trust and not money_in,
    }
    registered = set(hooks.line_resolver_kinds())
    own = {
        Resolution.INTEREST,
        Resolution.BANK_FEE,
        Resolution.OPERATING_FEE,
        Resolution.CARD_PAYOUT_NET,
        Resolution.INTEREST_REMITTANCE,
    }
    return [
        (kind.value, kind.label)
        for kind, ok in fits.items()
        if ok and (kind in own or kind in registered)
    ]


def card_payments_open(line: StatementLine, limit: int = 100) -> list[Posting]:
    """Open payments received into the line's (operating) account in the month before it: what
    a net card payout may pay out."""
    from caseledger.ledger.choices import EntryKind

    return list(
        postings_open(line.bank_account).filter(
            amount_cents__gt=0,
            entry__kind=EntryKind.PAYMENT_RECEIVED,
            entry_date__gte=line.booking_date - timedelta(days=MANUAL_CANDIDATE_DAYS),
            entry_date__lte=line.booking_date,
        )[:limit]
    )


def split_candidates(
    line: StatementLine, limit: int = 100
) -> tuple[list[Posting], list[StatementLine]]:
    """For a line that shows part of one posting (the bank split it): the open postings of its
    direction within a month that are larger than it, and the other unmatched lines of its
    direction within a month."""
    near = (
        line.booking_date - timedelta(days=MANUAL_CANDIDATE_DAYS),
        line.booking_date + timedelta(days=MANUAL_CANDIDATE_DAYS),
    )
    postings = postings_open(line.bank_account).filter(entry_date__range=near)
    others = (
        StatementLine.objects.filter(
            bank_account=line.bank_account, booking_date__range=near, matches__isnull=True
        )
        .filter(_after_books_start(line.bank_account, "booking_date"))
        .exclude(pk=line.pk)
        .order_by("booking_date", "id")
    )
    if line.amount_cents > 0:
        postings = postings.filter(amount_cents__gt=line.amount_cents)
        others = others.filter(amount_cents__gt=0)
    else:
        postings = postings.filter(amount_cents__lt=line.amount_cents)
        others = others.filter(amount_cents__lt=0)
    return list(postings[:limit]), list(others[:limit])
