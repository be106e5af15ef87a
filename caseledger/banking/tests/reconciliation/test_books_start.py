"""An account's books starting on a day (the cutover): the opening statement, the refusals, the
report's rule (nothing dated on or before it is an item; reports before it unchanged) and the
matching workbench leaving the old system's lines and the opening entry alone."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from caseledger.banking import selectors, services
from caseledger.banking.exceptions import BankingError
from caseledger.banking.forms import BankAccountForm
from caseledger.banking.models import BankAccount, BankStatement
from caseledger.banking.reconciliation import services as recon
from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.banking.tests.reconciliation.helpers import JAN_END, NOW, january
from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as codes
from caseledger.ledger.models import Account

pytestmark = pytest.mark.django_db

FEB_1 = date(2026, 2, 1)


def _open(bank: BankAccount, as_of: date, cents: int) -> BankStatement:
    return services.bank_account_books_open(
        bank_account=bank, as_of=as_of, balance_cents=cents, actor=None, now=NOW
    )


def test_reports_before_the_books_start_are_unchanged() -> None:
    jan = january()
    before = reconciliation_compute(bank_account=jan.bank, as_of=JAN_END)
    statement = _open(jan.bank, FEB_1, 457_500)
    assert (statement.format, statement.period_end, statement.closing_cents) == (
        "OPENING",
        FEB_1,
        457_500,
    )
    assert statement.statement_import.status == "DONE"
    jan.bank.refresh_from_db()
    assert jan.bank.books_start == FEB_1
    after = reconciliation_compute(bank_account=jan.bank, as_of=JAN_END)
    assert after.sha256 == before.sha256
    assert "books_start" not in after.canonical
    event = AuditEvent.objects.get(action="banking.books_opened")
    assert event.after == {
        "books_start": "2026-02-01",
        "balance_cents": 457_500,
        "statement": statement.pk,
        "statement_imported": False,
    }


def test_nothing_dated_on_or_before_the_books_start_is_an_item() -> None:
    jan = january()
    # January's statement is the bank side of Jan 31 (used, no opening statement added).
    statement = _open(jan.bank, JAN_END, 457_500)
    assert statement.format == "CAMT053"
    assert BankStatement.objects.count() == 1
    jan.bank.refresh_from_db()
    report = reconciliation_compute(bank_account=jan.bank, as_of=JAN_END)
    assert report.canonical["books_start"] == "2026-01-31"
    assert report.deposits == report.outstanding == report.unrecorded == []
    # January's journal was never an opening entry: what differs is unexplained, and shown.
    assert (report.adjusted_bank_cents, report.journal_cents) == (457_500, 714_000)
    assert report.unexplained_cents == 457_500 - 714_000
    full = reconciliation_compute(bank_account=jan.bank, as_of=JAN_END, use_checkpoint=False)
    assert full.sha256 == report.sha256
    # February: C's deposit of Feb 10 is in transit; nothing of January is.
    feb = reconciliation_compute(bank_account=jan.bank, as_of=date(2026, 2, 14))
    assert [d["entry"] for d in feb.deposits] == [jan.entries["c_dep"].pk]
    assert feb.outstanding == feb.unrecorded == []


def test_the_workbench_leaves_the_history_before_the_books_start_alone() -> None:
    jan = january()
    assert selectors.lines_open(jan.bank).count() == 1  # the January fee
    assert selectors.postings_open(jan.bank).count() == 3  # B's deposit, A's check, C's deposit
    _open(jan.bank, JAN_END, 457_500)
    jan.bank.refresh_from_db()
    assert not selectors.lines_open(jan.bank).exists()
    assert list(selectors.postings_open(jan.bank)) == [
        jan.entries["c_dep"].postings.get(account=jan.bank.ledger_account)
    ]
    assert selectors.match_suggestions(jan.bank) == []


def test_opening_the_books_is_refused_with_the_field_and_the_rule(users: dict[str, Any]) -> None:
    jan = january()
    with pytest.raises(BankingError) as negative:
        _open(jan.bank, FEB_1, -1)
    assert (
        negative.value.message
        == "balance_cents: the opening balance cannot be negative (got -$0.01)"
    )
    with pytest.raises(BankingError) as differs:
        _open(jan.bank, JAN_END, 400_000)
    assert differs.value.message == (
        "balance_cents: the statement of IOLTA trust imported for 2026-01-31 closes at "
        "$4,575.00, not at the opening balance $4,000.00"
    )
    rec = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=NOW)
    with pytest.raises(BankingError) as closed:
        _open(jan.bank, date(2026, 1, 20), 0)
    assert closed.value.message == (
        "as_of: IOLTA trust is reconciled and closed through 2026-01-31; its books cannot "
        "start on 2026-01-20, which is not after it"
    )
    _open(jan.bank, FEB_1, 457_500)
    with pytest.raises(BankingError) as twice:
        _open(jan.bank, date(2026, 2, 2), 457_500)
    assert twice.value.message == "as_of: the books of IOLTA trust already start on 2026-02-01"
    assert AuditEvent.objects.filter(action="banking.books_opened").count() == 1


def test_opening_is_not_a_format_a_bank_sends() -> None:
    assert "OPENING" not in dict(BankAccountForm().fields["formats"].choices)  # type: ignore[attr-defined]
    with pytest.raises(BankingError, match=r"^formats: unknown format 'OPENING'$"):
        services.bank_account_create(
            name="IOLTA trust",
            bank_name="Example Bank",
            number="4400123456",
            ledger_account=Account.objects.get(code=codes.TRUST_BANK),
            formats=["OPENING"],
            actor=None,
            now=NOW,
        )
