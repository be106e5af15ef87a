"""Resolving a line with nothing behind it: each kind posts through the ledger, balanced, with an
audit event and the line matched to its posting; a refusal writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from caseledger.banking import resolutions
from caseledger.banking.choices import Resolution
from caseledger.banking.exceptions import BankingError
from caseledger.banking.models import LineMatch
from caseledger.banking.parsers.base import ParsedLine
from caseledger.banking.tests.factories import (
    import_lines,
    operating_bank_account,
    trust_bank_account,
)
from caseledger.core.models import AuditEvent
from caseledger.ledger import accounts as codes
from caseledger.ledger.models import JournalEntry, Posting
from caseledger.ledger.selectors import account_balance, ledger_verify

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 15, tzinfo=UTC)
D = date(2026, 10, 31)


def _nothing_written() -> None:
    assert not JournalEntry.objects.exists()
    assert not LineMatch.objects.exists()
    assert not AuditEvent.objects.filter(action="banking.line_resolved").exists()


def test_iolta_interest_goes_to_the_bar_foundation_liability(users: dict[str, Any]) -> None:
    account = trust_bank_account(NOW)
    (line,) = import_lines(account, [ParsedLine(D, 112, "Interest", code="ACMT/MDOP/INTR")], NOW)
    (m,) = resolutions.line_resolve(
        line=line, kind=Resolution.INTEREST, actor=users["BILLING"], now=NOW
    )
    assert m.method == "resolved"
    assert m.amount_cents == 112
    assert m.posting.account.code == codes.TRUST_BANK
    assert account_balance(code=codes.IOLTA_INTEREST_PAYABLE) == 112
    assert account_balance(code=codes.CLIENT_TRUST_LIABILITY) == 0
    assert account_balance(code=codes.FEE_REVENUE) == 0
    assert ledger_verify() == []
    event = AuditEvent.objects.get(action="banking.line_resolved")
    assert event.after["kind"] == "INTEREST"
    assert event.after["postings"] == [m.posting_id]
    with pytest.raises(BankingError, match=f"line: line {line.pk} already has matches"):
        resolutions.line_resolve(
            line=line, kind=Resolution.INTEREST, actor=users["BILLING"], now=NOW
        )
    assert JournalEntry.objects.count() == 1


def test_trust_bank_fee_is_borne_by_the_firm_and_replaced_from_operating(
    users: dict[str, Any],
) -> None:
    account = trust_bank_account(NOW)
    (line,) = import_lines(account, [ParsedLine(D, -2_500, "Wire fee")], NOW)
    (m,) = resolutions.line_resolve(
        line=line, kind=Resolution.BANK_FEE, actor=users["BILLING"], now=NOW
    )
    assert m.posting.amount_cents == -2_500
    assert m.posting.account.code == codes.TRUST_BANK
    entry = m.posting.entry
    got = sorted(entry.postings.values_list("account__code", "amount_cents"))
    assert got == [
        (codes.OPERATING_BANK, -2_500),
        (codes.TRUST_BANK, -2_500),
        (codes.TRUST_BANK, 2_500),
        (codes.BANK_SERVICE_CHARGES, 2_500),
    ]
    # Trust bank is unchanged in the books (the replacement is in transit), the firm paid.
    assert account_balance(code=codes.TRUST_BANK) == 0
    assert account_balance(code=codes.BANK_SERVICE_CHARGES) == 2_500
    assert ledger_verify() == []
    replacement = Posting.objects.get(
        entry=entry, account__code=codes.TRUST_BANK, amount_cents=2_500
    )
    assert not LineMatch.objects.filter(posting=replacement).exists()
    event = AuditEvent.objects.get(action="banking.line_resolved")
    assert event.after["flag"] == "replace_from_operating"


def test_operating_fee(users: dict[str, Any]) -> None:
    account = operating_bank_account(NOW)
    (line,) = import_lines(account, [ParsedLine(D, -1_500, "SERVICE FEE")], NOW)
    resolutions.line_resolve(
        line=line, kind=Resolution.OPERATING_FEE, actor=users["BILLING"], now=NOW
    )
    assert account_balance(code=codes.BANK_SERVICE_CHARGES) == 1_500
    assert account_balance(code=codes.OPERATING_BANK) == -1_500


def test_refusals_write_nothing(users: dict[str, Any]) -> None:
    trust = trust_bank_account(NOW)
    operating = operating_bank_account(NOW)
    (out,) = import_lines(trust, [ParsedLine(D, -700, "Fee")], NOW)
    (op_in,) = import_lines(operating, [ParsedLine(D, 900, "Interest")], NOW, statement_id="S2")
    with pytest.raises(BankingError, match=r"kind: Bank interest .* is money into the account"):
        resolutions.line_resolve(line=out, kind=Resolution.INTEREST, actor=None, now=NOW)
    with pytest.raises(BankingError, match=r"kind: Bank interest .* applies to a trust"):
        resolutions.line_resolve(line=op_in, kind=Resolution.INTEREST, actor=None, now=NOW)
    with pytest.raises(BankingError, match=r"kind: Bank fee on the operating .* operating account"):
        resolutions.line_resolve(line=out, kind=Resolution.OPERATING_FEE, actor=None, now=NOW)
    with pytest.raises(BankingError, match=r"kind: unknown resolution 'GIFT'"):
        resolutions.line_resolve(line=out, kind="GIFT", actor=None, now=NOW)
    _nothing_written()
