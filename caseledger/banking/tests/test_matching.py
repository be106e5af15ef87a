"""Matching: suggestions by reference, amount and window, batches via details and via a sum of
postings, ambiguity; accepting, manual matches and unmatching."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from caseledger.banking import match_services, matching, selectors
from caseledger.banking.choices import MatchMethod
from caseledger.banking.exceptions import BankingError
from caseledger.banking.match_services import Proposal
from caseledger.banking.models import LineMatch
from caseledger.banking.parsers.base import ParsedLine, TxDetail
from caseledger.banking.tests.factories import (
    import_lines,
    operating_bank_account,
    operating_posting,
)
from caseledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)
D = date(2026, 10, 10)


def _line(amount: int, day: date = D, **kw: Any) -> ParsedLine:
    return ParsedLine(booking_date=day, amount_cents=amount, **kw)


def _by_line(account: Any) -> dict[int, matching.Suggestion]:
    return {s.line_id: s for s in selectors.match_suggestions(account)}


def test_reference_tokens_meet_on_digits() -> None:
    assert "TR000123" in matching.reference_tokens("TR-000123")
    assert "000123" in matching.reference_tokens("Trust receipt R-000123 from Lopez")
    assert "1042" in matching.reference_tokens("CHK-1042")
    assert matching.reference_tokens("Retainer wire from Lopez") == {}


def test_reference_and_amount_beats_a_nearer_posting_of_the_same_amount() -> None:
    account = operating_bank_account(NOW)
    (line,) = import_lines(
        account, [_line(50_000, customer_reference="PAY-000777", description="Wire")], NOW
    )
    operating_posting(50_000, D, "Payment PAY-000111 from Chen", NOW)
    target = operating_posting(50_000, D - timedelta(days=2), "Payment PAY-000777 from Lopez", NOW)
    s = _by_line(account)[line.pk]
    assert s.confident
    assert s.rule == "reference"
    assert s.posting_ids == (target.pk,)
    assert s.reason == "reference PAY-000777 · amount · 2 days apart"


def test_amount_within_window_only_when_unique_both_ways() -> None:
    account = operating_bank_account(NOW)
    one, two, three = import_lines(
        account,
        [_line(12_345), _line(-9_900, D + timedelta(days=1)), _line(-9_900, D + timedelta(days=2))],
        NOW,
    )
    p = operating_posting(12_345, D - timedelta(days=3), "Deposit", NOW)
    operating_posting(12_345, D - timedelta(days=30), "Old deposit outside the window", NOW)
    operating_posting(-9_900, D, "Check", NOW)
    operating_posting(-9_900, D + timedelta(days=1), "Check", NOW)
    got = _by_line(account)
    assert got[one.pk].confident
    assert got[one.pk].posting_ids == (p.pk,)
    assert got[one.pk].reason == "amount · 3 days apart · only candidate"
    # Two lines, two postings of one amount: which is which is a person's call.
    assert not got[two.pk].confident
    assert not got[three.pk].confident
    assert len(got[two.pk].candidates) == 2


def test_outside_window_is_not_suggested() -> None:
    account = operating_bank_account(NOW)
    (line,) = import_lines(account, [_line(7_700)], NOW)
    operating_posting(7_700, D - timedelta(days=6), "Deposit", NOW)
    assert line.pk not in _by_line(account)


def test_batch_details_match_one_posting_each() -> None:
    account = operating_bank_account(NOW)
    (line,) = import_lines(
        account,
        [
            _line(
                45_000,
                description="Deposit slip 7",
                details=(
                    TxDetail(25_000, "S7-1", "CHK 3301", "Lopez", "Retainer"),
                    TxDetail(20_000, "S7-2", "", "Chen", "Retainer"),
                ),
            )
        ],
        NOW,
    )
    a = operating_posting(25_000, D - timedelta(days=1), "Receipt for CHK 3301", NOW)
    b = operating_posting(20_000, D - timedelta(days=2), "Receipt Chen", NOW)
    s = _by_line(account)[line.pk]
    assert s.confident
    assert s.rule == "details"
    assert set(s.posting_ids) == {a.pk, b.pk}
    assert s.reason == "batch of 2 transactions · references 3301 · within 5 days"


def test_subset_sum_when_no_details_and_ambiguous_when_two_sets() -> None:
    account = operating_bank_account(NOW)
    payout, other = import_lines(
        account, [_line(38_000, description="STRIPE PAYOUT"), _line(-50_000, D)], NOW
    )
    a = operating_posting(10_000, D - timedelta(days=2), "Card charge", NOW)
    b = operating_posting(28_000, D - timedelta(days=1), "Card charge", NOW)
    operating_posting(55_000, D, "Unrelated deposit", NOW)
    for amount in (-20_000, -30_000, -25_000, -25_000):
        operating_posting(amount, D, "Check", NOW)
    got = _by_line(account)
    assert got[payout.pk].confident
    assert got[payout.pk].rule == "subset"
    assert set(got[payout.pk].posting_ids) == {a.pk, b.pk}
    assert got[payout.pk].reason == "sum of 2 postings · within 5 days"
    assert not got[other.pk].confident  # 20,000 + 30,000 and 25,000 + 25,000


def test_accept_one_suggestion_writes_match_and_audit(users: dict[str, Any]) -> None:
    account = operating_bank_account(NOW)
    (line,) = import_lines(account, [_line(4_200, customer_reference="INV-2042")], NOW)
    p = operating_posting(4_200, D, "Payment of INV-2042", NOW)
    s = _by_line(account)[line.pk]
    result = match_services.matches_accept(
        bank_account=account,
        proposals=[Proposal(s.line_id, s.posting_ids, s.reason)],
        method=MatchMethod.AUTO,
        actor=users["BILLING"],
        now=NOW,
    )
    assert result.accepted == 1
    m = LineMatch.objects.get()
    assert (m.line_id, m.posting_id, m.amount_cents, m.method) == (line.pk, p.pk, 4_200, "auto")
    assert m.reason.startswith("reference INV-2042")
    event = AuditEvent.objects.get(action="banking.line_matched")
    assert event.after["postings"] == [p.pk]
    assert selectors.match_suggestions(account) == []
    # Accepting it again is refused and writes nothing.
    with pytest.raises(BankingError, match=f"line: line {line.pk} is already fully matched"):
        match_services.matches_accept(
            bank_account=account,
            proposals=[Proposal(s.line_id, s.posting_ids, s.reason)],
            method=MatchMethod.AUTO,
            actor=users["BILLING"],
            now=NOW,
        )
    assert LineMatch.objects.count() == 1


def test_auto_match_accepts_only_confident(users: dict[str, Any]) -> None:
    account = operating_bank_account(NOW)
    sure, unsure1, unsure2 = import_lines(
        account, [_line(1_111, customer_reference="REF-5555"), _line(-300), _line(-300)], NOW
    )
    operating_posting(1_111, D, "Receipt REF-5555", NOW)
    operating_posting(-300, D, "Fee", NOW)
    operating_posting(-300, D, "Fee", NOW)
    result = match_services.bank_account_auto_match(
        bank_account=account, actor=users["BILLING"], now=NOW
    )
    assert result.accepted == 1
    assert list(LineMatch.objects.values_list("line_id", flat=True)) == [sure.pk]


def test_manual_match_must_sum_and_keep_sign(users: dict[str, Any]) -> None:
    account = operating_bank_account(NOW)
    (line,) = import_lines(account, [_line(30_000)], NOW)
    a = operating_posting(10_000, D, "A", NOW)
    b = operating_posting(15_000, D, "B", NOW)
    c = operating_posting(-5_000, D, "C", NOW)
    with pytest.raises(
        BankingError,
        match=r"postings: the postings sum to \$250.00; the line has \$300.00 left",
    ):
        match_services.match_manual(
            bank_account=account, line=line, posting_ids=[a.pk, b.pk], actor=None, now=NOW
        )
    with pytest.raises(BankingError, match=f"postings: posting {c.pk} .* the other way"):
        match_services.match_manual(
            bank_account=account, line=line, posting_ids=[a.pk, c.pk], actor=None, now=NOW
        )
    with pytest.raises(BankingError, match=f"postings: posting {a.pk} is chosen twice"):
        match_services.match_manual(
            bank_account=account, line=line, posting_ids=[a.pk, a.pk], actor=None, now=NOW
        )
    assert not LineMatch.objects.exists()
    d = operating_posting(5_000, D, "D", NOW)
    match_services.match_manual(
        bank_account=account,
        line=line,
        posting_ids=[a.pk, b.pk, d.pk],
        actor=users["BILLING"],
        now=NOW,
        note="slip 12",
    )
    assert LineMatch.objects.filter(line=line, method="manual").count() == 3
    assert LineMatch.objects.first().reason == "matched by hand: slip 12"


def test_unmatch_reopens_postings_and_records_who(users: dict[str, Any]) -> None:
    account = operating_bank_account(NOW)
    (line,) = import_lines(account, [_line(2_500)], NOW)
    p = operating_posting(2_500, D, "Deposit", NOW)
    match_services.match_manual(
        bank_account=account, line=line, posting_ids=[p.pk], actor=users["BILLING"], now=NOW
    )
    assert match_services.match_remove(line=line, actor=users["PARTNER"], now=NOW) == 1
    assert not LineMatch.objects.exists()
    event = AuditEvent.objects.get(action="banking.line_unmatched")
    assert event.before["matches"][0]["posting"] == p.pk
    assert event.before["matches"][0]["matched_by"] == users["BILLING"].pk
    with pytest.raises(BankingError, match=f"line: line {line.pk} has no match to remove"):
        match_services.match_remove(line=line, actor=users["PARTNER"], now=NOW)


def test_posting_of_another_ledger_account_is_refused() -> None:
    account = operating_bank_account(NOW)
    (line,) = import_lines(account, [_line(2_500)], NOW)
    p = operating_posting(2_500, D, "Deposit", NOW)
    equity_side = p.entry.postings.exclude(pk=p.pk).get()
    with pytest.raises(BankingError, match=f"postings: no posting {equity_side.pk} on ledger"):
        match_services.match_manual(
            bank_account=account, line=line, posting_ids=[equity_side.pk], actor=None, now=NOW
        )


def test_stale_lists_old_unmatched_money_out() -> None:
    account = operating_bank_account(NOW)
    today = date(2026, 11, 2)
    old = operating_posting(-4_600, today - timedelta(days=61), "Check 1042", NOW)
    operating_posting(-4_600, today - timedelta(days=59), "Check 1043", NOW)
    operating_posting(9_000, today - timedelta(days=90), "Deposit", NOW)
    assert list(selectors.postings_stale(account, today=today)) == [old]
