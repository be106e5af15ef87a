"""Online checkout: opening a checkout with the provider, and the handlers that record what a paid
checkout of each purpose brings in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import transaction

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.core import audit
from caseledger.core.models import User
from caseledger.matters.models import Matter
from caseledger.payments import locks
from caseledger.payments.exceptions import PaymentError
from caseledger.payments.models import (
    CheckoutInvoice,
    CheckoutSession,
)
from caseledger.payments.services.common import (
    Allocation,
    _refuse_unless_positive,
)

CHECKOUT_LINES_MISMATCH = (
    "invoices: the checkout's invoice must be the first of its invoices and its amount their sum"
)

# Handlers for checkout purposes other than invoices (trust registers TRUST_REQUEST in ready()).
# ``fn(*, session, event, now) -> str`` records the money and returns a short outcome.
_CHECKOUT_HANDLERS: dict[str, Callable[..., str]] = {}
# ``fn(*, payment, session, actor, now) -> str`` posts a released held payment of that purpose.
_HOLD_RELEASE_HANDLERS: dict[str, Callable[..., str]] = {}


def register_checkout_handler(
    purpose: str, *, paid: Callable[..., str], release: Callable[..., str]
) -> None:
    _CHECKOUT_HANDLERS[purpose] = paid
    _HOLD_RELEASE_HANDLERS[purpose] = release


def checkout_create(
    *,
    purpose: str,
    client: Client,
    matter: Matter,
    amount_cents: int,
    now: datetime,
    invoice: Invoice | None = None,
    trust_request_id: int | None = None,
    description: str,
    customer_email: str = "",
    return_url: str,
    invoice_amounts: Sequence[tuple[Invoice, int]] = (),
    actor: User | None = None,
) -> CheckoutSession:
    """Open a checkout with the configured provider and return it (``checkout_url`` to redirect to).

    ``invoice_amounts`` (several invoices paid at once, purpose INVOICE): each invoice with the
    amount asked for it; ``invoice`` is then the first and ``amount_cents`` their sum, and the
    payment is allocated to each up to its balance when it arrives.
    The provider is called outside any transaction; the session row is written after."""
    from caseledger.payments.providers import CheckoutRequest, provider_get

    if invoice_amounts and (
        invoice is not invoice_amounts[0][0]
        or amount_cents != sum(cents for _, cents in invoice_amounts)
    ):
        raise PaymentError(CHECKOUT_LINES_MISMATCH, field="invoices")
    _refuse_unless_positive(amount_cents)
    provider = provider_get()
    session = CheckoutSession(
        provider=provider.name,
        purpose=purpose,
        client=client,
        matter=matter,
        invoice=invoice,
        trust_request_id=trust_request_id,
        amount_cents=amount_cents,
        currency=invoice.currency if invoice is not None else "USD",
        created_at=now,
    )
    created = provider.checkout_create(
        CheckoutRequest(
            token=str(session.token),
            amount_cents=amount_cents,
            currency=session.currency,
            description=description,
            customer_email=customer_email,
            return_url=return_url,
        )
    )
    session.provider_session_id = created.provider_session_id
    session.checkout_url = created.url
    with transaction.atomic():
        session.save()
        if len(invoice_amounts) > 1:
            CheckoutInvoice.objects.bulk_create(
                CheckoutInvoice(session=session, invoice=inv, amount_cents=cents)
                for inv, cents in invoice_amounts
            )
        after: dict[str, object] = {
            "purpose": purpose,
            "amount_cents": amount_cents,
            "provider": provider.name,
        }
        if len(invoice_amounts) > 1:
            after["invoices"] = {str(inv): cents for inv, cents in invoice_amounts}
        audit.record(
            actor=actor,
            action="payments.checkout_created",
            at=now,
            obj=session,
            after=after,
            actor_label="" if actor is not None else f"payer via {provider.name}",
        )
    return session


def _checkout_allocations(
    session: CheckoutSession, amount_cents: int
) -> tuple[list[Allocation], list[Invoice]]:
    """What a paid invoice checkout goes to: each of its invoices (the one, or every line of a
    several-invoice checkout, in order) up to the smaller of its balance due now and what was
    asked for it, while the money lasts. Locks the settlements (payment_record locks them again
    in the same transaction)."""
    lines = list(session.invoice_lines.select_related("invoice").order_by("id"))
    if lines:
        asked = [(line.invoice, line.amount_cents) for line in lines]
    else:
        assert session.invoice is not None
        asked = [(session.invoice, amount_cents)]
    invoices = [inv for inv, _ in asked]
    settlements = locks.lock_invoice_settlements(invoices)
    left = amount_cents
    allocations: list[Allocation] = []
    for inv, cents in asked:
        if inv.status != InvoiceStatus.ISSUED:
            continue
        take = min(left, cents, settlements[inv.pk].balance_due_cents)
        if take > 0:
            allocations.append(Allocation(inv, take))
            left -= take
    return allocations, invoices
