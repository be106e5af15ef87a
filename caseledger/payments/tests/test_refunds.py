"""Card refunds exactly once (payments.refunds): the process is killed at each step of the
two-phase flow and recovered by the retry job; the sandbox processor counts refunds per
idempotency key, and the books must show each refund once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse

from caseledger.core.exceptions import InvalidTransition
from caseledger.ledger import accounts as A
from caseledger.ledger.choices import EntryKind
from caseledger.ledger.models import JournalEntry
from caseledger.ledger.selectors import account_balance, ledger_verify
from caseledger.payments import hooks, refunds, services
from caseledger.payments.choices import PaymentMethod, Provider, RefundMethod, RefundStatus
from caseledger.payments.exceptions import PaymentError, ProviderError
from caseledger.payments.models import CreditRefund, Payment
from caseledger.payments.providers.sandbox import (
    SandboxProvider,
    sandbox_refunds,
    sandbox_refunds_clear,
)
from caseledger.payments.tests.factories import MatterFactory

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=2)


@pytest.fixture(autouse=True)
def _sandbox_books():
    sandbox_refunds_clear()
    yield
    sandbox_refunds_clear()


@pytest.fixture
def payment(now):
    """A sandbox card payment of $500.00, all of it unapplied credit."""
    matter = MatterFactory()
    return services.payment_record(
        client=matter.client,
        method=PaymentMethod.CARD,
        payer="Maria Garcia",
        reference="sbx_ch_1",
        amount_cents=50_000,
        received_date=date(2026, 10, 20),
        provider=Provider.SANDBOX,
        actor=None,
        now=now,
    )


class Killed(Exception):
    """The process died here."""


class CrashAfterRefund(SandboxProvider):
    """The processor refunds; the process dies before it can record the answer."""

    def refund_create(self, payment: Any, amount_cents: int, *, idempotency_key: str) -> str:
        super().refund_create(payment, amount_cents, idempotency_key=idempotency_key)
        raise Killed("after the provider call")


class Refusing(SandboxProvider):
    def __init__(self, *, retryable: bool = False) -> None:
        self.retryable = retryable

    def refund_create(self, payment: Any, amount_cents: int, *, idempotency_key: str) -> str:
        raise ProviderError("provider: the card was closed", retryable=self.retryable)


def _refund_entries() -> int:
    return JournalEntry.objects.filter(
        kind=EntryKind.REFUND, memo__startswith="Card refund of unapplied credit"
    ).count()


def _books_balanced() -> None:
    total = sum(Payment.objects.values_list("unapplied_cents", flat=True))
    assert account_balance(code=A.UNAPPLIED_CLIENT_CREDITS) == total
    assert ledger_verify() == []


def _request(payment, now, cents=20_000):
    return services.unapplied_credit_refund(
        payment=payment, amount_cents=cents, method=RefundMethod.CARD, actor=None, now=now
    )


def _assert_once(refund: CreditRefund) -> None:
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    made = sandbox_refunds()
    assert list(made) == [refund.idempotency_key]
    assert made[refund.idempotency_key].refund_id == refund.reference
    assert _refund_entries() == 1
    payment = refund.payment
    payment.refresh_from_db()
    assert (payment.unapplied_cents, payment.refund_pending_cents) == (30_000, 0)
    assert account_balance(code=A.OPERATING_BANK) == 30_000
    _books_balanced()


def test_the_happy_path_refunds_after_the_commit(payment, now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        refund = _request(payment, now)
    assert refund.status == RefundStatus.REQUESTED
    assert sandbox_refunds() == {}, "the processor is not called before the commit"
    payment.refresh_from_db()
    assert (payment.unapplied_cents, payment.refund_pending_cents) == (50_000, 20_000)
    assert _refund_entries() == 0
    for callback in callbacks:
        callback()
    _assert_once(refund)


def test_killed_after_phase_one_the_retry_job_refunds_once(
    payment, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        refund = _request(payment, now)  # committed; the process dies before the processor
    assert refunds.card_refunds_retry(now=now + timedelta(seconds=30)) == 0, "too young"
    assert sandbox_refunds() == {}
    assert refunds.card_refunds_retry(now=now + LATER) == 1
    _assert_once(refund)
    assert refunds.card_refunds_retry(now=now + 2 * LATER) == 0
    _assert_once(refund)


def test_killed_after_the_provider_call_the_retry_reuses_the_key(
    payment, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        refund = _request(payment, now)
    with pytest.raises(Killed):
        refunds.card_refund_process(refund_id=refund.pk, now=now, provider=CrashAfterRefund())
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED
    assert len(sandbox_refunds()) == 1, "the card was refunded, the books do not know yet"
    assert _refund_entries() == 0
    assert refunds.card_refunds_retry(now=now + LATER) == 1
    _assert_once(refund)


def test_killed_inside_phase_two_rolls_back_and_the_retry_records_once(
    payment, now, django_capture_on_commit_callbacks
):
    def die_on_success(*, refund, actor, now):
        if refund.status == RefundStatus.SUCCEEDED:
            raise Killed("inside the second transaction")

    with django_capture_on_commit_callbacks(execute=False):
        refund = _request(payment, now)
    hooks.register_card_refund_listener(die_on_success)
    try:
        with pytest.raises(Killed):
            refunds.card_refund_process(refund_id=refund.pk, now=now)
    finally:
        hooks.unregister_card_refund_listener(die_on_success)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED
    assert _refund_entries() == 0, "the second transaction rolled back whole"
    assert refunds.card_refunds_retry(now=now + LATER) == 1
    _assert_once(refund)


def test_a_processor_refusal_fails_the_refund_and_releases_the_credit(
    payment, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        refund = _request(payment, now)
    refunds.card_refund_process(refund_id=refund.pk, now=now, provider=Refusing())
    refund.refresh_from_db()
    assert (refund.status, refund.failure_reason) == (
        RefundStatus.FAILED,
        "provider: the card was closed",
    )
    payment.refresh_from_db()
    assert (payment.unapplied_cents, payment.refund_pending_cents) == (50_000, 0)
    assert _refund_entries() == 0
    assert refunds.card_refunds_retry(now=now + LATER) == 0, "a failed refund is not retried"
    assert sandbox_refunds() == {}
    # A user sends it again: a new attempt, hence a new key.
    first_key = refund.idempotency_key
    with django_capture_on_commit_callbacks(execute=True):
        again = refunds.card_refund_retry(refund=refund, actor=None, now=now + LATER)
    assert again.attempt == 2
    assert again.idempotency_key != first_key
    _assert_once(again)
    with pytest.raises(InvalidTransition, match="status: a refund cannot go from refunded to"):
        refunds.card_refund_retry(refund=again, actor=None, now=now + LATER)


def test_an_unknown_outcome_stays_requested_until_the_retry(
    payment, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        refund = _request(payment, now)
    refunds.card_refund_process(refund_id=refund.pk, now=now, provider=Refusing(retryable=True))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED
    assert refunds.card_refunds_retry(now=now + LATER) == 1
    _assert_once(refund)


def test_credit_held_for_a_refund_cannot_be_spent_twice(
    payment, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _request(payment, now, cents=40_000)
    with pytest.raises(PaymentError, match=r"amount: refund \$200.00 exceeds the unapplied credit"):
        services.unapplied_credit_refund(
            payment=payment, amount_cents=20_000, method=RefundMethod.CHECK, actor=None, now=now
        )


@pytest.mark.parametrize("crash", ["after_phase_one", "after_provider", "provider_down"])
def test_crash_counts(crash, payment, now, django_capture_on_commit_callbacks):
    """Three refunds, the process killed at ``crash`` for each; after the retry job: three
    refunds requested, three counted by the processor, three in the books."""
    requested = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=False):
            refund = _request(payment, now, cents=5_000)
        requested.append(refund)
        if crash == "after_provider":
            with pytest.raises(Killed):
                refunds.card_refund_process(
                    refund_id=refund.pk, now=now, provider=CrashAfterRefund()
                )
        elif crash == "provider_down":
            refunds.card_refund_process(
                refund_id=refund.pk, now=now, provider=Refusing(retryable=True)
            )
    assert refunds.card_refunds_retry(now=now + LATER) == 3
    assert refunds.card_refunds_retry(now=now + 2 * LATER) == 0
    made = sandbox_refunds()
    assert sorted(made) == sorted(r.idempotency_key for r in requested)
    assert _refund_entries() == 3
    assert CreditRefund.objects.filter(status=RefundStatus.SUCCEEDED).count() == 3
    payment.refresh_from_db()
    assert (payment.unapplied_cents, payment.refund_pending_cents) == (35_000, 0)
    _books_balanced()


def test_the_refund_page_says_what_the_processor_answered(
    client, login, users, payment, django_capture_on_commit_callbacks
):
    login(users["BILLING"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("payments:refund", args=[payment.pk]),
            {"amount": "100.00", "method": "CARD", "reference": ""},
            follow=True,
        )
    refund = CreditRefund.objects.get()
    assert refund.status == RefundStatus.SUCCEEDED
    assert f"Refund recorded (processor reference {refund.reference})." in response.content.decode()
    assert "Refunded" in response.content.decode()
    assert len(sandbox_refunds()) == 1
