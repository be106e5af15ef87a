"""Every refusal of the banking services (accounts, imports, reconciliation) that no other test
checked by its text: each is raised with the message naming the field and the rule, and a
refused call leaves bank accounts, imports, statements, reconciliations, their settings, closed
periods and audit events as they were (``scripts/refusal_coverage.py`` lists them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from caseledger.banking import services
from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import (
    BankAccount,
    BankStatement,
    Reconciliation,
    ReconciliationSettings,
    StatementImport,
)
from caseledger.banking.parsers.csvfile import CsvMapping
from caseledger.banking.reconciliation import services as recon
from caseledger.banking.tests.factories import (
    fixture_bytes,
    operating_bank_account,
    trust_bank_account,
)
from caseledger.banking.tests.reconciliation.helpers import (
    JAN_END,
    JAN_START,
    NOW,
    import_statement,
    january,
)
from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as codes
from caseledger.ledger.models import Account, ClosedPeriod

pytestmark = pytest.mark.django_db

JULY = datetime(2026, 7, 1, 15, tzinfo=UTC)
DEC_START, DEC_END = date(2025, 12, 1), date(2025, 12, 31)


def _state() -> dict[str, Any]:
    return {
        "accounts": list(BankAccount.objects.values().order_by("id")),
        "imports": list(
            StatementImport.objects.values("id", "status", "lines_added").order_by("id")
        ),
        "statements": BankStatement.objects.count(),
        "reconciliations": list(Reconciliation.objects.values().order_by("id")),
        "settings": list(ReconciliationSettings.objects.values().order_by("id")),
        "closed": list(ClosedPeriod.objects.values().order_by("id")),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def refused() -> Callable[..., None]:
    """``refused(call, match=..., **kwargs)``: the call raises BankingError matching ``match``
    and changes nothing."""

    def check(call: Callable[..., Any], *, match: str, **kwargs: Any) -> None:
        before = _state()
        with pytest.raises(BankingError, match=match):
            call(**kwargs)
        assert _state() == before

    return check


def test_bank_account_create_refuses_no_name_no_bank_and_an_unknown_format(users, refused):
    args = {
        "number": "4400123456",
        "ledger_account": Account.objects.get(code=codes.TRUST_BANK),
        "actor": users["ADMIN"],
        "now": NOW,
    }
    refused(
        services.bank_account_create,
        match=r"^name: required$",
        name=" ",
        bank_name="Example Bank",
        formats=["OFX"],
        **args,
    )
    refused(
        services.bank_account_create,
        match=r"^bank_name: required$",
        name="IOLTA",
        bank_name="",
        formats=["OFX"],
        **args,
    )
    refused(
        services.bank_account_create,
        match=r"^formats: unknown format 'PDF'$",
        name="IOLTA",
        bank_name="Example Bank",
        formats=["OFX", "PDF"],
        **args,
    )


def test_bank_account_update_refuses_bad_settings_no_name_and_no_bank(users, refused):
    account = trust_bank_account(NOW)
    args = {
        "bank_account": account,
        "formats": ["OFX"],
        "is_active": True,
        "actor": users["ADMIN"],
        "now": NOW,
    }
    good = {"name": "IOLTA", "bank_name": "Example Bank"}
    refused(
        services.bank_account_update,
        match=r"^match_window_days: must be 0 to 30 days \(got 31\)$",
        match_window_days=31,
        **good,
        **args,
    )
    refused(
        services.bank_account_update,
        match=r"^stale_days: must be 1 to 365 days \(got 0\)$",
        stale_days=0,
        **good,
        **args,
    )
    refused(
        services.bank_account_update,
        match=r"^name: required$",
        name="",
        bank_name="Example Bank",
        **args,
    )
    refused(
        services.bank_account_update,
        match=r"^bank_name: required$",
        name="IOLTA",
        bank_name="  ",
        **args,
    )


def test_csv_mappings_refuse_no_header_and_a_second_confirmation(users, refused):
    account = operating_bank_account(NOW)
    refused(
        services.bank_account_csv_mapping_save,
        match=r"^mapping: the header of the CSV layout is missing$",
        bank_account=account,
        mapping=CsvMapping(date="Date", date_format="%m/%d/%Y", amount="Amount"),
        actor=users["BILLING"],
        now=JULY,
    )
    imp = services.statement_import_queue(
        bank_account=account,
        file_name="x.csv",
        content=fixture_bytes("csv_ambiguous_dates.csv"),
        actor=users["BILLING"],
        now=JULY,
    )
    mapping = CsvMapping(
        date="Date", date_format="%m/%d/%Y", amount="Amount", description="Description"
    )
    # The import job is queued on commit, which the test transaction never reaches.
    services.statement_import_mapping_confirm(
        statement_import=imp, mapping=mapping, actor=users["BILLING"], now=JULY
    )
    refused(
        services.statement_import_mapping_confirm,
        match=rf"^import: import {imp.pk} is Queued, not waiting for a column mapping$",
        statement_import=imp,
        mapping=mapping,
        actor=users["BILLING"],
        now=JULY,
    )


def test_prepare_refuses_a_month_not_over_and_an_account_without_statements(users, refused):
    bank = trust_bank_account(NOW)
    refused(
        recon.reconciliation_prepare,
        match=r"^period_end: 2026-02-15 has not ended yet \(today is 2026-02-15\)$",
        bank_account=bank,
        period_end=date(2026, 2, 15),
        actor=users["BILLING"],
        now=NOW,
    )
    refused(
        recon.reconciliation_prepare,
        match=(
            r"^period_end: no statement of this account ends on or before 2026-01-31; "
            r"import it first$"
        ),
        bank_account=bank,
        period_end=JAN_END,
        actor=users["BILLING"],
        now=NOW,
    )


def test_sign_refuses_a_month_not_prepared_and_an_unexplained_difference(users, refused):
    bank = trust_bank_account(NOW)
    # The first statement opens at $100.00 that no journal entry or item explains.
    import_statement(bank, JAN_START, JAN_END, [], opening=10_000)
    rec = recon.reconciliation_prepare(
        bank_account=bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    refused(
        recon.reconciliation_sign,
        match=(
            r"^reconciliation: \$100\.00 of the difference is not explained by any item; "
            r"find it before signing$"
        ),
        reconciliation=rec,
        actor=users["PARTNER"],
        now=NOW,
    )
    recon.reconciliation_prepare(
        bank_account=bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    refused(
        recon.reconciliation_sign,
        match=r"^reconciliation: it is Discarded \(prepared again\), not waiting for a signature$",
        reconciliation=rec,
        actor=users["PARTNER"],
        now=NOW,
    )


def test_sign_refuses_a_month_before_a_signed_one(users, refused):
    jan = january()
    import_statement(jan.bank, DEC_START, DEC_END, [])
    dec = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=DEC_END, actor=users["BILLING"], now=NOW
    )
    rec = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=NOW)
    refused(
        recon.reconciliation_sign,
        match=(
            r"^period_end: 2026-01-31 is already signed; a month before it cannot be signed now$"
        ),
        reconciliation=dec,
        actor=users["PARTNER"],
        now=NOW,
    )


def test_reopen_refuses_no_reason_a_month_not_signed_and_one_before_the_latest(users, refused):
    jan = january()
    import_statement(jan.bank, DEC_START, DEC_END, [])
    early = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=DEC_END, actor=users["BILLING"], now=NOW
    )
    refused(
        recon.reconciliation_reopen,
        match=(
            r"^reconciliation: it is Prepared, waiting for review; "
            r"only a signed month is reopened$"
        ),
        reconciliation=early,
        actor=users["PARTNER"],
        reason="Correction",
        now=NOW,
    )
    early = recon.reconciliation_sign(reconciliation=early, actor=users["PARTNER"], now=NOW)
    rec = recon.reconciliation_prepare(
        bank_account=jan.bank, period_end=JAN_END, actor=users["BILLING"], now=NOW
    )
    recon.reconciliation_sign(reconciliation=rec, actor=users["PARTNER"], now=NOW)
    refused(
        recon.reconciliation_reopen,
        match=r"^reason: say why the signed month is reopened$",
        reconciliation=rec,
        actor=users["PARTNER"],
        reason="  ",
        now=NOW,
    )
    refused(
        recon.reconciliation_reopen,
        match=(r"^reconciliation: 2026-01-31 is signed after it; reopen the latest month first$"),
        reconciliation=early,
        actor=users["PARTNER"],
        reason="Correction",
        now=NOW,
    )


def test_settings_refuse_a_sign_off_delay_out_of_range(users, refused):
    refused(
        recon.reconciliation_settings_update,
        match=r"^signoff_due_days: must be between 0 and 365 \(got 366\)$",
        signoff_due_days=366,
        actor=users["PARTNER"],
        now=NOW,
    )
