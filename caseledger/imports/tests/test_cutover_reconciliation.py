"""The cutover's proof ends in the firm's first three-way reconciliation: finalize starts the trust
bank's books on the cutover date (the entered balance as an opening statement, or the statement
imported for that day) and prepares the reconciliation as of it, balanced, with nothing in
transit or unrecorded; another lawyer signs it; the next month reconciles from it; a refused
finalize leaves nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from caseledger.banking import selectors as banking_selectors
from caseledger.banking.exceptions import BankingError
from caseledger.banking.match_services import match_manual
from caseledger.banking.models import BankAccount, BankStatement, Reconciliation, StatementLine
from caseledger.banking.reconciliation import services as recon
from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.banking.reconciliation.selectors import month_statuses
from caseledger.banking.tests.factories import trust_bank_account
from caseledger.banking.tests.reconciliation.helpers import import_statement
from caseledger.core import clock
from caseledger.core.models import AuditEvent
from caseledger.imports import services
from caseledger.imports.exceptions import CutoverRefused
from caseledger.imports.models import Cutover
from caseledger.imports.tests.test_services import fixture, run
from caseledger.ledger.models import ClosedPeriod, JournalEntry
from caseledger.ledger.tests.helpers import deposit
from caseledger.matters.models import Matter

pytestmark = pytest.mark.django_db

JUNE_END = date(2025, 6, 30)
JULY_END = date(2025, 7, 31)
TRUST = 400_000  # cents: the caseledger template's trust balances (1,500 + 500 + 2,000)


def _cutover(now: Any, users: dict[str, Any], *, as_of: date = JUNE_END, bank: bool = True) -> Any:
    """The caseledger template imported (trust 4,000.00 over three matters, credit 250.00),
    the trust bank account recorded (unless ``bank`` is False) and the cutover figures saved."""
    assert run("caseledger", fixture("caseledger", drop=(5,)), now)["errors"] == []
    if bank:
        trust_bank_account(now)
    return services.cutover_save(
        as_of=as_of, trust_bank_cents=TRUST, aging_total_cents=0, actor=users["PARTNER"], now=now
    )


def _nothing_written() -> None:
    assert Cutover.objects.get().status == "DRAFT"
    assert not JournalEntry.objects.exists()
    assert not BankStatement.objects.filter(format="OPENING").exists()
    assert not Reconciliation.objects.exists()
    assert not BankAccount.objects.filter(books_start__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="banking.books_opened").exists()


def test_finalize_starts_the_trust_books_and_prepares_a_balanced_reconciliation(
    now: Any, users: dict[str, Any]
) -> None:
    partner = users["PARTNER"]
    cutover = services.cutover_finalize(cutover=_cutover(now, users), actor=partner, now=now)

    bank = BankAccount.objects.get()
    assert bank.books_start == JUNE_END
    statement = BankStatement.objects.get()
    assert cutover.bank_statement == statement
    assert (statement.format, statement.period_start, statement.period_end) == (
        "OPENING",
        JUNE_END,
        JUNE_END,
    )
    assert (statement.opening_cents, statement.closing_cents, statement.entries) == (
        TRUST,
        TRUST,
        0,
    )
    assert not StatementLine.objects.exists()

    rec = Reconciliation.objects.get()
    assert (rec.status, rec.period_end, rec.prepared_by) == ("PREPARED", JUNE_END, partner)
    assert rec.is_balanced
    figures = (
        rec.statement_balance_cents,
        rec.adjusted_bank_cents,
        rec.journal_cents,
        rec.client_total_cents,
    )
    assert figures == (TRUST, TRUST, TRUST, TRUST)
    report = rec.report
    assert report["deposits_in_transit"] == report["outstanding"] == report["unrecorded"] == []
    assert (report["unexplained_cents"], report["books_start"]) == (0, "2025-06-30")
    assert sorted(c[2] for c in report["clients"]) == [50_000, 150_000, 200_000]
    assert report["client_differences"] == []

    # The opening entry is the books' balance, not a movement waiting for a bank line.
    assert not banking_selectors.postings_open(bank).exists()
    assert banking_selectors.match_suggestions(bank) == []
    events = AuditEvent.objects.filter(action="imports.cutover_finalized").get()
    assert events.after["bank_statement"] == statement.pk
    assert events.after["reconciliation"] == rec.pk
    assert AuditEvent.objects.filter(action="banking.books_opened").count() == 1
    assert AuditEvent.objects.filter(action="banking.reconciliation_prepared").count() == 1


def test_another_lawyer_signs_it_the_preparer_may_not(
    now: Any, users: dict[str, Any], client: Any, login: Any
) -> None:
    services.cutover_finalize(cutover=_cutover(now, users), actor=users["PARTNER"], now=now)
    rec = Reconciliation.objects.get()
    with pytest.raises(BankingError) as refused:
        recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=now)
    assert refused.value.message == recon.SIGNER_IS_PREPARER.format(who=users["PARTNER"])

    login(users["PARTNER"])
    page = client.get(reverse("imports:cutover")).content.decode()
    assert "Waiting for a partner or attorney other than" in page
    assert f"?date={JUNE_END.isoformat()}" in page

    signed = recon.reconciliation_sign(reconciliation=rec, actor=users["ATTORNEY"], now=now)
    assert (signed.status, signed.signed_by) == ("SIGNED", users["ATTORNEY"])
    closed = ClosedPeriod.objects.filter(is_active=True).values_list(
        "account__code", "closed_through"
    )
    assert sorted(closed) == [("1010", JUNE_END), ("2100", JUNE_END)]
    page = client.get(reverse("imports:cutover")).content.decode()
    assert "The firm's first three-way reconciliation" in page
    assert f"signed by {users['ATTORNEY']}" in page
    assert reverse("banking:reconciliation_pdf", args=[rec.pk]) in page
    out = StringIO()
    call_command("verify", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["verify"] == "ok"


def test_a_cutover_dated_today_is_prepared_from_the_next_day(
    now: Any, users: dict[str, Any]
) -> None:
    today = clock.firm_date(now)
    cutover = _cutover(now, users, as_of=today)
    cutover = services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    assert cutover.bank_statement is not None
    assert not Reconciliation.objects.exists()
    with pytest.raises(BankingError) as refused:
        services.cutover_reconciliation_prepare(cutover=cutover, actor=users["BILLING"], now=now)
    assert refused.value.message == recon.PERIOD_IN_FUTURE.format(
        day=today.isoformat(), today=today.isoformat()
    )
    assert not Reconciliation.objects.exists()

    tomorrow = now + timedelta(days=1)
    rec = services.cutover_reconciliation_prepare(
        cutover=cutover, actor=users["BILLING"], now=tomorrow
    )
    assert (rec.period_end, rec.prepared_by, rec.is_balanced) == (today, users["BILLING"], True)
    with pytest.raises(CutoverRefused) as again:
        services.cutover_reconciliation_prepare(
            cutover=cutover, actor=users["BILLING"], now=tomorrow
        )
    assert again.value.message == services.CUTOVER_RECONCILIATION_LIVE.format(
        as_of=today.isoformat(), status="prepared, waiting for review"
    )
    signed = recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=tomorrow)
    assert signed.status == "SIGNED"


def test_the_cutover_page_offers_to_prepare_once_the_day_is_over(
    users: dict[str, Any], client: Any, login: Any
) -> None:
    # Finalized on the cutover day itself (nothing prepared then); the day is over now.
    on_the_day = clock.now().replace(year=2025, month=6, day=30, hour=16)
    cutover = _cutover(on_the_day, users)
    services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=on_the_day)
    assert not Reconciliation.objects.exists()
    login(users["ADMIN"])
    page = client.get(reverse("imports:cutover")).content.decode()
    assert "Prepare the cutover reconciliation" in page
    response = client.post(reverse("imports:cutover_reconciliation_prepare"), follow=True)
    assert "Cutover reconciliation prepared" in response.content.decode()
    rec = Reconciliation.objects.get()
    assert (rec.prepared_by, rec.is_balanced) == (users["ADMIN"], True)
    assert "Prepare the cutover reconciliation" not in response.content.decode()


def test_the_cutover_page_says_when_today_s_cutover_can_be_prepared(
    users: dict[str, Any], client: Any, login: Any
) -> None:
    cutover = _cutover(clock.now(), users, as_of=clock.firm_today())
    services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=clock.now())
    login(users["PARTNER"])
    page = client.get(reverse("imports:cutover")).content.decode()
    assert "can be prepared once that day is over" in page
    assert "Prepare the cutover reconciliation" not in page


def test_a_statement_imported_for_the_cutover_date_is_the_bank_side(
    now: Any, users: dict[str, Any]
) -> None:
    cutover = _cutover(now, users)
    bank = BankAccount.objects.get()
    # The bank's June statement: the old system's month, 2,500.00 brought in, 4,000.00 out.
    import_statement(
        bank,
        date(2025, 6, 1),
        JUNE_END,
        [
            (date(2025, 6, 10), 200_000, "Retainer wire", "J-1"),
            (date(2025, 6, 20), -50_000, "USCIS fee", "J-2"),
        ],
        opening=250_000,
        now=now,
    )
    imported = BankStatement.objects.get()
    cutover = services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    assert BankStatement.objects.get() == imported  # used, not duplicated
    assert cutover.bank_statement == imported
    rec = Reconciliation.objects.get()
    assert rec.is_balanced
    assert rec.report["statement"]["id"] == imported.pk
    assert rec.report["unrecorded"] == rec.report["deposits_in_transit"] == []
    assert rec.adjusted_bank_cents == rec.journal_cents == rec.client_total_cents == TRUST
    # The old system's June lines are history: never offered for matching.
    bank.refresh_from_db()
    assert not banking_selectors.lines_open(bank).exists()
    signed = recon.reconciliation_sign(reconciliation=rec, actor=users["ATTORNEY"], now=now)
    assert signed.status == "SIGNED"


def test_a_statement_of_the_cutover_date_that_closes_elsewhere_refuses_finalize(
    now: Any, users: dict[str, Any]
) -> None:
    cutover = _cutover(now, users)
    bank = BankAccount.objects.get()
    import_statement(
        bank, date(2025, 6, 1), JUNE_END, [(date(2025, 6, 10), 390_000, "Wire", "J-1")], now=now
    )
    proof = services.cutover_proof(cutover)
    assert (proof.trust_ties, proof.bank_ties, proof.ok) == (True, False, False)
    with pytest.raises(CutoverRefused) as refused:
        services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    assert refused.value.message == (
        "trust_bank: the statement of IOLTA trust imported for 2025-06-30 closes at $3,900.00 "
        "but the trust bank balance entered is $4,000.00; they must be equal"
    )
    assert refused.value.field == "trust_bank_cents"
    assert BankStatement.objects.count() == 1
    _nothing_written()


def test_refused_finalize_leaves_no_statement_and_no_reconciliation(
    now: Any, users: dict[str, Any]
) -> None:
    # Trust money but no trust bank account to reconcile.
    cutover = _cutover(now, users, bank=False)
    with pytest.raises(CutoverRefused) as refused:
        services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    assert refused.value.message == services.CUTOVER_NO_BANK.format(code="1010")
    _nothing_written()
    # With the account, but trust balances that do not tie.
    trust_bank_account(now)
    cutover = services.cutover_save(
        as_of=JUNE_END,
        trust_bank_cents=TRUST - 1,
        aging_total_cents=0,
        actor=users["PARTNER"],
        now=now,
    )
    with pytest.raises(CutoverRefused, match="^trust_bank: imported trust balances sum to"):
        services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    _nothing_written()
    with pytest.raises(CutoverRefused) as early:
        services.cutover_reconciliation_prepare(cutover=cutover, actor=users["PARTNER"], now=now)
    assert early.value.message == services.CUTOVER_NOT_FINALIZED
    _nothing_written()


def test_a_firm_without_trust_has_no_reconciliation_to_make(
    now: Any, users: dict[str, Any], client: Any, login: Any
) -> None:
    cutover = services.cutover_save(
        as_of=JUNE_END, trust_bank_cents=0, aging_total_cents=0, actor=users["PARTNER"], now=now
    )
    cutover = services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    assert cutover.bank_statement is None
    assert not Reconciliation.objects.exists()
    with pytest.raises(CutoverRefused) as refused:
        services.cutover_reconciliation_prepare(cutover=cutover, actor=users["PARTNER"], now=now)
    assert refused.value.message == services.CUTOVER_NO_BANK_SIDE
    login(users["PARTNER"])
    page = client.get(reverse("imports:cutover")).content.decode()
    assert "there is no three-way reconciliation to make" in page


def test_the_next_month_reconciles_from_the_cutover(now: Any, users: dict[str, Any]) -> None:
    cutover = _cutover(now, users)
    bank = BankAccount.objects.get()
    # A statement of May (before the cutover): the old system's history, not a month to sign.
    import_statement(
        bank, date(2025, 5, 1), date(2025, 5, 31), [(date(2025, 5, 5), 300_000, "Old", "M-1")]
    )
    services.cutover_finalize(cutover=cutover, actor=users["PARTNER"], now=now)
    june = Reconciliation.objects.get()
    recon.reconciliation_sign(reconciliation=june, actor=users["ATTORNEY"], now=now)
    bank.refresh_from_db()

    matter = Matter.objects.get(number="L-T-1")
    entry = deposit(matter=matter, cents=150_000, now=now, day=date(2025, 7, 10))
    lines = import_statement(
        bank,
        date(2025, 7, 1),
        JULY_END,
        [(date(2025, 7, 11), 150_000, "Retainer wire", "JUL-1")],
        opening=TRUST,
        now=now,
    )
    match_manual(
        bank_account=bank,
        line=lines["JUL-1"],
        posting_ids=[entry.postings.get(account=bank.ledger_account).pk],
        actor=users["BILLING"],
        now=now,
    )
    july = recon.reconciliation_prepare(
        bank_account=bank, period_end=JULY_END, actor=users["BILLING"], now=now
    )
    assert july.is_balanced
    assert (july.statement_balance_cents, july.journal_cents, july.client_total_cents) == (
        TRUST + 150_000,
        TRUST + 150_000,
        TRUST + 150_000,
    )
    assert july.report["unrecorded"] == july.report["deposits_in_transit"] == []
    full = reconciliation_compute(bank_account=bank, as_of=JULY_END, use_checkpoint=False)
    assert full.sha256 == july.report_sha256
    recon.reconciliation_sign(reconciliation=july, actor=users["PARTNER"], now=now)

    months = month_statuses(bank, clock.firm_date(now), limit=100)
    assert months[-1].period_end == JUNE_END  # from the cutover, not from May's statement
    assert [m.status for m in months[-2:]] == ["SIGNED", "SIGNED"]
    with pytest.raises(BankingError) as before:
        recon.reconciliation_prepare(
            bank_account=bank, period_end=date(2025, 5, 31), actor=users["BILLING"], now=now
        )
    assert before.value.message == recon.BEFORE_BOOKS.format(name="IOLTA trust", start="2025-06-30")
    out = StringIO()
    call_command("verify_reconciliations", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1]) == {"checked": 2, "failed": 0, "ok": True}


def test_a_firm_with_a_signed_cutover_exports_and_reimports_and_verifies(
    now: Any, users: dict[str, Any], tmp_path: Path
) -> None:
    from caseledger.imports.tests.test_firm_import import _counts, _export, _wipe

    services.cutover_finalize(cutover=_cutover(now, users), actor=users["PARTNER"], now=now)
    rec = recon.reconciliation_sign(
        reconciliation=Reconciliation.objects.get(), actor=users["ATTORNEY"], now=now
    )
    path = _export(tmp_path / "firm.zip")
    counts = _counts()
    _wipe()
    out = StringIO()
    call_command("import_firm", str(path), stdout=out)
    line = json.loads(out.getvalue().splitlines()[-1])
    assert (line["verify"], line["problems"]) == ("ok", 0), out.getvalue()
    assert line["tables"] == counts
    assert BankAccount.objects.get().books_start == JUNE_END
    assert Cutover.objects.get().bank_statement == BankStatement.objects.get()
    assert Reconciliation.objects.get().chain_hash == rec.chain_hash
