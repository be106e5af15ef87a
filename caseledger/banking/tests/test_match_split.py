"""Many statement lines to one posting (a deposit the bank showed as several lines): the lines
must sum to the posting exactly; unmatching one unmatches the whole split; the reconciliation
counts the part not yet shown as in transit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from caseledger.banking import match_services
from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import LineMatch
from caseledger.banking.parsers.base import ParsedLine
from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.banking.tests.factories import (
    import_lines,
    operating_bank_account,
    operating_posting,
)
from caseledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)
D = date(2026, 10, 10)


def _lines(account: Any, *amounts_days: tuple[int, date]) -> list[Any]:
    return import_lines(
        account, [ParsedLine(booking_date=d, amount_cents=c) for c, d in amounts_days], NOW
    )


def test_several_lines_match_one_posting_when_they_sum_to_it(users: dict[str, Any]) -> None:
    account = operating_bank_account(NOW)
    a, b = _lines(account, (120_000, D), (80_000, date(2026, 10, 12)))
    posting = operating_posting(200_000, D, "Wire 200k from Lopez", NOW)
    rows = match_services.match_split(
        bank_account=account,
        line_ids=[b.pk, a.pk],
        posting_id=posting.pk,
        actor=users["BILLING"],
        now=NOW,
        note="bank split the wire",
    )
    assert [(r.line_id, r.part, r.amount_cents) for r in rows] == [
        (a.pk, 0, 120_000),
        (b.pk, 1, 80_000),
    ]
    event = AuditEvent.objects.get(action="banking.posting_split_matched")
    assert event.after["posting"] == posting.pk
    assert event.after["lines"] == [[a.pk, 120_000], [b.pk, 80_000]]
    # The posting is taken: neither a plain match nor another split can claim it again.
    (c,) = _lines(account, (200_000, date(2026, 10, 13)))
    with pytest.raises(BankingError, match="already matched"):
        match_services.match_manual(
            bank_account=account, line=c, posting_ids=[posting.pk], actor=None, now=NOW
        )


def test_split_refusals_name_the_rule(users: dict[str, Any]) -> None:
    account = operating_bank_account(NOW)
    a, b, out = _lines(account, (120_000, D), (70_000, D), (-5_000, D))
    posting = operating_posting(200_000, D, "Wire", NOW)

    def split(ids: list[int], pid: int = posting.pk) -> None:
        match_services.match_split(
            bank_account=account, line_ids=ids, posting_id=pid, actor=None, now=NOW
        )

    with pytest.raises(BankingError, match="must sum to it exactly") as exc:
        split([a.pk, b.pk])
    assert exc.value.message == (
        "lines: the lines sum to $1,900.00; posting "
        f"{posting.pk} is $2,000.00 — lines matched to one posting must sum to it exactly"
    )
    with pytest.raises(BankingError, match="at least two statement lines"):
        split([a.pk])
    with pytest.raises(BankingError, match=f"line {a.pk} is chosen twice"):
        split([a.pk, a.pk])
    with pytest.raises(BankingError, match="moves the bank the other way"):
        split([a.pk, out.pk])
    match_services.match_manual(
        bank_account=account,
        line=b,
        posting_ids=[operating_posting(70_000, D, "Other", NOW).pk],
        actor=None,
        now=NOW,
    )
    with pytest.raises(BankingError, match=f"line {b.pk} already has matches"):
        split([a.pk, b.pk])
    assert not LineMatch.objects.filter(posting=posting).exists()


def test_unmatching_one_line_of_a_split_unmatches_all(users: dict[str, Any]) -> None:
    account = operating_bank_account(NOW)
    a, b, c = _lines(account, (50_000, D), (30_000, D), (20_000, D))
    posting = operating_posting(100_000, D, "Deposit", NOW)
    match_services.match_split(
        bank_account=account,
        line_ids=[a.pk, b.pk, c.pk],
        posting_id=posting.pk,
        actor=None,
        now=NOW,
    )
    assert match_services.match_remove(line=b, actor=users["BILLING"], now=NOW) == 3
    assert not LineMatch.objects.exists()
    event = AuditEvent.objects.get(action="banking.line_unmatched")
    assert sorted(m["line"] for m in event.before["matches"]) == sorted([a.pk, b.pk, c.pk])


def test_reconciliation_keeps_the_unshown_part_in_transit() -> None:
    from caseledger.banking.tests.factories import OPERATING_NUMBER
    from caseledger.banking.tests.reconciliation.helpers import import_statement

    account = operating_bank_account(NOW)
    sep, oct_ = date(2026, 9, 30), date(2026, 10, 31)
    first = import_statement(
        account,
        date(2026, 9, 1),
        sep,
        [(date(2026, 9, 29), 60_000, "Dep 1/2", "B-1")],
        number=OPERATING_NUMBER,
        now=NOW,
    )["B-1"]
    later = import_statement(
        account,
        date(2026, 10, 1),
        oct_,
        [(date(2026, 10, 2), 40_000, "Dep 2/2", "B-2")],
        opening=60_000,
        number=OPERATING_NUMBER,
        now=NOW,
    )["B-2"]
    posting = operating_posting(100_000, date(2026, 9, 28), "Deposit", NOW)
    match_services.match_split(
        bank_account=account,
        line_ids=[first.pk, later.pk],
        posting_id=posting.pk,
        actor=None,
        now=NOW,
    )
    september = reconciliation_compute(bank_account=account, as_of=sep)
    assert [(d["posting"], d["amount_cents"]) for d in september.deposits] == [(posting.pk, 40_000)]
    assert september.adjusted_bank_cents == september.journal_cents == 100_000
    assert september.balanced is True
    full = reconciliation_compute(bank_account=account, as_of=sep, use_checkpoint=False)
    assert full.canonical == september.canonical
    october = reconciliation_compute(bank_account=account, as_of=oct_)
    assert october.deposits == []
    assert october.adjusted_bank_cents == october.journal_cents == 100_000
