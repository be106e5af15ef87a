from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from caseledger.banking import demo
from caseledger.banking.models import BankAccount, BankStatement, StatementLine
from caseledger.core.demo_context import DemoContext


@pytest.mark.django_db
def test_demo_seeds_two_accounts_and_statements_once(users: dict) -> None:
    ctx = DemoContext(now=datetime(2026, 11, 2, 15, tzinfo=UTC), today=date(2026, 11, 2))
    demo.seed(ctx)
    demo.seed_late(ctx)
    demo.seed(ctx)
    demo.seed_late(ctx)
    assert sorted(BankAccount.objects.values_list("name", "is_trust")) == [
        ("IOLTA trust", True),
        ("Operating", False),
    ]
    statements = BankStatement.objects.order_by("format")
    assert [(s.format, s.period_start, s.period_end) for s in statements] == [
        ("CAMT053", date(2026, 10, 1), date(2026, 10, 31)),  # generated: no trust journal
        ("CSV", date(2026, 10, 4), date(2026, 10, 31)),  # a CSV spans its lines
    ]
    assert StatementLine.objects.count() == 10
    assert BankAccount.objects.get(name="Operating").csv_mapping["date"] == "Posting Date"
