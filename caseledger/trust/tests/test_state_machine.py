"""Property test beside the ledger's: random sequences of payments and trust operations, through
the payments and trust services, never break the invariants.

Operations: trust deposits by every method (clearing by business days; card fees borne by
operating), invoices issued, payments recorded oldest-first (overpayments become unapplied
credit), credit applied and refunded, trust applied to invoices, disputes opened and released,
disbursements requested, approved and posted, days passing. After every step: the ledger
verifies and balances, trust bank = client trust ledgers, each matter's trust balance and
available cleared funds equal the model's, each invoice's balance due and A/R equal the model's,
unapplied credits equal the model's, and every refused operation moved nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
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

from caseledger.core.exceptions import ApplicationError
from caseledger.ledger import accounts as A
from caseledger.ledger import selectors as ledger
from caseledger.payments import selectors as pay_selectors
from caseledger.payments import services as pay
from caseledger.payments.models import Payment
from caseledger.payments.tests.factories import MatterFactory, issued_invoice
from caseledger.trust import selectors, services
from caseledger.trust.models import TrustSettings

START = datetime(2026, 10, 5, 15, 0, tzinfo=UTC)  # a Monday
amounts = st.integers(min_value=1, max_value=300_000)
METHODS = ["CHECK", "ACH", "WIRE", "CASH", "CARD"]


class PaymentsTrustMachine(RuleBasedStateMachine):
    invoices = Bundle("invoices")

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.deposits: dict[int, list[tuple[int, date | None]]] = {}  # matter -> (cents, clears_on)
        self.outflow: dict[int, int] = {}
        self.disputes: dict[int, list[tuple[int, int]]] = {}  # matter -> (hold id, cents)
        self.due: dict[int, int] = {}
        self.unapplied = 0
        self.user = None

    @property
    def today(self) -> date:
        return self.now.date()

    def balance(self, mid: int) -> int:
        return sum(c for c, _ in self.deposits[mid]) - self.outflow[mid]

    def available(self, mid: int) -> int:
        uncleared = sum(c for c, d in self.deposits[mid] if d is None or d > self.today)
        disputed = sum(c for _, c in self.disputes[mid])
        return max(self.balance(mid) - uncleared - disputed, 0)

    @initialize()
    def setup(self):
        from caseledger.core.models import User

        # Each example runs in its own savepoint, rolled back in teardown, so the next example
        # starts from an empty ledger (the test's transaction spans all examples).
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
        self.matters = [MatterFactory(), MatterFactory()]
        for m in self.matters:
            self.deposits[m.pk] = []
            self.outflow[m.pk] = 0
            self.disputes[m.pk] = []
        self.requester = User.objects.create(username="sm-requester", role="PARALEGAL")
        self.lawyer = User.objects.create(username="sm-lawyer", role="PARTNER")

    @rule(days=st.integers(min_value=1, max_value=6))
    def days_pass(self, days):
        self.now += timedelta(days=days)

    @rule(
        i=st.integers(0, 1),
        cents=amounts,
        method=st.sampled_from(METHODS),
        fee=st.integers(0, 500),
        settled=st.booleans(),
    )
    def deposit(self, i, cents, method, fee, settled):
        m = self.matters[i]
        fee = fee if method == "CARD" else 0
        d = services.deposit_record(
            client=m.client,
            matter=m,
            method=method,
            payer="P",
            reference="R1",
            amount_cents=cents,
            received_date=self.today,
            actor=None,
            now=self.now,
            fee_cents=min(fee, cents),
            card_settled=settled,
        )
        self.deposits[m.pk].append((cents, d.clears_on))

    @rule(target=invoices, i=st.integers(0, 1), cents=amounts)
    def issue(self, i, cents):
        inv = issued_invoice(matter=self.matters[i], cents=cents, now=self.now, day=self.today)
        self.due[inv.pk] = cents
        return inv

    @rule(i=st.integers(0, 1), cents=amounts)
    def payment_oldest_first(self, i, cents):
        m = self.matters[i]
        open_ids = [inv.pk for inv in pay_selectors.open_invoices_for(m.client)]
        p = pay.payment_record(
            client=m.client,
            method="ACH",
            payer="P",
            reference="A",
            amount_cents=cents,
            received_date=self.today,
            actor=None,
            now=self.now,
        )
        left = cents
        for pk in open_ids:
            take = min(left, self.due[pk])
            self.due[pk] -= take
            left -= take
        assert p.unapplied_cents == left
        self.unapplied += left

    @rule(invoice=invoices)
    def apply_credit(self, invoice):
        have = pay_selectors.client_unapplied_cents(invoice.client)
        try:
            pay.unapplied_credit_apply(
                client=invoice.client, invoice=invoice, actor=None, now=self.now
            )
        except ApplicationError:
            assert have == 0 or self.due[invoice.pk] == 0
            return
        take = min(have, self.due[invoice.pk])
        self.due[invoice.pk] -= take
        self.unapplied -= take

    @rule(share=st.integers(1, 100))
    def refund_credit(self, share):
        p = Payment.objects.filter(unapplied_cents__gt=0).order_by("id").first()
        if p is None:
            return
        cents = max(1, p.unapplied_cents * share // 100)
        pay.unapplied_credit_refund(
            payment=p, amount_cents=cents, method="CHECK", actor=None, now=self.now
        )
        self.unapplied -= cents

    @rule(invoice=invoices, cents=amounts)
    def apply_trust(self, invoice, cents):
        mid = invoice.matter_id
        try:
            services.trust_apply_to_invoice(
                invoice=invoice, amount_cents=cents, actor=None, now=self.now
            )
        except ApplicationError:
            assert cents > self.due[invoice.pk] or cents > self.available(mid)
            return
        assert cents <= self.due[invoice.pk]
        assert cents <= self.available(mid)
        self.due[invoice.pk] -= cents
        self.outflow[mid] += cents

    @rule(i=st.integers(0, 1), cents=amounts)
    def dispute(self, i, cents):
        m = self.matters[i]
        free = self.balance(m.pk) - sum(c for _, c in self.disputes[m.pk])
        try:
            hold = services.dispute_hold_create(
                matter=m, amount_cents=cents, reason="r", actor=self.lawyer, now=self.now
            )
        except ApplicationError:
            assert cents > free
            return
        self.disputes[m.pk].append((hold.pk, cents))

    @rule(i=st.integers(0, 1))
    def release(self, i):
        from caseledger.trust.models import DisputeHold

        m = self.matters[i]
        if not self.disputes[m.pk]:
            return
        hold_id, _ = self.disputes[m.pk].pop(0)
        services.dispute_hold_release(
            hold=DisputeHold.objects.get(pk=hold_id), actor=self.lawyer, now=self.now
        )

    @rule(i=st.integers(0, 1), cents=amounts, post_later=st.booleans())
    def disburse(self, i, cents, post_later):
        m = self.matters[i]
        try:
            d = services.disbursement_request(
                matter=m,
                payee="USCIS",
                amount_cents=cents,
                purpose="FILING_FEE",
                method="CHECK",
                actor=self.requester,
                now=self.now,
            )
        except ApplicationError:
            assert cents > self.available(m.pk)
            return
        d = services.disbursement_approve(disbursement=d, approver=self.lawyer, now=self.now)
        try:
            services.disbursement_post(disbursement=d, actor=self.lawyer, now=self.now)
        except ApplicationError:
            assert d.required_approvals == 2 or cents > self.available(m.pk)
            return
        self.outflow[m.pk] += cents

    def teardown(self):
        if hasattr(self, "_atomic"):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    @invariant()
    def ledger_sound(self):
        if not hasattr(self, "matters"):
            return
        assert ledger.ledger_verify() == []
        assert ledger.trial_balance().balanced
        assert ledger.trust_bank_total() == ledger.account_balance(code=A.CLIENT_TRUST_LIABILITY)

    @invariant()
    def trust_matches_model(self):
        if not hasattr(self, "matters"):
            return
        for m in self.matters:
            pos = selectors.trust_position(m, self.today)
            assert pos.balance_cents == self.balance(m.pk) >= 0
            assert pos.available_cents == self.available(m.pk)

    @invariant()
    def receivables_match_model(self):
        if not hasattr(self, "matters"):
            return
        from caseledger.billing.models import Invoice

        for inv in Invoice.objects.filter(pk__in=list(self.due)):
            assert pay_selectors.invoice_balance_due(inv) == self.due[inv.pk] >= 0
        assert ledger.account_balance(code=A.ACCOUNTS_RECEIVABLE) == sum(self.due.values())
        assert ledger.account_balance(code=A.UNAPPLIED_CLIENT_CREDITS) == self.unapplied >= 0


@pytest.mark.django_db
def test_payments_and_trust_state_machine():
    run_state_machine_as_test(
        PaymentsTrustMachine,
        settings=settings(
            max_examples=8,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
