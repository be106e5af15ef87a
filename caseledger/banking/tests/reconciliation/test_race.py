"""PostgreSQL race: a posting into a month while that month is being signed. Exactly one wins
every time: either the month is signed and the posting is refused by the database (closed
period), or the posting lands first and signing is refused (figures changed since prepared).
Never a signed month with a posting its hash does not cover."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import Reconciliation
from caseledger.banking.reconciliation import services as recon
from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.banking.reconciliation.services import month_bounds
from caseledger.banking.tests.factories import trust_bank_account
from caseledger.banking.tests.reconciliation.helpers import import_statement
from caseledger.ledger.exceptions import LedgerError
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import make_matter
from caseledger.ledger.tests.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 9, 15, 15, tzinfo=UTC)


def test_posting_while_signing_one_wins(require_postgres: Any, users: dict[str, Any]) -> None:
    bank = trust_bank_account(NOW)
    matter = make_matter()
    H.deposit(matter=matter, cents=100_000, now=NOW, day=date(2026, 1, 2))
    wins = {"signed": 0, "posted": 0}
    opening = 0
    for month in range(1, 9):
        start, end = month_bounds(date(2026, month, 1))
        import_statement(
            bank, start, end, [(end, -100, "Service fee", f"FEE-{month}")], opening=opening, now=NOW
        )
        opening -= 100
        rec = recon.reconciliation_prepare(
            bank_account=bank, period_end=end, actor=users["BILLING"], now=NOW
        )

        def sign(rec: Reconciliation = rec) -> Any:
            return recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=NOW)

        def post(end: date = end) -> Any:
            return H.deposit(matter=matter, cents=1_000, now=NOW, day=end)

        signed, posted = run_together([sign, post])
        ok = [not isinstance(r, Exception) for r in (signed, posted)]
        assert ok.count(True) == 1, (signed, posted)
        if ok[0]:
            wins["signed"] += 1
            assert isinstance(posted, LedgerError), posted
            assert "is closed through" in str(posted)
        else:
            wins["posted"] += 1
            assert isinstance(signed, BankingError), signed
            assert "the figures changed since it was prepared" in str(signed)
            # Prepare again and sign alone, so the next month starts after a signed one.
            again = recon.reconciliation_prepare(
                bank_account=bank, period_end=end, actor=users["BILLING"], now=NOW
            )
            recon.reconciliation_sign(reconciliation=again, actor=users["PARTNER"], now=NOW)
        live = Reconciliation.objects.get(bank_account=bank, period_end=end, status="SIGNED")
        assert reconciliation_compute(bank_account=bank, as_of=end).sha256 == live.report_sha256
    assert sum(wins.values()) == 8
    assert all(r.ok for r in recon.reconciliations_verify())
