"""Hypothesis: whatever sequence of imports, auto-matches, manual matches (refused or not) and
unmatches, every posting is matched at most once and every line's matched sum has the line's
sign and never passes its amount."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.banking import match_services
from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import LineMatch, StatementLine
from caseledger.banking.parsers.base import ParsedLine
from caseledger.banking.tests.factories import (
    import_lines,
    operating_bank_account,
    operating_posting,
)

NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)
D = date(2026, 10, 10)
AMOUNTS = st.sampled_from([100, 200, 300, 500, -100, -200, -300])

ops = st.lists(
    st.one_of(
        st.tuples(st.just("import"), st.lists(AMOUNTS, min_size=1, max_size=4)),
        st.tuples(st.just("auto")),
        st.tuples(
            st.just("manual"),
            st.integers(0, 20),
            st.lists(st.integers(0, 20), min_size=1, max_size=3),
        ),
        st.tuples(st.just("unmatch"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=8,
)


def _check_invariants() -> None:
    assert not LineMatch.objects.values("posting").annotate(n=Count("id")).filter(n__gt=1)
    sums = dict(
        LineMatch.objects.values("line").annotate(s=Sum("amount_cents")).values_list("line", "s")
    )
    for line_id, amount in StatementLine.objects.values_list("id", "amount_cents"):
        matched = sums.get(line_id, 0)
        assert abs(matched) <= abs(amount)
        assert matched == 0 or (matched > 0) == (amount > 0)


@pytest.mark.django_db
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(postings=st.lists(AMOUNTS, min_size=1, max_size=8), steps=ops)
def test_matches_never_double_count(postings: list[int], steps: list[Any]) -> None:
    with transaction.atomic():
        account = operating_bank_account(NOW)
        booked = [
            operating_posting(a, D - timedelta(days=i % 3), f"Receipt {i}", NOW)
            for i, a in enumerate(postings)
        ]
        lines: list[StatementLine] = []
        for n, step in enumerate(steps):
            if step[0] == "import":
                lines += import_lines(
                    account,
                    [ParsedLine(D, a, f"L{n}-{i}") for i, a in enumerate(step[1])],
                    NOW,
                    statement_id=f"S{n}",
                )
            elif step[0] == "auto":
                match_services.bank_account_auto_match(bank_account=account, actor=None, now=NOW)
            elif step[0] == "manual" and lines:
                line = lines[step[1] % len(lines)]
                picked = [booked[i % len(booked)].pk for i in step[2]]
                try:
                    match_services.match_manual(
                        bank_account=account, line=line, posting_ids=picked, actor=None, now=NOW
                    )
                except BankingError:
                    pass
            elif step[0] == "unmatch" and lines:
                try:
                    match_services.match_remove(
                        line=lines[step[1] % len(lines)], actor=None, now=NOW
                    )
                except BankingError:
                    pass
            _check_invariants()
        transaction.set_rollback(True)
