"""The three-way figures on the hand-built January (helpers.january)."""

from __future__ import annotations

from typing import Any

import pytest

from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.banking.tests.reconciliation.helpers import JAN_END, january

pytestmark = pytest.mark.django_db


def test_three_way_figures_and_items() -> None:
    jan = january()
    report = reconciliation_compute(bank_account=jan.bank, as_of=JAN_END)
    assert report.bank_balance_cents == 457_500
    assert report.deposits_in_transit_cents == 300_000
    assert [d["amount_cents"] for d in report.deposits] == [300_000]
    assert report.outstanding_cents == 46_000
    assert [o["entry"] for o in report.outstanding] == [jan.entries["a_chk"].pk]
    assert report.adjusted_bank_cents == 711_500
    assert report.journal_cents == 714_000
    assert report.client_total_cents == 714_000
    # The one difference is the unrecorded bank fee, shown as its line.
    assert report.unrecorded_cents == -2_500
    assert [(u["line"], u["description"]) for u in report.unrecorded] == [
        (jan.lines["L-FEE"].pk, "Monthly service fee")
    ]
    assert report.unexplained_cents == 0
    assert report.balanced is False
    # Client C's ledger is negative on Jan 31 and listed first.
    assert [(r["matter_id"], r["balance_cents"]) for r in report.clients][0] == (jan.c.pk, -40_000)
    assert {r["matter_id"]: r["balance_cents"] for r in report.clients} == {
        jan.a.pk: 454_000,
        jan.b.pk: 300_000,
        jan.c.pk: -40_000,
    }
    assert report.negative_clients == 1
    assert report.client_differences == []


def test_recording_the_fee_balances_all_three() -> None:
    from datetime import date

    from caseledger.banking.tests.reconciliation.helpers import NOW, bank_posting, match
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    jan = january()
    # The firm pays the fee from operating into trust (no firm money stays in trust beyond
    # the cushion; here modelled as a client-attributed adjustment for the test).
    fee = entry_post(
        kind=EntryKind.TRUST_DISBURSEMENT,
        entry_date=date(2026, 1, 31),
        memo="Bank fee",
        lines=[
            PostingLine("2100", 2_500, client=jan.b.client, matter=jan.b),
            PostingLine("1010", -2_500, client=jan.b.client, matter=jan.b),
        ],
        actor=None,
        now=NOW,
        disbursement=type("D", (), {"pk": 77, "is_approved": True})(),
    )
    match(jan.lines["L-FEE"], bank_posting(fee, jan.bank))
    report = reconciliation_compute(bank_account=jan.bank, as_of=JAN_END)
    assert report.adjusted_bank_cents == report.journal_cents == report.client_total_cents
    assert report.journal_cents == 711_500
    assert report.balanced is True
    assert report.unrecorded == []


def test_operating_account_two_way(users: dict) -> None:
    from datetime import date

    from caseledger.banking.reconciliation import services as recon
    from caseledger.banking.tests.factories import OPERATING_NUMBER, operating_bank_account
    from caseledger.banking.tests.reconciliation.helpers import (
        NOW,
        bank_posting,
        import_statement,
        match,
    )
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.models import ClosedPeriod
    from caseledger.ledger.services import PostingLine, entry_post

    bank = operating_bank_account(NOW)

    def capital(cents: int, day: date) -> Any:
        return entry_post(
            kind=EntryKind.OPENING_BALANCE,
            entry_date=day,
            memo="Owners' capital",
            lines=[PostingLine("1000", cents), PostingLine("3000", -cents)],
            actor=None,
            now=NOW,
        )

    first = capital(1_000_000, date(2026, 1, 3))
    capital(250_000, date(2026, 1, 30))  # in transit on Jan 31
    lines = import_statement(
        bank,
        date(2026, 1, 1),
        JAN_END,
        [(date(2026, 1, 4), 1_000_000, "Capital", "O-1")],
        number=OPERATING_NUMBER,
    )
    match(lines["O-1"], bank_posting(first, bank))
    report = reconciliation_compute(bank_account=bank, as_of=JAN_END)
    assert report.canonical["kind"] == "two_way"
    assert (report.bank_balance_cents, report.deposits_in_transit_cents) == (1_000_000, 250_000)
    assert report.adjusted_bank_cents == report.journal_cents == 1_250_000
    assert report.balanced is True
    assert "clients" not in report.canonical
    rec = recon.reconciliation_prepare(
        bank_account=bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    recon.reconciliation_sign(reconciliation=rec, actor=users["ATTORNEY"], now=NOW)
    assert list(ClosedPeriod.objects.values_list("account__code", flat=True)) == ["1000"]
