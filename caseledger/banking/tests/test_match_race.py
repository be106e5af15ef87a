"""PostgreSQL, real threads on their own connections: two people accepting the same suggestion
at once make one match; two lines claiming one posting at once make one match."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

import pytest

from caseledger.banking import match_services
from caseledger.banking.choices import MatchMethod
from caseledger.banking.exceptions import BankingError
from caseledger.banking.match_services import Proposal
from caseledger.banking.models import LineMatch
from caseledger.banking.parsers.base import ParsedLine
from caseledger.banking.tests.factories import (
    import_lines,
    operating_bank_account,
    operating_posting,
)
from caseledger.ledger.tests.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = date(2026, 10, 10)


def test_same_suggestion_accepted_twice_at_once(
    require_postgres: Any, now: Any, users: Any
) -> None:
    account = operating_bank_account(now)
    lines = import_lines(account, [ParsedLine(D, 1_000 + i, f"Wire {i}") for i in range(10)], now)
    postings = [operating_posting(1_000 + i, D, f"Receipt {i}", now) for i in range(10)]

    def accept(line_id: int, posting_id: int, who: str) -> Any:
        return match_services.matches_accept(
            bank_account=account,
            proposals=[Proposal(line_id, (posting_id,), "amount · same day")],
            method=MatchMethod.AUTO,
            actor=users[who],
            now=now,
        )

    for line, posting in zip(lines, postings, strict=True):
        results = run_together(
            [
                partial(accept, line.pk, posting.pk, "BILLING"),
                partial(accept, line.pk, posting.pk, "PARTNER"),
            ]
        )
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(failed) == 1, results
        assert isinstance(failed[0], BankingError), failed
        assert failed[0].message == f"line: line {line.pk} is already fully matched"
        assert LineMatch.objects.filter(line=line).count() == 1


def test_two_lines_claim_one_posting_at_once(require_postgres: Any, now: Any) -> None:
    account = operating_bank_account(now)
    for round_no in range(10):
        a, b = import_lines(
            account,
            [ParsedLine(D, 500, f"A{round_no}"), ParsedLine(D, 500, f"B{round_no}")],
            now,
            statement_id=f"R{round_no}",
        )
        p = operating_posting(500, D, f"Receipt {round_no}", now)

        def claim(line: Any, posting_id: int) -> Any:
            return match_services.match_manual(
                bank_account=account, line=line, posting_ids=[posting_id], actor=None, now=now
            )

        results = run_together([partial(claim, a, p.pk), partial(claim, b, p.pk)])
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(failed) == 1, results
        assert isinstance(failed[0], BankingError), failed
        assert failed[0].message.startswith("postings: posting ")
        assert LineMatch.objects.filter(posting=p).count() == 1
