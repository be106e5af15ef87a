"""Several trust bank accounts: each closes three-way on its own (its clients' money in it =
its journal = its adjusted bank balance), with IOLTA interest owed to the bar foundation counted
on the journal side until remitted; the page shows every trust account's figures."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from caseledger.banking import resolutions
from caseledger.banking.choices import Resolution
from caseledger.banking.reconciliation.compute import reconciliation_compute
from caseledger.banking.services import bank_account_create
from caseledger.banking.tests.factories import trust_bank_account
from caseledger.banking.tests.reconciliation.helpers import (
    JAN_END,
    JAN_START,
    NOW,
    bank_posting,
    import_statement,
    match,
)
from caseledger.ledger import accounts as A
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.services import PostingLine, account_trust_bank_create, entry_post
from caseledger.ledger.tests.factories import make_client, make_matter
from caseledger.ledger.tests.helpers import deposit

pytestmark = pytest.mark.django_db

SECOND_NUMBER = "5500111122"


def _deposit_into(code: str, matter: Any, cents: int, day: date) -> Any:
    return entry_post(
        kind=EntryKind.TRUST_DEPOSIT,
        entry_date=day,
        memo="Retainer deposit",
        lines=[
            PostingLine(code, cents, client=matter.client, matter=matter),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -cents, client=matter.client, matter=matter),
        ],
        actor=None,
        now=NOW,
    )


def _setup() -> tuple[Any, Any, Any, Any, Any]:
    first = trust_bank_account(NOW)
    ledger2 = account_trust_bank_create(name="IOLTA 2", actor=None, now=NOW)
    second = bank_account_create(
        name="IOLTA second",
        bank_name="Other Bank",
        number=SECOND_NUMBER,
        ledger_account=ledger2,
        formats=["CAMT053"],
        actor=None,
        now=NOW,
    )
    a = make_matter(client=make_client())
    b = make_matter(client=make_client())
    return first, second, ledger2, a, b


def test_each_trust_account_closes_three_way_with_interest_owed(login: Any, users: Any) -> None:
    first, second, ledger2, a, b = _setup()
    # A has money in both accounts, B only in the second.
    e1 = deposit(matter=a, cents=100_000, now=NOW, day=date(2026, 1, 5))
    e2 = _deposit_into(ledger2.code, a, 40_000, date(2026, 1, 6))
    e3 = _deposit_into(ledger2.code, b, 25_000, date(2026, 1, 7))
    lines1 = import_statement(
        first,
        JAN_START,
        JAN_END,
        [(date(2026, 1, 5), 100_000, "Deposit", "F-1"), (JAN_END, 90, "Interest", "F-INT")],
    )
    lines2 = import_statement(
        second,
        JAN_START,
        JAN_END,
        [(date(2026, 1, 6), 40_000, "Deposit", "S-1"), (date(2026, 1, 7), 25_000, "Dep", "S-2")],
        number=SECOND_NUMBER,
    )
    match(lines1["F-1"], bank_posting(e1, first))
    match(lines2["S-1"], bank_posting(e2, second))
    match(lines2["S-2"], bank_posting(e3, second))
    resolutions.line_resolve(line=lines1["F-INT"], kind=Resolution.INTEREST, actor=None, now=NOW)

    r1 = reconciliation_compute(bank_account=first, as_of=JAN_END)
    assert r1.adjusted_bank_cents == r1.journal_cents == 100_090
    assert r1.client_total_cents == 100_000
    assert r1.foundation_cents == 90
    assert r1.client_differences == []
    assert r1.balanced is True
    assert {row["matter_id"]: row["balance_cents"] for row in r1.clients} == {a.pk: 100_000}

    r2 = reconciliation_compute(bank_account=second, as_of=JAN_END)
    assert r2.adjusted_bank_cents == r2.journal_cents == r2.client_total_cents == 65_000
    assert r2.foundation_cents == 0
    assert "foundation_cents" not in r2.canonical
    assert {row["matter_id"]: row["balance_cents"] for row in r2.clients} == {
        a.pk: 40_000,
        b.pk: 25_000,
    }
    assert r2.balanced is True

    # A liability-only transfer between clients is not attributed to an account: listed.
    entry_post(
        kind=EntryKind.ADJUSTMENT,
        entry_date=JAN_END,
        memo="Money recorded on the wrong client",
        lines=[
            PostingLine(A.CLIENT_TRUST_LIABILITY, 5_000, client=b.client, matter=b),
            PostingLine(A.CLIENT_TRUST_LIABILITY, -5_000, client=a.client, matter=a),
        ],
        actor=None,
        now=NOW,
    )
    r2 = reconciliation_compute(bank_account=second, as_of=JAN_END)
    assert {(row["matter_id"]) for row in r2.client_differences} == {a.pk, b.pk}

    page = login(users["PARTNER"]).get(
        f"/banking/accounts/{first.pk}/reconciliation/?date=2026-01-31"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="trust-accounts"' in html
    assert "IOLTA second" in html
    assert 'id="foundation"' in html
