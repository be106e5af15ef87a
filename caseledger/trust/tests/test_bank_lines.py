"""Trust's resolutions of bank statement lines (registered with banking.hooks): a returned
deposit reverses the trust receipt; a card payout clears the card deposits it pays out."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from caseledger.banking import resolutions
from caseledger.banking.choices import Resolution
from caseledger.banking.models import LineMatch
from caseledger.banking.parsers.base import ParsedLine
from caseledger.banking.tests.factories import import_lines, trust_bank_account
from caseledger.core.models import AuditEvent
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.selectors import client_trust_balance, ledger_verify
from caseledger.payments.tests.factories import MatterFactory
from caseledger.trust import services
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import TrustSettings

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _quiet() -> None:
    TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})


def _deposit(matter: Any, now: Any, cents: int, method: str = "CHECK", **kw: Any) -> Any:
    return services.deposit_record(
        client=matter.client,
        matter=matter,
        method=method,
        payer="Lopez",
        reference="CHK 3301",
        amount_cents=cents,
        received_date=DAY,
        actor=None,
        now=now,
        **kw,
    )


def test_returned_deposit_reverses_the_receipt_and_matches_the_line(users, now) -> None:
    m = MatterFactory()
    d = _deposit(m, now, 50_000)
    account = trust_bank_account(now)
    (line,) = import_lines(account, [ParsedLine(DAY + timedelta(days=3), -50_000, "RETURN")], now)
    (match,) = resolutions.line_resolve(
        line=line, kind=Resolution.RETURNED_DEPOSIT, target_id=d.pk, actor=users["BILLING"], now=now
    )
    assert client_trust_balance(client=m.client, matter=m) == 0
    assert match.posting.entry.reverses_id == d.entry_id
    assert ledger_verify() == []
    assert AuditEvent.objects.filter(action="trust.deposit_reversed").count() == 1
    assert AuditEvent.objects.filter(action="banking.line_resolved").count() == 1


def test_returned_deposit_of_another_amount_writes_nothing(users, now) -> None:
    m = MatterFactory()
    d = _deposit(m, now, 50_000)
    account = trust_bank_account(now)
    (line,) = import_lines(account, [ParsedLine(DAY + timedelta(days=3), -40_000, "RETURN")], now)
    entries = JournalEntry.objects.count()
    with pytest.raises(TrustError, match=r"target: .* is \$500.00; the returned item is \$400.00"):
        resolutions.line_resolve(
            line=line,
            kind=Resolution.RETURNED_DEPOSIT,
            target_id=d.pk,
            actor=users["BILLING"],
            now=now,
        )
    assert JournalEntry.objects.count() == entries
    assert not LineMatch.objects.exists()


def test_card_payout_clears_the_card_deposits(users, now) -> None:
    m = MatterFactory()
    a = _deposit(m, now, 30_000, method="CARD")
    b = _deposit(m, now, 20_000, method="CARD")
    assert a.clears_on is None
    assert b.clears_on is None
    account = trust_bank_account(now)
    payout_day = DAY + timedelta(days=2)
    (line,) = import_lines(account, [ParsedLine(payout_day, 50_000, "CARD PAYOUT")], now)
    matches = resolutions.line_resolve(
        line=line, kind=Resolution.CARD_PAYOUT, actor=users["BILLING"], now=now
    )
    assert sum(x.amount_cents for x in matches) == 50_000
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.clears_on == payout_day
    assert b.clears_on == payout_day
    assert JournalEntry.objects.count() == 2  # clearing posts nothing


def test_returned_deposit_above_the_threshold_waits_for_another_partner(
    users, now, make_user
) -> None:
    from caseledger.payments.models import CorrectionSettings
    from caseledger.trust import corrections
    from caseledger.trust.models import DepositReversal

    CorrectionSettings.objects.update_or_create(id=1, defaults={"reversal_approval_cents": 10_000})
    m = MatterFactory()
    d = _deposit(m, now, 50_000)
    account = trust_bank_account(now)
    (line,) = import_lines(account, [ParsedLine(DAY + timedelta(days=3), -50_000, "NSF")], now)
    partner = users["PARTNER"]
    pending = resolutions.line_resolve(
        line=line, kind=Resolution.RETURNED_DEPOSIT, target_id=d.pk, actor=partner, now=now
    )
    assert pending == []
    reversal = DepositReversal.objects.get(deposit=d)
    assert reversal.status == "REQUESTED"
    assert reversal.bank_line_id == line.pk
    assert not LineMatch.objects.exists()
    assert client_trust_balance(client=m.client, matter=m) == 50_000
    assert AuditEvent.objects.filter(action="banking.line_resolution_pending").count() == 1
    # The requester may not approve; a billing user is no partner.
    with pytest.raises(TrustError, match="approver"):
        corrections.deposit_reversal_approve(reversal=reversal, approver=partner, now=now)
    with pytest.raises(TrustError, match="approver"):
        corrections.deposit_reversal_approve(reversal=reversal, approver=users["BILLING"], now=now)
    other = make_user("PARTNER")
    corrections.deposit_reversal_approve(reversal=reversal, approver=other, now=now)
    reversal.refresh_from_db()
    assert reversal.status == "POSTED"
    (match,) = LineMatch.objects.filter(line=line)
    assert match.posting.entry_id == reversal.entry_id
    assert match.method == "resolved"
    assert match.matched_by == other
    assert client_trust_balance(client=m.client, matter=m) == 0
    assert ledger_verify() == []
