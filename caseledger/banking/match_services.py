"""Matching writes: accept a suggestion, accept every confident suggestion shown, match by hand,
unmatch. Each runs in one transaction holding the statement lines' rows
(``locks.statement_lines_lock``) and writes its audit event there.

Invariants (database and code): a posting is claimed at most once (``LineMatch`` is unique on
(posting, part) and a whole match is part 0; a concurrent claim loses on that index and is
refused with a message); every
posting matched to a line moves the bank the same way as the line, and what a match adds is
exactly what the line had left, so a line's matched sum never passes its amount.

Many lines to one posting (``match_split`` by hand, ``suggestions_accept`` for a confident
suggestion of rule ``split``: a deposit the bank showed as several lines): every
line unmatched, all moving the bank the posting's way, their amounts summing to the posting
exactly; the rows are the posting's parts 0..k-1 (unique with the posting), made in one go and
unmatched together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum

from caseledger.banking import hooks, locks
from caseledger.banking.choices import MatchMethod
from caseledger.banking.exceptions import BankingError
from caseledger.banking.matching import Suggestion
from caseledger.banking.models import BankAccount, LineMatch, StatementLine
from caseledger.core import audit
from caseledger.core.money import format_money
from caseledger.ledger.models import Posting

POSTINGS_REQUIRED = "postings: choose at least one posting for the line"
POSTING_DUPLICATE = "postings: posting {id} is chosen twice"
POSTING_UNKNOWN = "postings: no posting {id} on ledger account {code}"
POSTING_TAKEN = "postings: posting {id} is already matched to a statement line"
POSTING_OTHER_SIGN = (
    "postings: posting {id} ({amount}) moves the bank the other way from the line ({line})"
)
SUM_MISMATCH = (
    "postings: the postings sum to {total}; the line has {left} left to match (of {amount})"
)
LINE_MATCHED = "line: line {id} is already fully matched"
LINE_OTHER_ACCOUNT = "line: line {id} is not on bank account {name}"
LINE_NOT_MATCHED = "line: line {id} has no match to remove"
SPLIT_LINES_REQUIRED = (
    "lines: choose at least two statement lines to match to one posting (one line: match it "
    "to the posting directly)"
)
SPLIT_LINE_DUPLICATE = "lines: line {id} is chosen twice"
SPLIT_LINE_HAS_MATCHES = (
    "lines: line {id} already has matches; a posting split over several lines takes whole "
    "unmatched lines"
)
SPLIT_LINE_OTHER_SIGN = (
    "lines: line {id} ({line}) moves the bank the other way from posting {posting} ({amount})"
)
SPLIT_SUM_MISMATCH = (
    "lines: the lines sum to {total}; posting {posting} is {amount} — lines matched to one "
    "posting must sum to it exactly"
)
REASON_MANUAL = "matched by hand"


@dataclass(frozen=True)
class Proposal:
    """One line and the postings to match it to (a suggestion, or a person's choice)."""

    line_id: int
    posting_ids: tuple[int, ...]
    reason: str = ""


@dataclass
class AcceptResult:
    accepted: int
    skipped: list[str]  # one message per proposal refused (already matched meanwhile, ...)
    matches: list[LineMatch]


def _matched_sums(line_ids: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    ids = list(line_ids)
    for i in range(0, len(ids), 5000):
        rows = (
            LineMatch.objects.filter(line_id__in=ids[i : i + 5000])
            .values("line_id")
            .annotate(total=Sum("amount_cents"))
            .values_list("line_id", "total")
        )
        for line_id, total in rows:
            out[line_id] = int(total or 0)
    return out


def _postings(bank_account: BankAccount, ids: Sequence[int]) -> dict[int, tuple[int, int, bool]]:
    """{posting id: (account id, amount, already matched)} for ``ids``."""
    out: dict[int, tuple[int, int, bool]] = {}
    ids = list(ids)
    for i in range(0, len(ids), 5000):
        chunk = ids[i : i + 5000]
        taken = set(
            LineMatch.objects.filter(posting_id__in=chunk).values_list("posting_id", flat=True)
        )
        for pid, account_id, amount in Posting.objects.filter(pk__in=chunk).values_list(
            "id", "account_id", "amount_cents"
        ):
            out[pid] = (account_id, amount, pid in taken)
    return out


def _check(
    *,
    bank_account: BankAccount,
    line: StatementLine | None,
    line_id: int,
    posting_ids: Sequence[int],
    postings: dict[int, tuple[int, int, bool]],
    matched: int,
    claimed: set[int],
) -> tuple[BankingError | None, list[tuple[int, int]]]:
    """The refusal for one proposal, or None and its (posting id, amount) pairs."""
    currency = bank_account.currency
    if line is None or line.bank_account_id != bank_account.pk:
        return BankingError(
            LINE_OTHER_ACCOUNT.format(id=line_id, name=bank_account.name), "line"
        ), []
    if not posting_ids:
        return BankingError(POSTINGS_REQUIRED, "postings"), []
    left = line.amount_cents - matched
    if left == 0:
        return BankingError(LINE_MATCHED.format(id=line.pk), "line"), []
    pairs: list[tuple[int, int]] = []
    seen: set[int] = set()
    for pid in posting_ids:
        if pid in seen:
            return BankingError(POSTING_DUPLICATE.format(id=pid), "postings"), []
        seen.add(pid)
        row = postings.get(pid)
        if row is None or row[0] != bank_account.ledger_account_id:
            code = bank_account.ledger_account.code
            return BankingError(POSTING_UNKNOWN.format(id=pid, code=code), "postings"), []
        if row[2] or pid in claimed:
            return BankingError(POSTING_TAKEN.format(id=pid), "postings"), []
        if (row[1] > 0) != (line.amount_cents > 0):
            return BankingError(
                POSTING_OTHER_SIGN.format(
                    id=pid,
                    amount=format_money(row[1], currency),
                    line=format_money(line.amount_cents, currency),
                ),
                "postings",
            ), []
        pairs.append((pid, row[1]))
    total = sum(amount for _, amount in pairs)
    if total != left:
        return BankingError(
            SUM_MISMATCH.format(
                total=format_money(total, currency),
                left=format_money(left, currency),
                amount=format_money(line.amount_cents, currency),
            ),
            "postings",
        ), []
    return None, pairs


def _write(rows: list[LineMatch]) -> list[LineMatch]:
    try:
        with transaction.atomic():
            return LineMatch.objects.bulk_create(rows, batch_size=2000)
    except IntegrityError:
        # Another transaction matched one of these postings after we looked (the unique index
        # on LineMatch.posting is the last word).
        taken = ", ".join(str(r.posting_id) for r in rows[:5])
        raise BankingError(POSTING_TAKEN.format(id=taken), "postings") from None


def matches_accept(
    *,
    bank_account: BankAccount,
    proposals: Sequence[Proposal],
    method: str,
    actor: Any,
    now: datetime,
    strict: bool = True,
) -> AcceptResult:
    """Match each proposal's line to its postings, in one transaction with the lines locked.

    With ``strict`` (one suggestion, or a manual match) the first refusal raises BankingError
    naming the field and nothing is written; without it ("accept all shown", auto-match) refused
    proposals are skipped and listed. Audit: ``banking.line_matched`` for one line,
    ``banking.lines_matched`` (with every pair) for several."""
    if method not in MatchMethod.values:
        raise BankingError(f"method: unknown match method {method!r}", "method")
    with transaction.atomic():
        lines = locks.statement_lines_lock(
            (p.line_id for p in proposals), only=("id", "bank_account_id", "amount_cents")
        )
        hooks.match_guards_run(lines=list(lines.values()), action="match")
        matched = _matched_sums(list(lines))
        postings = _postings(bank_account, [pid for p in proposals for pid in p.posting_ids])
        claimed: set[int] = set()
        rows: list[LineMatch] = []
        skipped: list[str] = []
        done: set[int] = set()
        for p in proposals:
            if p.line_id in done:
                error: BankingError | None = BankingError(LINE_MATCHED.format(id=p.line_id), "line")
                pairs: list[tuple[int, int]] = []
            else:
                error, pairs = _check(
                    bank_account=bank_account,
                    line=lines.get(p.line_id),
                    line_id=p.line_id,
                    posting_ids=p.posting_ids,
                    postings=postings,
                    matched=matched.get(p.line_id, 0),
                    claimed=claimed,
                )
            if error is not None:
                if strict:
                    raise error
                skipped.append(f"line {p.line_id}: {error.message}")
                continue
            done.add(p.line_id)
            reason = (p.reason or (REASON_MANUAL if method == MatchMethod.MANUAL else ""))[:200]
            for pid, amount in pairs:
                claimed.add(pid)
                rows.append(
                    LineMatch(
                        line_id=p.line_id,
                        posting_id=pid,
                        amount_cents=amount,
                        method=method,
                        reason=reason,
                        matched_by=actor if getattr(actor, "pk", None) else None,
                        matched_at=now,
                    )
                )
        created = _write(rows) if rows else []
        if created:
            by_line: dict[int, list[int]] = defaultdict(list)
            for r in created:
                by_line[r.line_id].append(r.posting_id)
            if len(by_line) == 1:
                ((line_id, pids),) = by_line.items()
                line = lines[line_id]
                audit.record(
                    actor=actor,
                    action="banking.line_matched",
                    at=now,
                    obj=line,
                    after={
                        "bank_account": bank_account.pk,
                        "line": line_id,
                        "amount_cents": line.amount_cents,
                        "postings": pids,
                        "method": method,
                        "reason": created[0].reason,
                    },
                )
            else:
                audit.record(
                    actor=actor,
                    action="banking.lines_matched",
                    at=now,
                    obj=bank_account,
                    after={
                        "method": method,
                        "lines": len(by_line),
                        "matches": [[lid, pids] for lid, pids in by_line.items()],
                    },
                )
    return AcceptResult(
        accepted=len({r.line_id for r in created}), skipped=skipped, matches=created
    )


def match_manual(
    *,
    bank_account: BankAccount,
    line: StatementLine,
    posting_ids: Sequence[int],
    actor: Any,
    now: datetime,
    note: str = "",
) -> list[LineMatch]:
    """A person's match of ``line`` to ``posting_ids``, which must sum to what the line has
    left. Raises BankingError naming the field; nothing is written then."""
    reason = f"{REASON_MANUAL}: {note.strip()}" if note.strip() else REASON_MANUAL
    return matches_accept(
        bank_account=bank_account,
        proposals=[Proposal(line.pk, tuple(posting_ids), reason)],
        method=MatchMethod.MANUAL,
        actor=actor,
        now=now,
    ).matches


def bank_account_auto_match(
    *, bank_account: BankAccount, actor: Any, now: datetime
) -> AcceptResult:
    """Accept every confident suggestion of the account, splits included (ambiguous ones stay
    for a person)."""
    from caseledger.banking.selectors import match_suggestions

    confident = [s for s in match_suggestions(bank_account) if s.confident]
    if not confident:
        return AcceptResult(accepted=0, skipped=[], matches=[])
    return suggestions_accept(
        bank_account=bank_account, suggestions=confident, actor=actor, now=now, strict=False
    )


def match_split(
    *,
    bank_account: BankAccount,
    line_ids: Sequence[int],
    posting_id: int,
    actor: Any,
    now: datetime,
    note: str = "",
) -> list[LineMatch]:
    """Match several statement lines to one posting (the bank split a deposit or a payment).
    Every line must be on ``bank_account``, have no match yet and move the bank the posting's
    way; the posting must be on the account's ledger account and unmatched; the lines' amounts
    must sum to the posting exactly. Raises BankingError naming the field and the rule; nothing
    is written then. Audit: ``banking.posting_split_matched``."""
    reason = f"{REASON_MANUAL}: split over {len(line_ids)} lines"
    if note.strip():
        reason += f": {note.strip()}"
    with transaction.atomic():
        return _split_write(
            bank_account=bank_account,
            line_ids=line_ids,
            posting_id=posting_id,
            method=MatchMethod.MANUAL,
            reason=reason,
            actor=actor,
            now=now,
        )


def _split_write(
    *,
    bank_account: BankAccount,
    line_ids: Sequence[int],
    posting_id: int,
    method: str,
    reason: str,
    actor: Any,
    now: datetime,
) -> list[LineMatch]:
    """``match_split``'s checks and rows, in the caller's transaction."""
    currency = bank_account.currency
    ids = list(line_ids)
    for i, lid in enumerate(ids):
        if lid in ids[:i]:
            raise BankingError(SPLIT_LINE_DUPLICATE.format(id=lid), "lines")
    if len(ids) < 2:
        raise BankingError(SPLIT_LINES_REQUIRED, "lines")
    lines = locks.statement_lines_lock(
        ids, only=("id", "bank_account_id", "amount_cents", "booking_date")
    )
    hooks.match_guards_run(lines=list(lines.values()), action="match")
    posting = _postings(bank_account, [posting_id]).get(posting_id)
    if posting is None or posting[0] != bank_account.ledger_account_id:
        code = bank_account.ledger_account.code
        raise BankingError(POSTING_UNKNOWN.format(id=posting_id, code=code), "postings")
    if posting[2]:
        raise BankingError(POSTING_TAKEN.format(id=posting_id), "postings")
    amount = posting[1]
    matched = _matched_sums(ids)
    for lid in ids:
        line = lines.get(lid)
        if line is None or line.bank_account_id != bank_account.pk:
            raise BankingError(LINE_OTHER_ACCOUNT.format(id=lid, name=bank_account.name), "lines")
        if matched.get(lid):
            raise BankingError(SPLIT_LINE_HAS_MATCHES.format(id=lid), "lines")
        if (line.amount_cents > 0) != (amount > 0):
            raise BankingError(
                SPLIT_LINE_OTHER_SIGN.format(
                    id=lid,
                    line=format_money(line.amount_cents, currency),
                    posting=posting_id,
                    amount=format_money(amount, currency),
                ),
                "lines",
            )
    total = sum(lines[lid].amount_cents for lid in ids)
    if total != amount:
        raise BankingError(
            SPLIT_SUM_MISMATCH.format(
                total=format_money(total, currency),
                posting=posting_id,
                amount=format_money(amount, currency),
            ),
            "lines",
        )
    ordered = sorted(ids, key=lambda lid: (lines[lid].booking_date, lid))
    created = _write(
        [
            LineMatch(
                line_id=lid,
                posting_id=posting_id,
                part=part,
                amount_cents=lines[lid].amount_cents,
                method=method,
                reason=reason[:200],
                matched_by=actor if getattr(actor, "pk", None) else None,
                matched_at=now,
            )
            for part, lid in enumerate(ordered)
        ]
    )
    audit.record(
        actor=actor,
        action="banking.posting_split_matched",
        at=now,
        obj=bank_account,
        after={
            "bank_account": bank_account.pk,
            "posting": posting_id,
            "amount_cents": amount,
            "lines": [[lid, lines[lid].amount_cents] for lid in ordered],
            "method": method,
            "reason": reason[:200],
        },
    )
    return created


def suggestions_accept(
    *,
    bank_account: BankAccount,
    suggestions: Sequence[Suggestion],
    actor: Any,
    now: datetime,
    strict: bool = False,
) -> AcceptResult:
    """Accept confident suggestions (ambiguous ones are ignored) in one transaction: line to
    posting(s) through ``matches_accept``, a posting split over several lines (rule ``split``)
    through the checks of ``match_split``, method ``auto``. Without ``strict`` a split refused
    (a line matched meanwhile) is skipped and listed; ``accepted`` counts lines."""
    whole = [
        Proposal(s.line_id, s.posting_ids, s.reason)
        for s in suggestions
        if s.confident and not s.line_ids
    ]
    splits = [s for s in suggestions if s.confident and s.line_ids]
    with transaction.atomic():
        if whole:
            result = matches_accept(
                bank_account=bank_account,
                proposals=whole,
                method=MatchMethod.AUTO,
                actor=actor,
                now=now,
                strict=strict,
            )
        else:
            result = AcceptResult(accepted=0, skipped=[], matches=[])
        for s in splits:
            try:
                with transaction.atomic():
                    rows = _split_write(
                        bank_account=bank_account,
                        line_ids=s.line_ids,
                        posting_id=s.posting_ids[0],
                        method=MatchMethod.AUTO,
                        reason=s.reason,
                        actor=actor,
                        now=now,
                    )
            except BankingError as error:
                if strict:
                    raise
                result.skipped.append(f"lines {', '.join(map(str, s.line_ids))}: {error.message}")
                continue
            result.accepted += len(rows)
            result.matches.extend(rows)
    return result


def _split_group(line_id: int) -> set[int]:
    """The lines that share a split posting with ``line_id`` (itself included): unmatching one
    line of a split unmatches all of them, so no posting is left partly matched."""
    split = LineMatch.objects.filter(
        posting_id__in=LineMatch.objects.filter(line_id=line_id).values("posting_id"),
        part__gt=0,
    ).values("posting_id")
    return {line_id} | set(
        LineMatch.objects.filter(posting_id__in=split).values_list("line_id", flat=True)
    )


def match_remove(*, line: StatementLine, actor: Any, now: datetime) -> int:
    """Remove every match of ``line`` (its postings become open again); returns how many. A
    posting split over several lines is unmatched from all of them. The audit event keeps who
    matched what, when, and why. Raises BankingError when there is none."""
    with transaction.atomic():
        group = _split_group(line.pk)
        locked_all = locks.statement_lines_lock(group)
        # Read again under the locks (a split made or undone meanwhile).
        group = _split_group(line.pk)
        if not group <= set(locked_all):
            locked_all.update(locks.statement_lines_lock(group - set(locked_all)))
        locked = locked_all[line.pk]
        hooks.match_guards_run(lines=[locked_all[i] for i in sorted(group)], action="unmatch")
        rows = list(LineMatch.objects.filter(line_id__in=group).order_by("id"))
        if not rows:
            raise BankingError(LINE_NOT_MATCHED.format(id=locked.pk), "line")
        LineMatch.objects.filter(pk__in=[r.pk for r in rows]).delete()
        audit.record(
            actor=actor,
            action="banking.line_unmatched",
            at=now,
            obj=locked,
            before={
                "matches": [
                    {
                        "line": r.line_id,
                        "posting": r.posting_id,
                        "part": r.part,
                        "amount_cents": r.amount_cents,
                        "method": r.method,
                        "reason": r.reason,
                        "matched_by": r.matched_by_id,
                        "matched_at": r.matched_at.isoformat(),
                    }
                    for r in rows
                ]
            },
            after={"line": locked.pk, "bank_account": locked.bank_account_id},
        )
    return len(rows)
