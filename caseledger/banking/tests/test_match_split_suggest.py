"""Rule 5 of the matcher: a posting split over several statement lines (a disbursement paid in
two debits, a deposit credited in parts) is suggested, with the reason; it is accepted
automatically only when it is the one set of lines for the posting; the search stays bounded
with many lines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages

from caseledger.banking import match_services, matching, selectors
from caseledger.banking.choices import MatchMethod
from caseledger.banking.models import LineMatch
from caseledger.banking.parsers.base import ParsedLine
from caseledger.banking.tests.factories import (
    import_lines,
    operating_bank_account,
    operating_posting,
)
from caseledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)
D = date(2026, 3, 2)


def _lines(account: Any, *amounts_days: tuple[int, date]) -> list[Any]:
    return import_lines(
        account, [ParsedLine(booking_date=d, amount_cents=c) for c, d in amounts_days], NOW
    )


def _by_line(account: Any) -> dict[int, matching.Suggestion]:
    return {s.line_id: s for s in selectors.match_suggestions(account)}


def test_three_credits_summing_to_a_deposit_are_suggested_and_auto_matched(
    users: dict[str, Any],
) -> None:
    account = operating_bank_account(NOW)
    a, b, c = _lines(
        account,
        (40_000, D),
        (25_000, D + timedelta(days=1)),
        (35_000, D + timedelta(days=2)),
    )
    posting = operating_posting(100_000, D, "Retainer deposit, Lopez", NOW)
    got = _by_line(account)
    s = got[a.pk]
    assert s.confident
    assert s.rule == "split"
    assert s.posting_ids == (posting.pk,)
    assert s.line_ids == (a.pk, b.pk, c.pk)
    assert s.reason == "3 lines on Mar 2-4 sum to the posting · within 5 days"
    # The other lines carry no suggestion of their own (they are in the first line's).
    assert b.pk not in got
    assert c.pk not in got

    result = match_services.bank_account_auto_match(
        bank_account=account, actor=users["BILLING"], now=NOW
    )
    assert result.accepted == 3
    assert result.skipped == []
    rows = list(LineMatch.objects.filter(posting=posting).order_by("part"))
    assert [(r.line_id, r.part, r.amount_cents, r.method) for r in rows] == [
        (a.pk, 0, 40_000, MatchMethod.AUTO),
        (b.pk, 1, 25_000, MatchMethod.AUTO),
        (c.pk, 2, 35_000, MatchMethod.AUTO),
    ]
    event = AuditEvent.objects.get(action="banking.posting_split_matched")
    assert event.after["method"] == MatchMethod.AUTO
    assert event.after["reason"] == s.reason
    assert selectors.match_suggestions(account) == []


def test_a_disbursement_paid_in_two_debits_across_a_month_end() -> None:
    account = operating_bank_account(NOW)
    a, b = _lines(account, (-30_000, date(2026, 3, 31)), (-20_000, date(2026, 4, 1)))
    posting = operating_posting(-50_000, date(2026, 3, 30), "Expert fee, Chen", NOW)
    # A credit of the same size is no part of a debit split.
    _lines(account, (20_000, date(2026, 4, 1)))
    s = _by_line(account)[a.pk]
    assert s.confident
    assert (s.posting_ids, s.line_ids) == ((posting.pk,), (a.pk, b.pk))
    assert s.reason == "2 lines on Mar 31-Apr 1 sum to the posting · within 5 days"


def test_two_sets_of_lines_is_ambiguous_and_never_auto_accepted() -> None:
    account = operating_bank_account(NOW)
    a, b, c = _lines(
        account, (60_000, D), (40_000, D + timedelta(days=1)), (40_000, D + timedelta(days=2))
    )
    posting = operating_posting(100_000, D, "Deposit", NOW)
    s = _by_line(account)[a.pk]
    assert not s.confident
    assert s.rule == "split"
    assert s.posting_ids == (posting.pk,)
    assert set(s.candidates) == {(a.pk, b.pk), (a.pk, c.pk)}
    assert s.reason == f"2 different sets of lines sum to posting {posting.pk}"
    result = match_services.bank_account_auto_match(bank_account=account, actor=None, now=NOW)
    assert result.accepted == 0
    assert not LineMatch.objects.exists()


def test_lines_that_two_postings_could_take_are_left_for_a_person() -> None:
    account = operating_bank_account(NOW)
    a, b = _lines(account, (70_000, D), (30_000, D + timedelta(days=1)))
    first = operating_posting(100_000, D, "Deposit", NOW)
    operating_posting(100_000, D + timedelta(days=1), "Another deposit of the same size", NOW)
    s = _by_line(account)[a.pk]
    assert not s.confident
    assert s.posting_ids == (first.pk,)
    assert s.candidates == ((a.pk, b.pk),)
    assert match_services.bank_account_auto_match(bank_account=account, actor=None, now=NOW)
    assert not LineMatch.objects.exists()


def test_lines_with_a_whole_match_or_outside_the_window_are_not_split() -> None:
    account = operating_bank_account(NOW)
    # b has a one-to-one candidate (rule 3): it is not offered as part of a split.
    a, b, c = _lines(account, (60_000, D), (40_000, D), (40_000, D + timedelta(days=20)))
    operating_posting(100_000, D, "Deposit", NOW)
    whole = operating_posting(40_000, D, "Small deposit", NOW)
    got = _by_line(account)
    assert got[b.pk].rule == "amount"
    assert got[b.pk].posting_ids == (whole.pk,)
    assert a.pk not in got  # c is 20 days away: no set within the window
    assert c.pk not in got


def test_accepting_a_split_from_the_workbench(users: dict[str, Any], login: Any) -> None:
    account = operating_bank_account(NOW)
    a, b = _lines(account, (-30_000, D), (-20_000, D + timedelta(days=1)))
    posting = operating_posting(-50_000, D, "Filing fee paid in two", NOW)
    client = login(users["BILLING"])
    page = client.get(f"/banking/accounts/{account.pk}/matching/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "2 lines on Mar 2-3 sum to the posting" in html
    assert "Part of the split suggested on line" in html
    response = client.post(
        f"/banking/accounts/{account.pk}/matching/accept/", {"shown": f"{a.pk}:{posting.pk}"}
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 lines matched."]
    assert sorted(LineMatch.objects.values_list("line_id", "posting_id")) == [
        (a.pk, posting.pk),
        (b.pk, posting.pk),
    ]


def test_search_is_bounded_with_many_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of free lines near every posting: each posting looks at no more than
    SPLIT_MAX_CANDIDATES of them, and the one set among the nearest is still found."""
    seen: list[int] = []
    real = matching._line_sets

    def counting(near: Any, target: int) -> list[tuple[int, ...]]:
        seen.append(len(near))
        return real(near, target)

    monkeypatch.setattr(matching, "_line_sets", counting)
    # Two lines that make the big posting, first on its day; 4,000 others around it.
    lines = [matching.LineIn(1, D, 4_444_400, {}), matching.LineIn(2, D, 5_555_500, {})]
    lines += [
        matching.LineIn(10 + i, D + timedelta(days=i % 5), 1_000 + 7 * i, {}) for i in range(4000)
    ]
    # 300 postings bigger than any line, which no set of lines reaches.
    postings = [matching.PostingIn(1, D, 9_999_900, {})]
    postings += [matching.PostingIn(10 + i, D, 90_000_000 + i, {}) for i in range(300)]
    got = matching.suggest(lines, postings, window_days=5)
    assert len(seen) == 301
    assert max(seen) == matching.SPLIT_MAX_CANDIDATES
    (split,) = [s for s in got if s.rule == "split"]
    assert split.confident
    assert split.posting_ids == (1,)
    assert split.line_ids == (1, 2)
