"""A second trust bank account: deposits, disbursements and earned transfers choose their trust
account (default: the primary, 1010); a matter spends only what it holds, cleared, in THAT
account; pages, the API and the statement split by account. Property: whatever the sequence,
no matter's balance in any trust account goes negative, and each equals the model's."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from caseledger.core.exceptions import ApplicationError
from caseledger.ledger import accounts as A
from caseledger.ledger import selectors as ledger
from caseledger.ledger.exceptions import TrustViolation
from caseledger.ledger.services import PostingLine, account_trust_bank_create, entry_post
from caseledger.ledger.tests.factories import Disbursement as ApprovedDisbursement
from caseledger.payments.tests.factories import MatterFactory, issued_invoice
from caseledger.trust import selectors, services
from caseledger.trust.exceptions import TrustError
from caseledger.trust.models import Disbursement, TrustDeposit, TrustSettings

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 1)


@pytest.fixture
def second(now):
    return account_trust_bank_create(
        name="Trust bank (second IOLTA)",
        bank_name="First Republic",
        account_number_last4="4321",
        actor=None,
        now=now,
    )


def _deposit(matter, now, cents, account=None, day=DAY):
    return services.deposit_record(
        client=matter.client,
        matter=matter,
        method="WIRE",
        payer="Acme",
        reference="W1",
        amount_cents=cents,
        received_date=day,
        actor=None,
        now=now,
        trust_account=account,
    )


def _disburse(matter, cents, account, users, now):
    d = services.disbursement_request(
        matter=matter,
        payee="USCIS",
        amount_cents=cents,
        purpose="FILING_FEE",
        method="CHECK",
        actor=users["PARALEGAL"],
        now=now,
        trust_account=account,
    )
    d = services.disbursement_approve(disbursement=d, approver=users["PARTNER"], now=now)
    return services.disbursement_post(disbursement=d, actor=users["PARTNER"], now=now)


def test_deposits_default_to_the_primary_and_may_choose_the_second(now, second):
    matter = MatterFactory()
    first = _deposit(matter, now, 10_000)
    other = _deposit(matter, now, 30_000, account=second.code)
    assert first.trust_account.code == A.TRUST_BANK
    assert other.trust_account == second
    assert selectors.account_held_cents(matter, first.trust_account) == 10_000
    assert selectors.account_held_cents(matter, second) == 30_000
    assert selectors.trust_position(matter, now.date()).balance_cents == 40_000
    assert ledger.ledger_verify() == []


def test_a_disbursement_spends_only_what_the_matter_holds_in_that_account(now, second, users):
    matter = MatterFactory()
    _deposit(matter, now, 10_000)
    _deposit(matter, now, 30_000, account=second)
    with pytest.raises(TrustError) as err:
        services.disbursement_request(
            matter=matter,
            payee="USCIS",
            amount_cents=20_000,
            purpose="FILING_FEE",
            method="CHECK",
            actor=users["PARALEGAL"],
            now=now,
        )
    assert err.value.message == (
        f"amount: $200.00 exceeds what matter {matter.number} has cleared in trust account "
        "1010 Trust bank (IOLTA) ($100.00); money leaves a trust account only from what the "
        "matter holds in it"
    )
    paid = _disburse(matter, 20_000, second, users, now)
    assert paid.trust_account == second
    assert selectors.account_held_cents(matter, second) == 10_000
    assert Disbursement.objects.get().entry.postings.filter(account=second).exists()
    assert ledger.ledger_verify() == []


def test_an_unknown_trust_account_is_refused(now, second):
    matter = MatterFactory()
    with pytest.raises(TrustError, match=r"^trust_account: 1099 is not one of the firm's active"):
        _deposit(matter, now, 10_000, account="1099")
    with pytest.raises(TrustError, match=r"^trust_account: 1000 is not one"):
        _deposit(matter, now, 10_000, account=A.OPERATING_BANK)
    assert not TrustDeposit.objects.exists()


def test_the_ledger_refuses_a_trust_account_going_negative_for_a_matter(now, second):
    """Below the services: the client's total would stay positive, but the second account
    holds nothing for the matter."""
    matter = MatterFactory()
    _deposit(matter, now, 10_000)
    with pytest.raises(TrustViolation) as err:
        entry_post(
            kind="TRUST_DISBURSEMENT",
            entry_date=DAY,
            memo="x",
            lines=[
                PostingLine(A.CLIENT_TRUST_LIABILITY, 5_000, client=matter.client, matter=matter),
                PostingLine(second.code, -5_000, client=matter.client, matter=matter),
            ],
            actor=None,
            now=now,
            disbursement=ApprovedDisbursement(1, True),
        )
    assert err.value.message == (
        f"lines[1].amount_cents: trust account {second.code} holds $0.00 for matter "
        f"{matter.number}; this would leave -$50.00 (money leaves a trust bank account only "
        "from what the matter holds in that account)"
    )


def test_earned_transfers_take_from_the_chosen_account(now, second):
    matter = MatterFactory()
    _deposit(matter, now, 40_000, account=second)
    invoice = issued_invoice(matter=matter, cents=25_000, now=now, day=DAY)
    with pytest.raises(TrustError, match=r"^amount: \$250.00 exceeds what matter"):
        services.trust_apply_to_invoice(invoice=invoice, amount_cents=25_000, actor=None, now=now)
    transfer = services.trust_apply_to_invoice(
        invoice=invoice, actor=None, now=now, trust_account=second
    )
    assert (transfer.amount_cents, transfer.trust_account) == (25_000, second)
    assert selectors.account_held_cents(matter, second) == 15_000


def test_pages_and_the_api_choose_and_split_by_account(login, users, now, second):
    matter = MatterFactory()
    web = login(users["BILLING"])
    form = web.get(reverse("trust:deposit_new")).content.decode()
    assert f'<option value="{second.code}">{second.code} {second.name}</option>' in form
    posted = web.post(
        reverse("trust:deposit_new"),
        {
            "matter": matter.pk,
            "method": "WIRE",
            "payer": "Acme",
            "reference": "W1",
            "received_date": "2026-10-01",
            "amount": "300.00",
            "trust_account": second.code,
        },
    )
    assert posted.status_code == 302, posted.content.decode()[:3000]
    api = web.post(
        "/api/v1/trust/deposits",
        data=json.dumps(
            {
                "matter_id": matter.pk,
                "method": "WIRE",
                "payer": "Acme",
                "reference": "W2",
                "amount_cents": 10_000,
                "received_date": "2026-10-01",
            }
        ),
        content_type="application/json",
    )
    assert api.status_code == 201, api.content
    assert api.json()["trust_account"] == A.TRUST_BANK
    assert [d.trust_account.code for d in TrustDeposit.objects.order_by("id")] == [
        second.code,
        A.TRUST_BANK,
    ]
    dashboard = web.get(reverse("trust:dashboard")).content.decode()
    assert "By trust account" in dashboard
    assert f"{second.code}: $300.00" in dashboard
    page = web.get(reverse("trust:matter", args=[matter.pk])).content.decode()
    assert "By trust account" in page
    assert f"{second.code} {second.name}" in page
    statement = web.get(reverse("trust:statement_pdf", args=[matter.client_id]))
    assert statement.status_code == 200


# --- property ----------------------------------------------------------------------------------

START = datetime(2026, 10, 5, 15, 0, tzinfo=UTC)  # a Monday
amounts = st.integers(min_value=1, max_value=200_000)


class TwoTrustAccounts(RuleBasedStateMachine):
    """Deposits (cleared or not yet), disbursements and earned transfers on two matters across
    two trust bank accounts; the model keeps (matter, account) -> deposits and outflow."""

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.deposits: dict[tuple[int, int], list[tuple[int, date | None]]] = {}
        self.outflow: dict[tuple[int, int], int] = {}

    @property
    def today(self) -> date:
        return self.now.date()

    def held(self, key: tuple[int, int]) -> int:
        return sum(c for c, _ in self.deposits[key]) - self.outflow[key]

    def available(self, key: tuple[int, int]) -> int:
        uncleared = sum(c for c, d in self.deposits[key] if d is None or d > self.today)
        return self.held(key) - uncleared

    @initialize()
    def setup(self):
        from caseledger.core.models import User
        from caseledger.ledger.models import Account

        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        TrustSettings.objects.update_or_create(id=1, defaults={"low_balance_threshold_cents": 0})
        self.matters = [MatterFactory(), MatterFactory()]
        self.accounts = [
            Account.objects.get(code=A.TRUST_BANK),
            account_trust_bank_create(name="Second IOLTA", actor=None, now=self.now),
        ]
        for m in self.matters:
            for a in self.accounts:
                self.deposits[(m.pk, a.pk)] = []
                self.outflow[(m.pk, a.pk)] = 0
        self.requester = User.objects.create(username="ta-requester", role="PARALEGAL")
        self.lawyer = User.objects.create(username="ta-lawyer", role="PARTNER")

    @rule(days=st.integers(min_value=1, max_value=4))
    def days_pass(self, days):
        self.now += timedelta(days=days)

    @rule(
        i=st.integers(0, 1),
        j=st.integers(0, 1),
        cents=amounts,
        method=st.sampled_from(["WIRE", "CHECK", "ACH"]),
    )
    def deposit(self, i, j, cents, method):
        m, a = self.matters[i], self.accounts[j]
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
            trust_account=a,
        )
        self.deposits[(m.pk, a.pk)].append((cents, d.clears_on))

    @rule(i=st.integers(0, 1), j=st.integers(0, 1), cents=amounts)
    def disburse(self, i, j, cents):
        m, a = self.matters[i], self.accounts[j]
        key = (m.pk, a.pk)
        try:
            d = services.disbursement_request(
                matter=m,
                payee="USCIS",
                amount_cents=cents,
                purpose="FILING_FEE",
                method="CHECK",
                actor=self.requester,
                now=self.now,
                trust_account=a,
            )
        except ApplicationError:
            assert cents > self.available(key)
            return
        assert cents <= self.available(key)
        d = services.disbursement_approve(disbursement=d, approver=self.lawyer, now=self.now)
        if d.status != "APPROVED":
            return  # above the dual-approval threshold: waits for a second lawyer
        services.disbursement_post(disbursement=d, actor=self.lawyer, now=self.now)
        self.outflow[key] += cents

    @rule(i=st.integers(0, 1), j=st.integers(0, 1), cents=amounts)
    def apply_trust(self, i, j, cents):
        m, a = self.matters[i], self.accounts[j]
        key = (m.pk, a.pk)
        invoice = issued_invoice(matter=m, cents=cents, now=self.now, day=self.today)
        try:
            services.trust_apply_to_invoice(
                invoice=invoice, amount_cents=cents, actor=None, now=self.now, trust_account=a
            )
        except ApplicationError:
            assert cents > self.available(key)
            return
        self.outflow[key] += cents

    def teardown(self):
        if hasattr(self, "_atomic"):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    @invariant()
    def no_trust_account_negative_for_any_matter(self):
        if not hasattr(self, "matters"):
            return
        for m in self.matters:
            for a in self.accounts:
                held = selectors.account_held_cents(m, a)
                assert held == self.held((m.pk, a.pk)) >= 0
        assert ledger.ledger_verify() == []
        assert ledger.trust_bank_total() == ledger.account_balance(code=A.CLIENT_TRUST_LIABILITY)


def test_no_matter_goes_negative_in_any_trust_account():
    run_state_machine_as_test(
        TwoTrustAccounts,
        settings=settings(
            max_examples=6,
            stateful_step_count=18,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
