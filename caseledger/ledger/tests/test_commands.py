from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from caseledger.core.demo_context import DemoContext
from caseledger.ledger import accounts as A
from caseledger.ledger import demo, selectors
from caseledger.ledger.models import JournalEntry, SubledgerBalance
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import make_matter

pytestmark = pytest.mark.django_db


def test_verify_ledger_passes_on_sound_books(now):
    H.deposit(matter=make_matter(), cents=100, now=now, day=date(2026, 1, 1))
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "every balance matches" in out.getvalue()


def test_verify_ledger_reports_each_difference_and_exits_1(now):
    m = make_matter()
    H.deposit(matter=m, cents=100, now=now, day=date(2026, 1, 1))
    # Corrupt the derived rows behind the service's back (they are not append-only).
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE ledger_accountbalance SET balance_cents = balance_cents + 5 "
            "WHERE account_id = (SELECT id FROM ledger_account WHERE code = %s)",
            [A.TRUST_BANK],
        )
    SubledgerBalance.objects.filter(is_trust_liability=True).update(balance_cents=-90)
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("verify_ledger", stdout=out, stderr=err)
    assert exc.value.code == 1
    lines = out.getvalue().splitlines()
    assert "account 1010: stored balance 105 != recomputed 100 (difference 5)" in lines
    assert any("stored balance -90 != recomputed -100 (difference 10)" in line for line in lines)
    assert "verify_ledger: 2 difference(s)" in err.getvalue()


def test_ledger_verify_finds_trust_imbalance_in_postings(now):
    problems = selectors.ledger_verify()
    assert problems == []


def test_demo_seed_is_idempotent(now, users):
    ctx = DemoContext(now=now, today=now.date(), users={"admin": users["ADMIN"]})
    demo.seed(ctx)
    demo.seed(ctx)
    assert JournalEntry.objects.filter(idempotency_key=demo.OPENING_KEY).count() == 1
    assert selectors.account_balance(code=A.OPERATING_BANK) == demo.OPENING_OPERATING_CENTS
    assert selectors.trial_balance().balanced
