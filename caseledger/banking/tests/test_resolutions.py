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


def _card_payment(amount: int, day: date, matter: Any) -> Posting:
    """A card payment received into operating (gross), as payments records it."""
    from caseledger.ledger.choices import EntryKind
    from caseledger.ledger.services import PostingLine, entry_post

    entry = entry_post(
        kind=EntryKind.PAYMENT_RECEIVED,
        entry_date=day,
        memo="Card payment",
        lines=[
            PostingLine(codes.OPERATING_BANK, amount),
            PostingLine(
                codes.UNAPPLIED_CLIENT_CREDITS, -amount, client=matter.client, matter=matter
            ),
        ],
        actor=None,
        now=NOW,
    )
    return entry.postings.get(account__code=codes.OPERATING_BANK)


def test_card_payout_net_of_fee_posts_the_fee_on_operating(users: dict[str, Any]) -> None:
    from caseledger.ledger.tests.factories import make_matter

    matter = make_matter()
    account = operating_bank_account(NOW)
    p1 = _card_payment(10_000, date(2026, 10, 28), matter)
    p2 = _card_payment(5_000, date(2026, 10, 29), matter)
    (line,) = import_lines(account, [ParsedLine(D, 14_520, "STRIPE PAYOUT")], NOW)
    rows = resolutions.line_resolve(
        line=line,
        kind=Resolution.CARD_PAYOUT_NET,
        payment_ids=[p1.pk, p2.pk],
        actor=users["BILLING"],
        now=NOW,
    )
    assert sum(r.amount_cents for r in rows) == 14_520
    assert {r.posting_id for r in rows} >= {p1.pk, p2.pk}
    assert account_balance(code=codes.CARD_PROCESSING_FEES) == 480
    assert account_balance(code=codes.OPERATING_BANK) == 14_520
    fee_entry = JournalEntry.objects.get(kind="CARD_FEE")
    assert sum(p.amount_cents for p in fee_entry.postings.all()) == 0
    assert AuditEvent.objects.filter(action="ledger.entry_posted", object_id=str(fee_entry.pk))
    event = AuditEvent.objects.get(action="banking.line_resolved")
    assert event.after["flag"] == "processor_fee:480"
    assert event.after["payments"] == [p1.pk, p2.pk]
    assert ledger_verify() == []


def test_card_payout_net_refusals(users: dict[str, Any]) -> None:
    from caseledger.ledger.tests.factories import make_matter

    matter = make_matter()
    trust = trust_bank_account(NOW)
    account = operating_bank_account(NOW)
    p1 = _card_payment(10_000, date(2026, 10, 28), matter)
    (t_in,) = import_lines(trust, [ParsedLine(D, 9_700, "STRIPE PAYOUT")], NOW)
    (line,) = import_lines(account, [ParsedLine(D, 10_500, "STRIPE")], NOW, statement_id="S2")
    with pytest.raises(BankingError, match=r"never come out of trust \(trust rule 5\)"):
        resolutions.line_resolve(
            line=t_in, kind=Resolution.CARD_PAYOUT_NET, payment_ids=[p1.pk], actor=None, now=NOW
        )
    with pytest.raises(BankingError, match="must be more than zero and less than the payments"):
        resolutions.line_resolve(
            line=line, kind=Resolution.CARD_PAYOUT_NET, payment_ids=[p1.pk], actor=None, now=NOW
        )
    with pytest.raises(BankingError, match="choose the card payments"):
        resolutions.line_resolve(line=line, kind=Resolution.CARD_PAYOUT_NET, actor=None, now=NOW)
    other = Posting.objects.exclude(account__code=codes.OPERATING_BANK).first()
    assert other is not None
    with pytest.raises(BankingError, match=f"posting {other.pk} is not an open card payment"):
        resolutions.line_resolve(
            line=line,
            kind=Resolution.CARD_PAYOUT_NET,
            payment_ids=[other.pk],
            actor=None,
            now=NOW,
        )
    assert not JournalEntry.objects.filter(kind="CARD_FEE").exists()
    assert not LineMatch.objects.exists()


def test_interest_remitted_to_the_bar_foundation(users: dict[str, Any]) -> None:
    account = trust_bank_account(NOW)
    interest, remit, too_much = import_lines(
        account,
        [
            ParsedLine(date(2026, 10, 30), 1_200, "Interest"),
            ParsedLine(D, -1_000, "Wire to the bar foundation"),
            ParsedLine(D, -300, "Wire to the bar foundation"),
        ],
        NOW,
    )
    resolutions.line_resolve(line=interest, kind=Resolution.INTEREST, actor=None, now=NOW)
    resolutions.line_resolve(
        line=remit, kind=Resolution.INTEREST_REMITTANCE, actor=users["BILLING"], now=NOW
    )
    assert account_balance(code=codes.IOLTA_INTEREST_PAYABLE) == 200
    assert account_balance(code=codes.TRUST_BANK) == 200
    # No client ledger moved: no trust posting names a client.
    assert not Posting.objects.filter(account__is_trust=True, client__isnull=False).exists()
    with pytest.raises(BankingError, match=r"more than the IOLTA interest owed .* \(\$2\.00\)"):
        resolutions.line_resolve(
            line=too_much, kind=Resolution.INTEREST_REMITTANCE, actor=None, now=NOW
        )
    assert account_balance(code=codes.IOLTA_INTEREST_PAYABLE) == 200
    assert not LineMatch.objects.filter(line=too_much).exists()
    assert ledger_verify() == []
