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
    # The trust statements come from the trust journal after every app (seed_late).
    statements = BankStatement.objects.order_by("format")
    assert [(s.format, s.period_start, s.period_end) for s in statements] == [
        ("CSV", date(2026, 10, 4), date(2026, 10, 31)),  # a CSV spans its lines
    ]
    assert StatementLine.objects.count() == 5
    assert BankAccount.objects.get(name="Operating").csv_mapping["date"] == "Posting Date"


@pytest.mark.django_db
def test_demo_trust_statements_matched_and_months_signed(users: dict) -> None:
    from caseledger.banking.models import Reconciliation
    from caseledger.banking.reconciliation.services import reconciliations_verify
    from caseledger.ledger.tests.factories import Disbursement, make_matter
    from caseledger.ledger.tests.helpers import deposit, disburse

    now = datetime(2026, 11, 2, 15, tzinfo=UTC)
    ctx = DemoContext(now=now, today=date(2026, 11, 2))
    ctx.users.update(billing=users["BILLING"], partner=users["PARTNER"])
    demo.seed(ctx)
    matter = make_matter()
    deposit(matter=matter, cents=500_000, now=now, day=date(2026, 8, 20))
    disburse(
        matter=matter,
        cents=46_000,
        now=now,
        day=date(2026, 9, 29),  # clears October 1: outstanding at September's end
        disbursement=Disbursement(1, True),
    )
    deposit(matter=matter, cents=120_000, now=now, day=date(2026, 10, 30))  # in transit
    demo.seed_late(ctx)
    demo.seed_late(ctx)  # idempotent
    records = Reconciliation.objects.filter(bank_account__ledger_account__code="1010")
    assert sorted(records.values_list("period_end", "status")) == [
        (date(2026, 8, 31), "SIGNED"),
        (date(2026, 9, 30), "SIGNED"),
        (date(2026, 10, 31), "PREPARED"),
    ]
    september = records.get(period_end=date(2026, 9, 30))
    assert september.report["outstanding_cents"] == 46_000
    october = records.get(period_end=date(2026, 10, 31))
    assert october.report["deposits_in_transit_cents"] == 120_000
    assert october.report["unrecorded_cents"] == -1_500 + 112
    assert october.report["unexplained_cents"] == 0
    assert all(r.ok for r in reconciliations_verify())
    # Prepared three days after the month, signed the next afternoon (after go-live); the
    # month still open is prepared no later than now.
    from caseledger.core import clock

    zone = clock.firm_zone()
    august = records.get(period_end=date(2026, 8, 31))
    assert august.prepared_at == datetime(2026, 9, 3, 10, tzinfo=zone)
    assert august.signed_at == datetime(2026, 9, 4, 15, tzinfo=zone)
    assert october.prepared_at == now
