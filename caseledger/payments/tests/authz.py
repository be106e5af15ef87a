"""Authorization matrix for the payments pages and API (format: caseledger/core/tests/
test_authz_matrix.py). Object routes use a matter whose team is the attorney and paralegal of
``ctx.users`` and whose client has ``ctx.users["CLIENT"]`` as portal user, so scoped roles
are refused by capability, not by a missing scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from caseledger.core.tests.authz import ALL_ROLES, ANONYMOUS, PUBLIC

PAYMENTS_VIEW = frozenset({"ADMIN", "PARTNER", "BILLING", "OPERATIONS"})
PAYMENTS_WRITE = frozenset({"ADMIN", "PARTNER", "BILLING"})
NOW_DATE = date(2026, 11, 2)


def team_matter(ctx: Any) -> Any:
    from caseledger.clients.tests.factories import make_beneficiary
    from caseledger.matters.tests.factories import make_matter

    beneficiary = make_beneficiary()
    client = beneficiary.client
    client.portal_users.add(ctx.users["CLIENT"])
    return make_matter(
        client=client,
        beneficiary=beneficiary,
        attorney=ctx.users["ATTORNEY"],
        paralegal=ctx.users["PARALEGAL"],
        responsible_partner=ctx.users["PARTNER"],
    )


def issued(ctx: Any, cents: int = 50_000) -> Any:
    from caseledger.payments.tests.factories import issued_invoice

    return issued_invoice(matter=team_matter(ctx), cents=cents, now=ctx.now)


def _payment(ctx: Any, **kw: Any) -> Any:
    from caseledger.payments import services

    invoice = issued(ctx)
    return services.payment_record(
        client=invoice.client,
        method="ACH",
        payer="Acme",
        reference="A1",
        amount_cents=80_000,
        received_date=NOW_DATE,
        actor=None,
        now=ctx.now,
        **kw,
    )


def payment_kwargs(ctx: Any) -> dict[str, Any]:
    return {"pk": _payment(ctx).pk}


def failed_refund_kwargs(ctx: Any) -> dict[str, Any]:
    """A card refund the processor refused (FAILED), on a sandbox card payment."""
    from caseledger.payments import refunds
    from caseledger.payments.exceptions import ProviderError
    from caseledger.payments.providers.sandbox import SandboxProvider

    class Refusing(SandboxProvider):
        def refund_create(self, payment: Any, amount_cents: int, *, idempotency_key: str) -> str:
            raise ProviderError("provider: card expired")

    payment = _payment(ctx, provider="sandbox")
    refund = refunds.card_refund_request(
        payment=payment, amount_cents=1_000, actor=None, now=ctx.now
    )
    refunds.card_refund_process(refund_id=refund.pk, now=ctx.now, provider=Refusing())
    return {"pk": refund.pk}


def held_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.payments import services
    from caseledger.payments.providers.base import PaymentEvent

    invoice = issued(ctx)
    session = services.checkout_create(
        purpose="INVOICE",
        client=invoice.client,
        matter=invoice.matter,
        invoice=invoice,
        amount_cents=50_000,
        now=ctx.now,
        description="x",
        return_url="/",
    )
    services.checkout_event_process(
        event=PaymentEvent(
            event_id="evt_authz",
            event_type="t",
            kind="paid",
            provider_session_id=session.provider_session_id or "",
            amount_cents=40_000,
        ),
        provider="sandbox",
        now=ctx.now,
    )
    return {"pk": session.payments.get().pk}


def pay_invoice_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.payments.links import invoice_pay_token

    return {"token": invoice_pay_token(issued(ctx).pk)}


def pay_trust_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.payments.links import trust_request_pay_token
    from caseledger.trust.services import trust_request_create

    matter = team_matter(ctx)
    req = trust_request_create(
        client=matter.client,
        matter=matter,
        kind="RETAINER",
        amount_cents=100_000,
        due_date=NOW_DATE,
        actor=None,
        now=ctx.now,
        send=False,
    )
    return {"token": trust_request_pay_token(req.pk)}


def sandbox_kwargs(ctx: Any) -> dict[str, Any]:
    from caseledger.payments import services

    invoice = issued(ctx)
    session = services.checkout_create(
        purpose="INVOICE",
        client=invoice.client,
        matter=invoice.matter,
        invoice=invoice,
        amount_cents=50_000,
        now=ctx.now,
        description="x",
        return_url="/",
    )
    return {"session_id": session.provider_session_id}


def payment_json(ctx: Any) -> dict[str, Any]:
    invoice = issued(ctx)
    return {
        "client_id": invoice.client_id,
        "method": "CHECK",
        "payer": "Acme",
        "reference": "1001",
        "received_date": NOW_DATE.isoformat(),
        "amount_cents": 10_000,
    }


def reversal_kwargs(ctx: Any) -> dict[str, Any]:
    """A payment reversal above the firm's threshold ($800 > $500), asked by billing."""
    from caseledger.payments.corrections import payment_reversal_request
    from caseledger.payments.models import CorrectionSettings

    CorrectionSettings.objects.update_or_create(id=1, defaults={"reversal_approval_cents": 50_000})
    reversal = payment_reversal_request(
        payment=_payment(ctx), reason="check returned", actor=ctx.users["BILLING"], now=ctx.now
    )
    return {"pk": reversal.pk}


