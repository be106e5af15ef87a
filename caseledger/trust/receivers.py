"""Hooks the trust app registers at start-up: auto-apply on invoice issue, and the handler that
turns a paid trust-request checkout into a trust deposit."""

from __future__ import annotations

from datetime import datetime

from caseledger.core import clock
from caseledger.core.models import User
from caseledger.core.text import fit_to_field
from caseledger.payments.choices import CheckoutPurpose
from caseledger.payments.models import CheckoutSession, Payment
from caseledger.payments.providers.base import PaymentEvent


def trust_checkout_paid(*, session: CheckoutSession, event: PaymentEvent, now: datetime) -> str:
    """A trust-request checkout was paid: the money lands in trust, credited in full."""
    from caseledger.trust.choices import DepositMethod, TrustRequestStatus
    from caseledger.trust.models import TrustDeposit, TrustRequest
    from caseledger.trust.services import deposit_record

    request: TrustRequest | None = TrustRequest.objects.get(pk=int(session.trust_request_id or 0))
    if request is not None and request.status == TrustRequestStatus.CANCELLED:
        # The client paid a request the firm has since cancelled: the money is real and is
        # the client's, so it still lands in trust for the matter (not against the request).
        request = None
    deposit = deposit_record(
        client=session.client,
        matter=session.matter,
        method=DepositMethod.CARD,
        # Text from the provider is cut to its column (the stored webhook event keeps it whole).
        payer=fit_to_field(TrustDeposit, "payer", event.payer or session.client.name),
        amount_cents=event.amount_cents,
        received_date=clock.firm_date(now),
        actor=None,
        now=now,
        reference=fit_to_field(TrustDeposit, "reference", event.charge_ref),
        trust_request=request,
        fee_cents=event.fee_cents,
        # The sandbox settles at once; a real processor's card funds clear on settlement.
        card_settled=session.provider == "sandbox",
        provider=session.provider,
        provider_ref=fit_to_field(TrustDeposit, "provider_ref", event.charge_ref) or None,
    )
    return f"trust deposit {deposit.receipt_number}"


def trust_checkout_release(
    *, payment: Payment, session: CheckoutSession, actor: User, now: datetime
) -> str:
    """A held trust-request payment accepted after review: deposit its full amount to trust."""
    from caseledger.trust.choices import DepositMethod
    from caseledger.trust.models import TrustRequest
    from caseledger.trust.services import deposit_record

    request = TrustRequest.objects.get(pk=int(session.trust_request_id or 0))
    deposit = deposit_record(
        client=session.client,
        matter=session.matter,
        method=DepositMethod.CARD,
        payer=payment.payer,
        amount_cents=payment.amount_cents,
        received_date=payment.received_date,
        actor=actor,
        now=now,
        reference=payment.reference,
        trust_request=request,
        fee_cents=payment.fee_cents,
        card_settled=session.provider == "sandbox",
        provider=session.provider,
        provider_ref=payment.reference or None,
    )
    return f"trust deposit {deposit.receipt_number}"


def connect() -> None:
    from caseledger.billing import hooks
    from caseledger.ledger.hooks import register_earned_transfer_check
    from caseledger.payments.services import register_checkout_handler
    from caseledger.trust.earned import earned_transfer_check
    from caseledger.trust.selectors import invoice_trust_activity
    from caseledger.trust.services import (
        auto_apply_lock,
        auto_apply_on_issue,
        fee_paid_from_trust,
        fee_promise_check,
        fee_promise_lock,
    )

    hooks.register_invoice_issue_lock_listener(fee_promise_lock)
    hooks.register_invoice_issue_lock_listener(auto_apply_lock)
    hooks.register_invoice_activity_listener(invoice_trust_activity)
    # The fee-promise check first: auto-apply then spends only trust not promised to USCIS.
    hooks.register_invoice_issued_listener(fee_promise_check)
    hooks.register_invoice_issued_listener(auto_apply_on_issue)
    hooks.register_fee_paid_from_trust_provider(fee_paid_from_trust)
    register_earned_transfer_check(earned_transfer_check)
    register_checkout_handler(
        CheckoutPurpose.TRUST_REQUEST, paid=trust_checkout_paid, release=trust_checkout_release
    )
