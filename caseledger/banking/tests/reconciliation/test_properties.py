"""Property: whatever deposits, disbursements, statement lines and matches happen, the trust
account reconciles three-way (journal = client ledgers; adjusted bank - journal = the
unrecorded bank items, nothing unexplained), and a signed month never changes: a posting into
it is refused and re-running it gives the same hash."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseledger.banking.reconciliation import services as recon
from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.banking.tests.factories import trust_bank_account
from caseledger.banking.tests.reconciliation.helpers import (
    approved,
    bank_posting,
    import_statement,
    match,
)
from caseledger.ledger.exceptions import LedgerError
from caseledger.ledger.selectors import client_trust_balance
from caseledger.ledger.tests.factories import make_matter
from caseledger.ledger.tests.helpers import deposit, disburse

NOW = datetime(2026, 3, 15, 15, tzinfo=UTC)
JAN_END, FEB_END = date(2026, 1, 31), date(2026, 2, 28)


class _Rollback(Exception):
    """Undo one example (postings are append-only: a savepoint rollback is the way back)."""


operations = st.lists(
    st.tuples(
        st.booleans(),  # deposit (else disbursement)
        st.integers(0, 2),  # matter
        st.integers(1, 200_000),  # cents
        st.integers(0, 58),  # day offset from Jan 1 (to Feb 28)
        st.one_of(st.none(), st.integers(0, 20)),  # cleared this many days later, or never
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture
def world(db: None, users: dict[str, Any]) -> dict[str, Any]:
    return {
        "bank": trust_bank_account(NOW),
        "matters": [make_matter() for _ in range(3)],
        "users": users,
    }


@pytest.mark.django_db
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, fee=st.integers(0, 5_000))
def test_any_history_reconciles_and_a_signed_month_never_changes(
    world: dict[str, Any], ops: list[tuple[bool, int, int, int, int | None]], fee: int
) -> None:
    try:
        with transaction.atomic():
            _example(world, ops, fee)
            raise _Rollback
    except _Rollback:
        pass


def _example(world: dict[str, Any], ops: list[Any], fee: int) -> None:
    bank, matters, users = world["bank"], world["matters"], world["users"]
    posted = []
    for is_deposit, m, cents, offset, cleared in ops:
        matter = matters[m]
        day = date(2026, 1, 1) + timedelta(days=offset)
        if is_deposit:
            entry = deposit(matter=matter, cents=cents, now=NOW, day=day)
        else:
            held = client_trust_balance(client=matter.client, matter=matter)
            if held < cents:
                continue
            entry = disburse(matter=matter, cents=cents, now=NOW, day=day, disbursement=approved())
        posted.append((bank_posting(entry, bank), day, cleared))
    months: dict[date, list[tuple[date, int, str, str]]] = {JAN_END: [], FEB_END: []}
    wanted = []
    for i, (posting, day, cleared) in enumerate(posted):
        if cleared is None:
            continue
        booked = day + timedelta(days=cleared)
        if booked > FEB_END:
            continue
        ref = f"P{i}"
        months[JAN_END if booked <= JAN_END else FEB_END].append(
            (booked, posting.amount_cents, "cleared", ref)
        )
        wanted.append((ref, posting))
    if fee:
        months[JAN_END].append((JAN_END, -fee, "Service fee", "FEE"))
    by_ref = {}
    opening = 0
    for end, lines in months.items():
        start = end.replace(day=1)
        by_ref.update(import_statement(bank, start, end, lines, opening=opening, now=NOW))
        opening += sum(c for _d, c, _t, _r in lines)
    for ref, posting in wanted:
        match(by_ref[ref], posting, now=NOW)

    for as_of in (JAN_END, FEB_END):
        report = reconciliation_compute(bank_account=bank, as_of=as_of)
        assert report.journal_cents == report.client_total_cents
        assert report.client_differences == []
        assert report.unexplained_cents == 0
        assert report.adjusted_bank_cents - report.journal_cents == report.unrecorded_cents
        assert report.unrecorded_cents == (-fee if fee else 0)
        assert report.balanced is (fee == 0)

    rec = recon.reconciliation_prepare(
        bank_account=bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    rec = recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=NOW)
    with pytest.raises(LedgerError, match=r"is closed through 2026-01-31"):
        deposit(matter=matters[0], cents=100, now=NOW, day=date(2026, 1, 15))
    deposit(matter=matters[0], cents=100, now=NOW, day=date(2026, 2, 1))
    again = reconciliation_compute(bank_account=bank, as_of=JAN_END)
    assert again.sha256 == rec.report_sha256
