"""Bank accounts and statement imports: checks before storing, idempotency, the job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from caseledger.banking import services
from caseledger.banking.choices import ImportStatus
from caseledger.banking.exceptions import BankingError, StatementRefused
from caseledger.banking.models import BankAccount, BankStatement, StatementImport, StatementLine
from caseledger.banking.parsers.csvfile import CsvMapping
from caseledger.banking.tests.factories import (
    fixture_bytes,
    operating_bank_account,
    trust_bank_account,
)
from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as codes
from caseledger.ledger.models import Account

pytestmark = pytest.mark.django_db

APRIL = datetime(2026, 4, 30, 15, tzinfo=UTC)
JULY = datetime(2026, 7, 1, 15, tzinfo=UTC)


def _nothing_stored() -> None:
    assert not BankStatement.objects.exists()
    assert not StatementLine.objects.exists()


# -- bank accounts ------------------------------------------------------------------------


def test_bank_account_number_encrypted_and_masked(users: dict[str, Any]) -> None:
    account = trust_bank_account(APRIL, users["ADMIN"])
    assert account.number_masked == "••••3456"
    assert account.is_trust is True
    assert account.currency == "USD"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM banking_bankaccount WHERE id = %s", [account.pk])
        stored = cursor.fetchone()[0]
    assert "4400123456" not in stored
    assert BankAccount.objects.get(pk=account.pk).number == "4400123456"
    event = AuditEvent.objects.get(action="banking.account_created")
    assert event.after["number"] == "••••3456"
    assert "4400123456" not in str(event.after)


def test_bank_account_refusals(users: dict[str, Any]) -> None:
    trust_bank_account(APRIL)
    ar = Account.objects.get(code=codes.ACCOUNTS_RECEIVABLE)
    with pytest.raises(BankingError) as exc:
        services.bank_account_create(
            name="AR",
            bank_name="B",
            number="12345678",
            ledger_account=ar,
            formats=[],
            actor=None,
            now=APRIL,
        )
    assert exc.value.message == (
        "ledger_account: must be the operating bank (1000) or a trust bank account "
        "(1010-1099); 1200 is not a bank account"
    )
    with pytest.raises(BankingError) as exc:
        trust_bank_account(APRIL, number="99999999")
    assert exc.value.message == "ledger_account: 1010 is already mapped to bank account IOLTA trust"
    with pytest.raises(BankingError) as exc:
        services.bank_account_create(
            name="Ops",
            bank_name="B",
            number="4400-1234 56",
            ledger_account=Account.objects.get(code=codes.OPERATING_BANK),
            formats=[],
            actor=None,
            now=APRIL,
        )
    assert exc.value.message == "number: another bank account already has this number"
    with pytest.raises(BankingError) as exc:
        services.bank_account_create(
            name="Ops",
            bank_name="B",
            number="12",
            ledger_account=Account.objects.get(code=codes.OPERATING_BANK),
            formats=["PDF"],
            actor=None,
            now=APRIL,
        )
    assert exc.value.message == "number: must have at least 4 letters or digits (got 2)"


def test_bank_account_update_audits_changes(users: dict[str, Any]) -> None:
    account = trust_bank_account(APRIL)
    services.bank_account_update(
        bank_account=account,
        name="IOLTA main",
        bank_name="Example Bank",
        formats=["CAMT053"],
        is_active=True,
        number="4400 555 777",
        actor=users["PARTNER"],
        now=APRIL,
    )
    account.refresh_from_db()
    assert (account.name, account.number, account.number_last4) == (
        "IOLTA main",
        "4400 555 777",
        "5777",
    )
    event = AuditEvent.objects.get(action="banking.account_updated")
    assert event.before == {
        "name": "IOLTA trust",
        "formats": ["CAMT053", "OFX"],
        "number": "••••3456",
    }
    assert event.after == {"name": "IOLTA main", "formats": ["CAMT053"], "number": "••••5777"}


# -- imports ------------------------------------------------------------------------------


def test_camt_import_stores_statements_lines_and_one_event(users: dict[str, Any]) -> None:
    account = trust_bank_account(APRIL)
    result = services.statement_import(
        bank_account=account,
        file_name="march.xml",
        content=fixture_bytes("camt053_v02_two_statements.xml"),
        actor=users["BILLING"],
        now=APRIL,
    )
    imp = result.statement_import
    assert (imp.status, imp.format, imp.statements_count, imp.lines_added) == (
        ImportStatus.DONE,
        "CAMT053",
        2,
        5,
    )
    statements = list(BankStatement.objects.order_by("period_end"))
    assert [(s.opening_cents, s.closing_cents, s.entries) for s in statements] == [
        (1_000_000, 1_379_000, 3),
        (1_379_000, 1_259_087, 2),
    ]
    batch = StatementLine.objects.get(bank_reference="REF-0002")
    assert [d["customer_reference"] for d in batch.details] == ["INV-2026-0041", "INV-2026-0042"]
    interest = StatementLine.objects.get(amount_cents=87)
    assert interest.dedupe_key.startswith("fp:")
    event = AuditEvent.objects.get(action="banking.statement_imported")
    assert event.after["lines_added"] == 5
    assert event.actor_id == users["BILLING"].pk


def test_same_file_twice_refused_and_adds_nothing() -> None:
    account = trust_bank_account(APRIL)
    content = fixture_bytes("camt053_v02_two_statements.xml")
    first = services.statement_import(
        bank_account=account, file_name="a.xml", content=content, actor=None, now=APRIL
    ).statement_import
    with pytest.raises(StatementRefused) as exc:
        services.statement_import(
            bank_account=account, file_name="again.xml", content=content, actor=None, now=APRIL
        )
    assert exc.value.message == (
        f"file: this file was already imported into IOLTA trust on 2026-04-30 (import "
        f"{first.pk}); nothing was added"
    )
    assert StatementLine.objects.count() == 5
    assert StatementImport.objects.count() == 1


def test_overlapping_statement_adds_only_new_lines() -> None:
    account = trust_bank_account(APRIL)
    services.statement_import(
        bank_account=account,
        file_name="march.xml",
        content=fixture_bytes("camt053_v02_two_statements.xml"),
        actor=None,
        now=APRIL,
    )
    imp = services.statement_import(
        bank_account=account,
        file_name="april.xml",
        content=fixture_bytes("camt053_v08_overlap.xml"),
        actor=None,
        now=APRIL,
    ).statement_import
    assert (imp.lines_added, imp.lines_already_imported, imp.statements_count) == (1, 2, 1)
    assert StatementLine.objects.count() == 6
    assert StatementLine.objects.filter(bank_reference="REF-0005").exists()
    # The statement keeps the figures as stated, its entries counted in full.
    st = BankStatement.objects.get(statement_id="STMT-2026-04-X")
    assert (st.closing_cents, st.entries, st.lines.count()) == (1_559_087, 3, 1)


def test_same_lines_in_another_export_add_nothing() -> None:
    account = operating_bank_account(APRIL)
    services.statement_import(
        bank_account=account,
        file_name="ops.sta",
        content=fixture_bytes("mt940_two_statements.sta"),
        actor=None,
        now=APRIL,
    )
    # Same statements, different bytes (line endings): no statement, no line added.
    content = fixture_bytes("mt940_two_statements.sta").replace(b"\n", b"\r\n")
    imp = services.statement_import(
        bank_account=account, file_name="ops-again.sta", content=content, actor=None, now=APRIL
    ).statement_import
    assert (imp.lines_added, imp.lines_already_imported, imp.statements_count) == (0, 5, 0)
    # The two identical SERVICE FEE lines of one statement stay two lines.
    assert StatementLine.objects.filter(description="SERVICE FEE").count() == 2


def test_multi_account_ofx_imports_only_the_chosen_account() -> None:
    account = operating_bank_account(APRIL)
    result = services.statement_import(
        bank_account=account,
        file_name="all.ofx",
        content=fixture_bytes("ofx1_two_accounts_and_card.ofx"),
        actor=None,
        now=APRIL,
    )
    assert [s.account for s in result.checked.statements] == ["4400987654"]
    assert sorted(StatementLine.objects.values_list("bank_reference", flat=True)) == [
        "O-20260320-1",
        "O-20260331-1",
    ]


def test_bai2_import() -> None:
    account = operating_bank_account(APRIL)
    imp = services.statement_import(
        bank_account=account,
        file_name="bai.txt",
        content=fixture_bytes("bai2_continuation.bai"),
        actor=None,
        now=APRIL,
    ).statement_import
    assert (imp.format, imp.lines_added) == ("BAI2", 4)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "camt053_unbalanced.xml",
            "balance: statement STMT-BAD does not balance: opening 1,000.00 + credits 100.00 - "
            "debits 0.00 = 1,100.00, but the closing balance is 1,150.00 (difference 50.00)",
        ),
        (
            "ofx2_operating.ofx",
            "account: the file is for account ••••7654, not for ••••3456 (IOLTA trust); choose "
            "that bank account or export this one's statement",
        ),
        (
            "bai2_bad_control_total.bai",
            "file: BAI2 control totals do not agree (Invalid account control total for "
            "Account. expected 5713100, found 5713000)",
        ),
        (
            "csv_ambiguous_dates.csv",
            "date: the dates in column 'Date' read in more than one way (%m/%d/%Y or %d/%m/%Y; "
            "e.g. '01/02/2026'); save a column mapping with the date format for this account "
            "first",
        ),
    ],
)
def test_refusals_store_nothing(name: str, message: str) -> None:
    account = trust_bank_account(APRIL)
    with pytest.raises(StatementRefused) as exc:
        services.statement_import(
            bank_account=account, file_name=name, content=fixture_bytes(name), actor=None, now=APRIL
        )
    assert exc.value.message == message
    _nothing_stored()
    assert not StatementImport.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="banking.statement").exists()


def test_other_currency_refused() -> None:
    account = trust_bank_account(APRIL)
    content = fixture_bytes("camt053_v02_two_statements.xml").replace(b"USD", b"EUR")
    with pytest.raises(StatementRefused) as exc:
        services.statement_import(
            bank_account=account, file_name="eur.xml", content=content, actor=None, now=APRIL
        )
    assert exc.value.message == (
        "currency: statement STMT-2026-03-A is in EUR, the bank account IOLTA trust in USD"
    )
    _nothing_stored()


def test_future_dated_refused() -> None:
    account = trust_bank_account(APRIL)
    early = datetime(2026, 3, 20, 12, tzinfo=UTC)
    with pytest.raises(StatementRefused) as exc:
        services.statement_import(
            bank_account=account,
            file_name="x.xml",
            content=fixture_bytes("camt053_v02_two_statements.xml"),
            actor=None,
            now=early,
        )
    assert exc.value.message.startswith("date: statement STMT-2026-03-B is dated 2026-03-31")
    _nothing_stored()


def test_inactive_account_refused() -> None:
    account = trust_bank_account(APRIL)
    services.bank_account_update(
        bank_account=account,
        name=account.name,
        bank_name=account.bank_name,
        formats=[],
        is_active=False,
        actor=None,
        now=APRIL,
    )
    account.refresh_from_db()
    with pytest.raises(BankingError) as exc:
        services.statement_import(
            bank_account=account,
            file_name="x.xml",
            content=fixture_bytes("camt053_v02_two_statements.xml"),
            actor=None,
            now=APRIL,
        )
    assert exc.value.message == "account: bank account IOLTA trust is inactive"


# -- the job ------------------------------------------------------------------------------


def test_queued_import_runs_as_job_with_progress(
    users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    account = trust_bank_account(APRIL)
    with django_capture_on_commit_callbacks(execute=True):
        imp = services.statement_import_queue(
            bank_account=account,
            file_name="march.xml",
            content=fixture_bytes("camt053_v02_two_statements.xml"),
            actor=users["BILLING"],
            now=APRIL,
        )
        assert imp.status == ImportStatus.QUEUED
    imp.refresh_from_db()
    assert (imp.status, imp.phase, imp.progress_done, imp.progress_total, imp.percent) == (
        ImportStatus.DONE,
        "FINISHED",
        2,
        2,
        100,
    )
    assert imp.lines_added == 5
    # A second run of the job (a retry) finds the import taken and does nothing.
    assert services.statement_import_run(import_id=imp.pk, now=APRIL) is None
    assert StatementLine.objects.count() == 5


def test_queued_import_refused_by_the_job_keeps_only_the_message(
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = trust_bank_account(APRIL)
    with django_capture_on_commit_callbacks(execute=True):
        imp = services.statement_import_queue(
            bank_account=account,
            file_name="bad.xml",
            content=fixture_bytes("camt053_unbalanced.xml"),
            actor=None,
            now=APRIL,
        )
    imp.refresh_from_db()
    assert imp.status == ImportStatus.REFUSED
    assert imp.error.startswith("balance: statement STMT-BAD does not balance")
    assert bytes(imp.content) == b""
    _nothing_stored()
    assert AuditEvent.objects.filter(action="banking.import_refused").count() == 1


def test_queue_refuses_unknown_format_and_duplicate_at_once() -> None:
    account = trust_bank_account(APRIL)
    with pytest.raises(StatementRefused) as exc:
        services.statement_import_queue(
            bank_account=account, file_name="s.pdf", content=b"%PDF-1.4", actor=None, now=APRIL
        )
    assert exc.value.message.startswith("file: unknown statement format (a PDF document)")
    content = fixture_bytes("camt053_v02_two_statements.xml")
    services.statement_import(
        bank_account=account, file_name="a.xml", content=content, actor=None, now=APRIL
    )
    with pytest.raises(StatementRefused) as exc:
        services.statement_import_queue(
            bank_account=account, file_name="a.xml", content=content, actor=None, now=APRIL
        )
    assert "was already imported" in exc.value.message
    assert StatementImport.objects.count() == 1


def test_csv_first_import_waits_for_mapping_then_imports(
    users: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    account = operating_bank_account(APRIL)
    content = fixture_bytes("csv_ambiguous_dates.csv")
    imp = services.statement_import_queue(
        bank_account=account, file_name="x.csv", content=content, actor=users["BILLING"], now=JULY
    )
    assert imp.status == ImportStatus.NEEDS_MAPPING
    mapping = CsvMapping(
        date="Date", date_format="%m/%d/%Y", amount="Amount", description="Description"
    )
    preview = services.csv_preview(statement_import=imp, mapping=mapping)
    assert [line.amount_cents for line in preview.lines] == [10_000, -4_000, -150]
    _nothing_stored()
    with django_capture_on_commit_callbacks(execute=True):
        services.statement_import_mapping_confirm(
            statement_import=imp, mapping=mapping, actor=users["BILLING"], now=JULY
        )
    imp.refresh_from_db()
    assert (imp.status, imp.lines_added) == (ImportStatus.DONE, 3)
    account.refresh_from_db()
    assert account.csv_mapping["date_format"] == "%m/%d/%Y"
    assert account.csv_mapping["header"] == ["Date", "Description", "Amount"]
    # The next file of this layout imports straight away with the saved mapping.
    more = content.replace(b"05/06/2026,Fee,-1.50", b"05/07/2026,Fee,-2.50")
    with django_capture_on_commit_callbacks(execute=True):
        nxt = services.statement_import_queue(
            bank_account=account, file_name="y.csv", content=more, actor=None, now=JULY
        )
    nxt.refresh_from_db()
    assert (nxt.status, nxt.lines_added, nxt.lines_already_imported) == (ImportStatus.DONE, 1, 2)


def test_mapping_confirm_refuses_a_mapping_that_does_not_read() -> None:
    account = operating_bank_account(APRIL)
    imp = services.statement_import_queue(
        bank_account=account,
        file_name="x.csv",
        content=fixture_bytes("csv_ambiguous_dates.csv"),
        actor=None,
        now=APRIL,
    )
    mapping = CsvMapping(date="Date", date_format="%Y-%m-%d", amount="Amount")
    with pytest.raises(StatementRefused) as exc:
        services.statement_import_mapping_confirm(
            statement_import=imp, mapping=mapping, actor=None, now=APRIL
        )
    assert exc.value.message == "date: row 2: '01/02/2026' is not a date in the format %Y-%m-%d"
    imp.refresh_from_db()
    assert imp.status == ImportStatus.NEEDS_MAPPING