MATRIX: dict[str, dict[str, Any]] = {
    "payments:list": {"allow": PAYMENTS_VIEW},
    "payments:record": {"allow": PAYMENTS_WRITE},
    "payments:detail": {"allow": PAYMENTS_VIEW, "kwargs": payment_kwargs},
    "payments:reverse": {
        "allow": PAYMENTS_WRITE,
        "method": "POST",
        "kwargs": payment_kwargs,
        "data": {"reason": "check returned unpaid"},
    },
    "payments:reversal_approve": {
        "allow": frozenset({"PARTNER"}),
        "method": "POST",
        "kwargs": reversal_kwargs,
    },
    "payments:reversal_reject": {
        "allow": PAYMENTS_WRITE,
        "method": "POST",
        "kwargs": reversal_kwargs,
    },
    "payments:settings": {"allow": frozenset({"ADMIN", "PARTNER"})},
    "payments:allocate": {"allow": PAYMENTS_WRITE, "method": "POST", "kwargs": payment_kwargs},
    "payments:refund": {
        "allow": PAYMENTS_WRITE,
        "method": "POST",
        "kwargs": payment_kwargs,
        "data": {"amount": "10.00", "method": "CHECK", "reference": "R1"},
    },
    "payments:refund_retry": {
        "allow": PAYMENTS_WRITE,
        "method": "POST",
        "kwargs": failed_refund_kwargs,
    },
    "payments:release": {"allow": PAYMENTS_WRITE, "method": "POST", "kwargs": held_kwargs},
    "payments:reject": {"allow": PAYMENTS_WRITE, "method": "POST", "kwargs": held_kwargs},
    # Public by design: Stripe calls it; without a valid signature it answers 400, always.
    "payments:stripe_webhook": {
        "allow": PUBLIC,
        "method": "POST",
        "status": dict.fromkeys(ALL_ROLES | {ANONYMOUS}, 400),
    },
    # Public pages behind signed links (the signature is the authorization).
    "payments:pay_invoice": {"allow": PUBLIC, "kwargs": pay_invoice_kwargs},
    "payments:pay_trust_request": {"allow": PUBLIC, "kwargs": pay_trust_kwargs},
    "payments:sandbox_checkout": {"allow": PUBLIC, "kwargs": sandbox_kwargs},
    "GET /api/v1/payments": {"allow": PAYMENTS_VIEW},
    "POST /api/v1/payments": {"allow": PAYMENTS_WRITE, "json": payment_json},
}
