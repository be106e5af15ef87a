"""Prepare, sign, reopen; the hash chain; verify_reconciliations; the closed period."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from caseledger.banking.choices import ReconciliationStatus
from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import Reconciliation
from caseledger.banking.reconciliation import services as recon
from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.banking.tests.reconciliation.helpers import (
    JAN_END,
    NOW,
    approved,
    bank_posting,
    import_statement,
    january,
    match,
)
from caseledger.core.models import AuditEvent
from caseledger.core.tests.pdf_text import pdf_text
from caseledger.ledger.exceptions import LedgerError
from caseledger.ledger.models import ClosedPeriod
from caseledger.ledger.tests.helpers import deposit, disburse

pytestmark = pytest.mark.django_db

MARCH = datetime(2026, 3, 15, 15, tzinfo=UTC)
FEB_END = date(2026, 2, 28)


def _signed_january(users: dict[str, Any]) -> tuple[Any, Reconciliation]:
    jan = january()
    rec = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    rec = recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=NOW)
    return jan, rec


def test_sign_stores_figures_hash_pdf_and_closes_the_month(users: dict[str, Any]) -> None:
    jan, rec = _signed_january(users)
    rec.refresh_from_db()
    assert rec.status == ReconciliationStatus.SIGNED
    assert (rec.statement_balance_cents, rec.adjusted_bank_cents) == (457_500, 711_500)
    assert (rec.journal_cents, rec.client_total_cents) == (714_000, 714_000)
    assert rec.report["unrecorded"] == [[jan.lines["L-FEE"].pk, "2026-01-31", -2_500]]
    assert rec.previous is None
    assert rec.prev_chain_hash == ""
    assert len(rec.chain_hash) == 64
    # Re-running the signed month later reproduces the same figures and hash.
    assert reconciliation_compute(bank_account=jan.bank, as_of=JAN_END).sha256 == (
        rec.report_sha256
    )
    text = pdf_text(bytes(rec.pdf))
    for expected in (
        "THREE-WAY RECONCILIATION",
        "Deposits in transit",
        "$3,000.00",
        "Outstanding disbursements",
        "$460.00",
        "Monthly service fee",
        "Client trust ledgers",
        "(NEGATIVE)",
        rec.report_sha256,
    ):
        assert expected in text, expected
    closed = ClosedPeriod.objects.filter(is_active=True).values_list(
        "account__code", "closed_through"
    )
    assert sorted(closed) == [("1010", JAN_END), ("2100", JAN_END)]
    assert AuditEvent.objects.filter(action="banking.reconciliation_signed").count() == 1


def test_period_close_refuses_a_posting_and_the_correction_posts_in_an_open_month(
    users: dict[str, Any],
) -> None:
    jan, _rec = _signed_january(users)
    with pytest.raises(
        LedgerError,
        match=r"^entry_date: 1010 Trust bank \(IOLTA\) is closed through 2026-01-31 \(signed "
        r"reconciliation\); post the correction in an open month$",
    ) as refused:
        deposit(matter=jan.a, cents=1_000, now=NOW, day=date(2026, 1, 30))
    assert refused.value.field == "entry_date"
    # The correction: dated in February, naming the closed month.
    fix = deposit(matter=jan.a, cents=1_000, now=NOW, day=date(2026, 2, 1))
    assert fix.entry_date == date(2026, 2, 1)
    # January is unchanged.
    again = reconciliation_compute(bank_account=jan.bank, as_of=JAN_END)
    assert again.sha256 == Reconciliation.objects.get().report_sha256


def test_closed_month_lines_and_matches_are_refused_by_the_database(
    users: dict[str, Any],
) -> None:
    from django.db import IntegrityError, connection, transaction

    jan, _rec = _signed_january(users)
    if connection.vendor == "postgresql":  # SQLite guards making matches only (migration)
        with pytest.raises(IntegrityError, match="banking_closed_period"), transaction.atomic():
            jan.lines["L-A"].matches.all().delete()
    with pytest.raises(IntegrityError, match="banking_closed_period"), transaction.atomic():
        match(jan.lines["L-FEE"], bank_posting(jan.entries["b_dep"], jan.bank))
    # A line written past the import service (which refuses it first, with a message: see
    # test_a_statement_line_in_a_signed_month_is_refused_with_a_message).
    from caseledger.banking.models import StatementLine

    with pytest.raises(IntegrityError, match="banking_closed_period"), transaction.atomic():
        StatementLine.objects.create(
            bank_account=jan.bank,
            statement=jan.lines["L-FEE"].statement,
            booking_date=date(2026, 1, 30),
            amount_cents=-100,
            description="Late",
            dedupe_key="ref:L-LATE",
        )
    assert recon.match_closed(
        line=jan.lines["L-FEE"], posting=bank_posting(jan.entries["b_dep"], jan.bank)
    )
    # The correction: the fee recorded in February, matched to January's fee line; January's
    # report does not change (its unrecorded items count postings dated in January only).
    fee = disburse(
        matter=jan.b, cents=2_500, now=NOW, day=date(2026, 2, 2), disbursement=approved()
    )
    assert not recon.match_closed(line=jan.lines["L-FEE"], posting=bank_posting(fee, jan.bank))
    match(jan.lines["L-FEE"], bank_posting(fee, jan.bank))
    again = reconciliation_compute(bank_account=jan.bank, as_of=JAN_END)
    assert again.sha256 == Reconciliation.objects.get().report_sha256


def test_reviewer_must_be_another_lawyer(users: dict[str, Any], make_user: Any) -> None:
    jan = january()
    rec = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=JAN_END, actor=users["PARTNER"], now=NOW
    )
    with pytest.raises(BankingError, match=r"^signed_by: the reviewer must be a different"):
        recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=NOW)
    with pytest.raises(BankingError, match=r"^signed_by: only a partner or attorney signs"):
        recon.reconciliation_sign(reconciliation=rec, actor=users["BILLING"], now=NOW)
    signed = recon.reconciliation_sign(reconciliation=rec, actor=users["ATTORNEY"], now=NOW)
    assert signed.signed_by == users["ATTORNEY"]


def test_figures_changed_since_prepared_are_refused(users: dict[str, Any]) -> None:
    jan = january()
    rec = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    deposit(matter=jan.a, cents=5_000, now=NOW, day=date(2026, 1, 29))
    with pytest.raises(BankingError, match=r"^reconciliation: the figures changed since"):
        recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=NOW)
    assert not ClosedPeriod.objects.exists()


def test_reopen_by_partner_only_and_the_next_signature_supersedes(
    users: dict[str, Any],
) -> None:
    jan, first = _signed_january(users)
    with pytest.raises(BankingError, match=r"^reopened_by: only a partner reopens"):
        recon.reconciliation_reopen(
            reconciliation=first, actor=users["ATTORNEY"], reason="fee", now=NOW
        )
    with pytest.raises(BankingError, match=r"^reason: say why"):
        recon.reconciliation_reopen(
            reconciliation=first, actor=users["PARTNER"], reason=" ", now=NOW
        )
    recon.reconciliation_reopen(
        reconciliation=first, actor=users["PARTNER"], reason="Record the January fee", now=NOW
    )
    # January is open again: the fee is recorded in January and matched.
    fee = disburse(
        matter=jan.b, cents=2_500, now=NOW, day=date(2026, 1, 31), disbursement=approved()
    )
    match(jan.lines["L-FEE"], bank_posting(fee, jan.bank))
    second = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    second = recon.reconciliation_sign(reconciliation=second, actor=users["ATTORNEY"], now=NOW)
    first.refresh_from_db()
    assert first.status == ReconciliationStatus.REOPENED
    assert first.reopen_reason == "Record the January fee"
    assert second.previous == first
    assert second.prev_chain_hash == first.chain_hash
    assert second.is_balanced is True
    assert ClosedPeriod.objects.count() == 4  # both kept; the first two inactive
    assert ClosedPeriod.objects.filter(is_active=True).count() == 2
    assert AuditEvent.objects.filter(action="ledger.period_reopened").count() == 2


def test_chain_over_months_and_verify_detects_tampering(users: dict[str, Any]) -> None:
    jan, first = _signed_january(users)
    lines = import_statement(
        jan.bank,
        date(2026, 2, 1),
        FEB_END,
        [(date(2026, 2, 2), 300_000, "Deposit", "F-B"), (date(2026, 2, 11), 100_000, "Dep", "F-C")],
        opening=457_500,
        now=MARCH,
    )
    match(lines["F-B"], bank_posting(jan.entries["b_dep"], jan.bank), now=MARCH)
    match(lines["F-C"], bank_posting(jan.entries["c_dep"], jan.bank), now=MARCH)
    feb = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=FEB_END, actor=users["BILLING"], now=MARCH
    )
    feb = recon.reconciliation_sign(reconciliation=feb, actor=users["PARTNER"], now=MARCH)
    assert feb.previous == first
    assert feb.prev_chain_hash == first.chain_hash

    out = StringIO()
    call_command("verify_reconciliations", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["ok"] for r in rows[:-1]] == [True, True]
    assert rows[-1] == {"checked": 2, "failed": 0, "ok": True}

    report = dict(first.report)
    report["journal_cents"] = 1
    Reconciliation.objects.filter(pk=first.pk).update(report=report)
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_reconciliations", stdout=out)
    assert exit_info.value.code == 1
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    bad = rows[0]
    assert bad["reconciliation"] == first.pk
    assert bad["ok"] is False
    assert "report: the stored report does not hash to report_sha256" in bad["problems"]
    assert rows[-1]["failed"] == 1


def test_cannot_sign_a_month_before_a_signed_one(users: dict[str, Any]) -> None:
    jan, _rec = _signed_january(users)
    with pytest.raises(BankingError, match=r"^period_end: 2026-01-31 is already signed \("):
        recon.reconciliation_prepare(
            bank_account=jan.bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
        )
    with pytest.raises(BankingError, match=r"^period_end: 2026-01-31 is already signed;"):
        recon.reconciliation_prepare(
            bank_account=jan.bank, period_end=date(2025, 12, 31), actor=users["BILLING"], now=NOW
        )
    with pytest.raises(BankingError, match=r"^period_end: 2026-02-28 has not ended yet"):
        recon.reconciliation_prepare(
            bank_account=jan.bank, period_end=FEB_END, actor=users["BILLING"], now=NOW
        )


def test_daily_job_opens_one_task_per_variance_and_unsigned_month(users: dict[str, Any]) -> None:
    from caseledger.matters.models import Task

    jan = january()
    later = datetime(2026, 2, 20, 15, tzinfo=UTC)  # 20 days after January ended
    first = recon.reconciliation_daily(now=later)
    again = recon.reconciliation_daily(now=later)
    assert first == again
    (result,) = first
    assert result.variance_cents == -2_500
    assert result.as_of == "2026-01-31"
    assert result.unsigned_months == ["2026-01"]
    tasks = Task.objects.filter(system_key__startswith="banking.recon_")
    assert sorted(tasks.values_list("system_key", flat=True)) == [
        f"banking.recon_unsigned:{jan.bank.pk}:2026-01",
        f"banking.recon_variance:{jan.bank.pk}:2026-01-31",
    ]
    assert tasks.get(system_key__contains="unsigned").assignee_role == "PARTNER"
    # Done tasks are not opened again for the same month.
    tasks.update(status="DONE", completed_at=later)
    recon.reconciliation_daily(now=later)
    assert Task.objects.filter(system_key__startswith="banking.recon_").count() == 2


def test_a_signed_months_match_cannot_be_undone(users: dict[str, Any]) -> None:
    """The workbench's unmatch asks the reconciliation first (on both engines): a line of a
    signed month keeps its match until a partner reopens the month."""
    from caseledger.banking.match_services import match_remove
    from caseledger.banking.models import LineMatch

    jan, _rec = _signed_january(users)
    line = jan.lines["L-A"]
    with pytest.raises(BankingError, match=r"^line: \d+ is part of a signed reconciliation"):
        match_remove(line=line, actor=users["BILLING"], now=MARCH)
    assert LineMatch.objects.filter(line=line).count() == 1


def test_a_statement_line_in_a_signed_month_is_refused_with_a_message(
    users: dict[str, Any],
) -> None:
    """Importing a late line dated in a signed month: one message naming the line and the
    closed month, nothing stored (not the database trigger's error)."""
    from caseledger.banking.exceptions import StatementRefused
    from caseledger.banking.models import StatementLine

    jan, _rec = _signed_january(users)
    before = StatementLine.objects.count()
    with pytest.raises(
        StatementRefused,
        match=r"^file: a line dated 2026-01-30 \(-700 cents, 'Late fee'\) falls in a month of "
        r".*\(closed through 2026-01-31\)",
    ):
        import_statement(
            jan.bank,
            date(2026, 1, 1),
            date(2026, 2, 10),
            [(date(2026, 1, 30), -700, "Late fee", "L-LATE"), (date(2026, 2, 3), 100, "x", "L-X")],
            opening=0,
        )
    assert StatementLine.objects.count() == before
