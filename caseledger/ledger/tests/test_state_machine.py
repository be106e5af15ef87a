"""Property test: random sequences of trust and billing activity never break the invariants.

After every step: every entry sums to zero, the trial balance balances, stored balances equal
balances recomputed from postings, no client trust balance is negative, trust bank equals the
sum of client trust ledgers, and each matter's trust balance equals the model's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from caseledger.ledger import accounts as A
from caseledger.ledger import selectors
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.exceptions import TrustViolation
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.services import PostingLine, entry_post, entry_reverse
from caseledger.ledger.tests import helpers as H
from caseledger.ledger.tests.factories import Disbursement, make_invoice, make_matter

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
START = date(2026, 1, 1)
amounts = st.integers(min_value=1, max_value=500_000)


class LedgerMachine(RuleBasedStateMachine):
    matters = Bundle("matters")
    invoices = Bundle("invoices")

    def __init__(self) -> None:
        super().__init__()
        self.trust: dict[int, int] = {}  # matter id -> expected trust cents
        self.outstanding: dict[int, int] = {}  # invoice id -> expected A/R cents
        self.entries: list[int] = []
        self.reversed: set[int] = set()
        self.day = START

    def _tick(self) -> date:
        self.day += timedelta(days=1)
        return self.day

    @initialize(target=matters)
    def first_matter(self):
        m = make_matter()
        self.trust[m.pk] = 0
        return m

    @rule(target=matters)
    def open_matter(self):
        m = make_matter()
        self.trust[m.pk] = 0
        return m

    @rule(matter=matters, cents=amounts)
    def deposit(self, matter, cents):
        e = H.deposit(matter=matter, cents=cents, now=NOW, day=self._tick())
        self.trust[matter.pk] += cents
        self.entries.append(e.pk)

    @rule(target=invoices, matter=matters, cents=amounts)
    def issue(self, matter, cents):
        day = self._tick()
        invoice = make_invoice(matter=matter, issue_date=day, total_cents=cents)
        e = H.issue_invoice(invoice=invoice, cents=cents, now=NOW, day=day)
        self.outstanding[invoice.pk] = cents
        self.entries.append(e.pk)
        return invoice

    @rule(invoice=invoices, share=st.integers(min_value=1, max_value=100))
    def transfer_earned(self, invoice, share):
        due = self.outstanding[invoice.pk]
        if due == 0:
            return
        cents = max(1, due * share // 100)
        held = self.trust[invoice.matter_id]
        try:
            e = H.transfer_earned(invoice=invoice, cents=cents, now=NOW, day=self._tick())
        except TrustViolation:
            assert cents > held
            return
        assert cents <= held
        self.trust[invoice.matter_id] -= cents
        self.outstanding[invoice.pk] -= cents
        self.entries.append(e.pk)

    @rule(matter=matters, cents=amounts, approved=st.booleans())
    def disburse(self, matter, cents, approved):
        held = self.trust[matter.pk]
        try:
            e = H.disburse(
                matter=matter,
                cents=cents,
                now=NOW,
                day=self._tick(),
                disbursement=Disbursement(1, approved),
            )
        except TrustViolation:
            assert not approved or cents > held
            return
        assert approved
        assert cents <= held
        self.trust[matter.pk] -= cents
        self.entries.append(e.pk)

    @rule(invoice=invoices, share=st.integers(min_value=1, max_value=100))
    def payment(self, invoice, share):
        due = self.outstanding[invoice.pk]
        if due == 0:
            return
        cents = max(1, due * share // 100)
        e = entry_post(
            kind=EntryKind.PAYMENT_RECEIVED,
            entry_date=self._tick(),
            memo="Card payment",
            lines=[
                PostingLine(A.OPERATING_BANK, cents, client=invoice.client, invoice=invoice),
                PostingLine(A.ACCOUNTS_RECEIVABLE, -cents, client=invoice.client, invoice=invoice),
            ],
            actor=None,
            now=NOW,
        )
        self.outstanding[invoice.pk] -= cents
        self.entries.append(e.pk)

    @rule(cents=st.integers(min_value=1, max_value=5_000))
    def card_fee(self, cents):
        e = entry_post(
            kind=EntryKind.CARD_FEE,
            entry_date=self._tick(),
            memo="Processor fee",
            lines=[
                PostingLine(A.CARD_PROCESSING_FEES, cents),
                PostingLine(A.OPERATING_BANK, -cents),
            ],
            actor=None,
            now=NOW,
        )
        self.entries.append(e.pk)

    @rule(data=st.data())
    def reverse(self, data):
        candidates = [e for e in self.entries if e not in self.reversed]
        if not candidates:
            return
        entry_id = data.draw(st.sampled_from(candidates))
        entry = JournalEntry.objects.get(pk=entry_id)
        effects: dict[int, int] = {}
        ar: dict[int, int] = {}
        for code, amount, matter_id, invoice_id in entry.postings.values_list(
            "account__code", "amount_cents", "matter_id", "invoice_id"
        ):
            if code == A.CLIENT_TRUST_LIABILITY:
                effects[matter_id] = effects.get(matter_id, 0) + amount  # reversal adds back
            if code == A.ACCOUNTS_RECEIVABLE and invoice_id is not None:
                ar[invoice_id] = ar.get(invoice_id, 0) - amount
        try:
            entry_reverse(entry=entry, actor=None, now=NOW, entry_date=self._tick())
        except TrustViolation:
            assert any(self.trust[m] + d < 0 for m, d in effects.items())
            return
        self.reversed.add(entry_id)
        for matter_id, delta in effects.items():
            self.trust[matter_id] += delta
            assert self.trust[matter_id] >= 0
        for invoice_id, delta in ar.items():
            self.outstanding[invoice_id] += delta

    @invariant()
    def ledger_is_sound(self):
        assert selectors.ledger_verify() == []
        tb = selectors.trial_balance()
        assert tb.balanced
        assert selectors.trust_bank_total() == selectors.account_balance(
            code=A.CLIENT_TRUST_LIABILITY
        )

    @invariant()
    def trust_matches_model(self):
        for matter_id, expected in self.trust.items():
            rows = selectors.client_trust_balances().filter(matter_id=matter_id)
            actual = -sum(r.balance_cents for r in rows)
            assert actual == expected >= 0


@pytest.mark.django_db
def test_ledger_state_machine():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
