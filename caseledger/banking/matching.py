"""The matching engine: statement lines against the unmatched postings of the bank account's
ledger account, without touching the database (``selectors.match_suggestions`` loads the rows,
``match_services`` writes what is accepted).

Rules, strongest first; a posting is offered to one line at most:

1. **Reference**: a reference-like token of the line (bank or customer reference, description,
   counterparty, batch details) appears in the posting's entry memo (``R-000123``, ``TR-000123``,
   ``CHK-1042`` and ``check 1042`` all meet on their digits), the amounts are equal and the
   dates at most ``REFERENCE_WINDOW_DAYS`` apart.
2. **Batch details**: a line whose bank file lists its transactions (a deposit slip, a card
   payout) matches one posting per transaction, each by reference or by amount within the
   window, all different, summing to the line.
3. **Amount and date**: exactly one unmatched posting of the line's amount within the window,
   and that posting is within the window of no other line of the same amount.
4. **Sum of postings**: exactly one set of 2 to ``SUBSET_MAX_SIZE``
   postings of the line's sign within the window (the ``SUBSET_MAX_CANDIDATES`` nearest in date)
   sums to the line.
5. **Split posting** (many lines to one posting: a disbursement paid in two debits, a deposit
   the bank credited in parts): among the lines no rule above suggested anything for, untouched
   (no match yet), of the posting's sign, smaller than it and within the window, the
   ``SPLIT_MAX_CANDIDATES`` nearest in date (reading ``SPLIT_MAX_SCAN`` lines at most); a set
   of 2 to ``SPLIT_MAX_SIZE`` of them summing exactly to the posting. Confident only when it
   is the posting's one set and no line of it is in a set of another posting; the suggestion
   is keyed by the set's earliest line and lists every line in ``line_ids``.

A rule that finds more than one answer yields an *ambiguous* suggestion: shown with its
candidates, never accepted by "accept all". Cost: O((L + P) log P) for rules 1 to 3 (sorted
lists and dicts), rule 4 bounded per line, rule 5 bounded per posting (``SPLIT_MAX_SCAN`` lines
read, pairs by a dict look-up, triples by one loop over pairs: about ``SPLIT_MAX_CANDIDATES``
squared) and run only over the lines left without a suggestion.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations

REFERENCE_WINDOW_DAYS = 45
SUBSET_MAX_CANDIDATES = 12
SUBSET_MAX_SIZE = 4
SPLIT_MAX_CANDIDATES = 10
SPLIT_MAX_SIZE = 3
SPLIT_MAX_SCAN = 200  # lines read per posting at most, to find the candidates
SPLIT_MAX_SETS = 5  # sets kept per posting (more: still ambiguous, only 5 shown)
MIN_TOKEN = 4

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/.]*[A-Za-z0-9]|[A-Za-z0-9]")
_DIGITS = re.compile(r"\d{4,}")


def reference_tokens(*texts: str) -> dict[str, str]:
    """Reference-like tokens of ``texts``: words with a digit, at least 4 characters once
    ``-``, ``/`` and ``.`` are dropped, upper-cased, and their runs of 4+ digits (leading zeros
    kept). Maps each token to the word it came from, for the reason shown."""
    out: dict[str, str] = {}
    for text in texts:
        if not text:
            continue
        for word in _WORD.findall(text):
            if not any(c.isdigit() for c in word):
                continue
            norm = word.replace("-", "").replace("/", "").replace(".", "").upper()
            if len(norm) >= MIN_TOKEN:
                out.setdefault(norm, word)
            for digits in _DIGITS.findall(norm):
                out.setdefault(digits, word)
    return out


@dataclass(frozen=True, slots=True)
class DetailIn:
    amount_cents: int
    tokens: dict[str, str]


@dataclass(frozen=True, slots=True)
class LineIn:
    id: int
    booking_date: date
    amount_cents: int  # what is left to match: the line's amount less its matches
    tokens: dict[str, str]
    details: tuple[DetailIn, ...] = ()
    untouched: bool = True  # no match yet (a split takes whole lines only)


@dataclass(frozen=True, slots=True)
class PostingIn:
    id: int
    entry_date: date
    amount_cents: int  # as it moves the bank: + in, - out
    tokens: dict[str, str]


@dataclass(slots=True)
class Suggestion:
    line_id: int
    posting_ids: tuple[int, ...]
    reason: str
    rule: str  # reference | details | amount | subset | split
    confident: bool = True  # False: ambiguous, one of several answers; never auto-accepted
    # Ambiguous: the posting sets (rules 1-4) or, for a split, the line sets.
    candidates: tuple[tuple[int, ...], ...] = field(default=())
    # Rule 5 (split): every line of the set, ``line_id`` (the earliest) first; the one posting
    # is ``posting_ids``.
    line_ids: tuple[int, ...] = field(default=())


def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def _apart(days: int) -> str:
    if days == 0:
        return "same day"
    return "1 day apart" if days == 1 else f"{days} days apart"


class _Book:
    """The unmatched postings, indexed by amount (sorted by date) and by reference token."""

    def __init__(self, postings: Iterable[PostingIn]) -> None:
        self.by_id: dict[int, PostingIn] = {}
        by_amount: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.by_token: dict[str, list[int]] = defaultdict(list)
        for p in postings:
            self.by_id[p.id] = p
            by_amount[p.amount_cents].append((p.entry_date.toordinal(), p.id))
            for token in p.tokens:
                self.by_token[token].append(p.id)
        self.by_amount = {k: sorted(v) for k, v in by_amount.items()}
        self.claimed: set[int] = set()
        # For rule 4: postings by sign, sorted by date.
        self.by_sign: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
        for p in self.by_id.values():
            self.by_sign[p.amount_cents > 0].append((p.entry_date.toordinal(), p.id))
        for v in self.by_sign.values():
            v.sort()

    def in_window(self, amount: int, day: date, window: int) -> list[int]:
        rows = self.by_amount.get(amount)
        if not rows:
            return []
        o = day.toordinal()
        lo = bisect_left(rows, (o - window, -1))
        hi = bisect_right(rows, (o + window, 1 << 62))
        return [pid for _, pid in rows[lo:hi] if pid not in self.claimed]

    def by_reference(self, tokens: dict[str, str], amount: int, day: date) -> list[tuple[int, str]]:
        """Postings of ``amount`` sharing a token; when several, those sharing the longest
        token (``INV1000A`` beats the bare digits ``1000`` both halves of a batch carry)."""
        found: dict[int, tuple[str, int]] = {}
        for token, word in tokens.items():
            for pid in self.by_token.get(token, ()):
                if pid in self.claimed:
                    continue
                p = self.by_id[pid]
                if p.amount_cents != amount or _days(p.entry_date, day) > REFERENCE_WINDOW_DAYS:
                    continue
                if pid not in found or found[pid][1] < len(token):
                    found[pid] = (word, len(token))
        if not found:
            return []
        best = max(n for _, n in found.values())
        return sorted((pid, word) for pid, (word, n) in found.items() if n == best)


def suggest(
    lines: Sequence[LineIn], postings: Iterable[PostingIn], *, window_days: int
) -> list[Suggestion]:
    """One suggestion (confident or ambiguous) per line that has any; see the module rules."""
    book = _Book(postings)
    out: dict[int, Suggestion] = {}
    open_lines = [line for line in lines if line.amount_cents != 0]

    # 1. Reference and amount.
    for line in open_lines:
        if line.details:
            continue
        found = book.by_reference(line.tokens, line.amount_cents, line.booking_date)
        if len(found) == 1:
            pid, word = found[0]
            p = book.by_id[pid]
            out[line.id] = Suggestion(
                line.id,
                (pid,),
                f"reference {word} · amount · {_apart(_days(p.entry_date, line.booking_date))}",
                "reference",
            )
            book.claimed.add(pid)
        elif len(found) > 1:
            out[line.id] = Suggestion(
                line.id,
                (),
                f"reference matches {len(found)} postings of this amount",
                "reference",
                confident=False,
                candidates=tuple((pid,) for pid, _ in found),
            )

    # 2. Batch details, one posting each.
    for line in open_lines:
        if line.id in out or len(line.details) < 2:
            continue
        if sum(d.amount_cents for d in line.details) != line.amount_cents:
            continue
        picked: list[int] = []
        words: list[str] = []
        for d in line.details:
            ref = [
                (pid, w)
                for pid, w in book.by_reference(d.tokens, d.amount_cents, line.booking_date)
                if pid not in picked
            ]
            if len(ref) == 1:
                picked.append(ref[0][0])
                words.append(ref[0][1])
                continue
            near = [
                pid
                for pid in book.in_window(d.amount_cents, line.booking_date, window_days)
                if pid not in picked
            ]
            if len(near) != 1:
                break
            picked.append(near[0])
        else:
            what = f"references {', '.join(words)}" if words else "amounts"
            out[line.id] = Suggestion(
                line.id,
                tuple(picked),
                f"batch of {len(picked)} transactions · {what} · within {window_days} days",
                "details",
            )
            book.claimed.update(picked)

    # 3. Amount within the window, one to one both ways.
    candidates: dict[int, list[int]] = {}
    wanted_by: dict[int, int] = defaultdict(int)
    for line in open_lines:
        if line.id in out:
            continue
        near = book.in_window(line.amount_cents, line.booking_date, window_days)
        if near:
            candidates[line.id] = near
            for pid in near:
                wanted_by[pid] += 1
    by_line = {line.id: line for line in open_lines}
    for line_id, near in candidates.items():
        line = by_line[line_id]
        if len(near) == 1 and wanted_by[near[0]] == 1:
            p = book.by_id[near[0]]
            out[line_id] = Suggestion(
                line_id,
                (p.id,),
                f"amount · {_apart(_days(p.entry_date, line.booking_date))} · only candidate",
                "amount",
            )
            book.claimed.add(p.id)
        else:
            out[line_id] = Suggestion(
                line_id,
                (),
                f"amount · {len(near)} postings within {window_days} days",
                "amount",
                confident=False,
                candidates=tuple((pid,) for pid in near),
            )

    # 4. Sum of a few postings, bounded.
    for line in open_lines:
        if line.id in out:
            continue
        found_sets = _subsets(book, line, window_days)
        if len(found_sets) == 1:
            ids = found_sets[0]
            out[line.id] = Suggestion(
                line.id,
                ids,
                f"sum of {len(ids)} postings · within {window_days} days",
                "subset",
            )
            book.claimed.update(ids)
        elif found_sets:
            out[line.id] = Suggestion(
                line.id,
                (),
                f"{len(found_sets)} different sets of postings sum to the amount",
                "subset",
                confident=False,
                candidates=tuple(found_sets[:5]),
            )

    # 5. Several lines to one posting, bounded.
    _splits(book, [ln for ln in open_lines if ln.id not in out and ln.untouched], out, window_days)
    return [out[line.id] for line in open_lines if line.id in out]


def _span(days: Sequence[date]) -> str:
    """``Mar 2``, ``Mar 2-4`` or ``Mar 30-Apr 1``."""
    first, last = min(days), max(days)
    a = f"{first:%b} {first.day}"
    if first == last:
        return a
    if (first.year, first.month) == (last.year, last.month):
        return f"{a}-{last.day}"
    return f"{a}-{last:%b} {last.day}"


def _splits(
    book: _Book, free: Sequence[LineIn], out: dict[int, Suggestion], window_days: int
) -> None:
    """Rule 5: for each unclaimed posting, the sets of 2 to ``SPLIT_MAX_SIZE`` of its
    ``SPLIT_MAX_CANDIDATES`` nearest ``free`` lines (its sign, smaller, within the window)
    summing to it. Per posting at most ``SPLIT_MAX_SCAN`` lines read and, pairs by a dict
    look-up and triples by pair + look-up, about SPLIT_MAX_CANDIDATES squared steps."""
    if len(free) < 2:
        return
    by_sign: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
    by_id = {ln.id: ln for ln in free}
    for ln in free:
        by_sign[ln.amount_cents > 0].append((ln.booking_date.toordinal(), ln.id))
    for v in by_sign.values():
        v.sort()
    found: dict[int, list[tuple[int, ...]]] = {}
    wanted: dict[int, int] = defaultdict(int)  # line id -> postings with a set holding it
    for pid, p in book.by_id.items():
        if pid in book.claimed:
            continue
        rows = by_sign[p.amount_cents > 0]
        if len(rows) < 2:
            continue
        near = _nearest(rows, by_id, p, window_days)
        if len(near) < 2:
            continue
        sets = _line_sets(near, p.amount_cents)
        if sets:
            found[pid] = sets
            for lid in {lid for s in sets for lid in s}:
                wanted[lid] += 1
    for pid, sets in sorted(found.items(), key=lambda kv: (book.by_id[kv[0]].entry_date, kv[0])):
        p = book.by_id[pid]
        if len(sets) == 1 and all(wanted[lid] == 1 for lid in sets[0]):
            ordered = tuple(sorted(sets[0], key=lambda lid: (by_id[lid].booking_date, lid)))
            span = _span([by_id[lid].booking_date for lid in ordered])
            out[ordered[0]] = Suggestion(
                ordered[0],
                (pid,),
                f"{len(ordered)} lines on {span} sum to the posting · within {window_days} days",
                "split",
                line_ids=ordered,
            )
            book.claimed.add(pid)
            continue
        # Ambiguous: shown on the earliest line of the first set, unless a line has one already.
        first = min(sets[0], key=lambda lid: (by_id[lid].booking_date, lid))
        if first in out:
            continue
        if len(sets) > 1:
            reason = f"{len(sets)} different sets of lines sum to posting {pid}"
        else:
            reason = f"these lines sum to posting {pid}, and some of them to another posting too"
        out[first] = Suggestion(
            first,
            (pid,),
            reason,
            "split",
            confident=False,
            candidates=tuple(sets[:SPLIT_MAX_SETS]),
        )


def _nearest(
    rows: Sequence[tuple[int, int]], by_id: dict[int, LineIn], p: PostingIn, window_days: int
) -> list[LineIn]:
    """The ``SPLIT_MAX_CANDIDATES`` lines of ``rows`` (one sign, by date) nearest in date to
    ``p`` within the window and smaller than it, walking out from its date both ways (the
    earlier side first on a tie) and reading at most ``SPLIT_MAX_SCAN`` lines."""
    o = p.entry_date.toordinal()
    limit = abs(p.amount_cents)
    right = bisect_left(rows, (o, -1))
    left = right - 1
    near: list[LineIn] = []
    for _ in range(SPLIT_MAX_SCAN):
        left_gap = o - rows[left][0] if left >= 0 else window_days + 1
        right_gap = rows[right][0] - o if right < len(rows) else window_days + 1
        if min(left_gap, right_gap) > window_days:
            break
        if left_gap <= right_gap:
            ln = by_id[rows[left][1]]
            left -= 1
        else:
            ln = by_id[rows[right][1]]
            right += 1
        if abs(ln.amount_cents) < limit:
            near.append(ln)
            if len(near) == SPLIT_MAX_CANDIDATES:
                break
    return near


def _line_sets(near: Sequence[LineIn], target: int) -> list[tuple[int, ...]]:
    """Sets (sorted ids) of 2 to ``SPLIT_MAX_SIZE`` lines of ``near`` summing to ``target``;
    at most ``SPLIT_MAX_SETS`` + 1 (enough to know there are several)."""
    found: set[tuple[int, ...]] = set()
    index: dict[int, list[int]] = defaultdict(list)  # amount -> positions in near
    for i, ln in enumerate(near):
        index[ln.amount_cents].append(i)
    n = len(near)
    for i in range(n):
        a = near[i].amount_cents
        # Pairs i < j.
        for j in index.get(target - a, ()):
            if j > i:
                found.add(tuple(sorted((near[i].id, near[j].id))))
        if SPLIT_MAX_SIZE >= 3:
            for j in range(i + 1, n):
                for k in index.get(target - a - near[j].amount_cents, ()):
                    if k > j:
                        found.add(tuple(sorted((near[i].id, near[j].id, near[k].id))))
        if len(found) > SPLIT_MAX_SETS:
            break
    return sorted(found, key=lambda s: (len(s), s))


def _subsets(book: _Book, line: LineIn, window_days: int) -> list[tuple[int, ...]]:
    positive = line.amount_cents > 0
    rows = book.by_sign[positive]
    o = line.booking_date.toordinal()
    lo = bisect_left(rows, (o - window_days, -1))
    hi = bisect_right(rows, (o + window_days, 1 << 62))
    target = line.amount_cents
    near = [
        book.by_id[pid]
        for _, pid in rows[lo:hi]
        if pid not in book.claimed and abs(book.by_id[pid].amount_cents) < abs(target)
    ]
    if len(near) < 2:
        return []
    near.sort(key=lambda p: (_days(p.entry_date, line.booking_date), p.id))
    near = near[:SUBSET_MAX_CANDIDATES]
    found: list[tuple[int, ...]] = []
    for size in range(2, SUBSET_MAX_SIZE + 1):
        for combo in combinations(near, size):
            if sum(p.amount_cents for p in combo) == target:
                found.append(tuple(sorted(p.id for p in combo)))
                if len(found) > 5:
                    return found
    return found
