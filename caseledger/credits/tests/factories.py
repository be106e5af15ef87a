"""Test data for credits and collections: matters opened through the matters services, invoices
issued the way billing issues them (ledger entry + settlement row through the issue hook),
payments through the payments service."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from caseledger.clients.tests.factories import (
    BeneficiaryFactory,
    CompanyClientFactory,
    PersonClientFactory,
)
from caseledger.matters.tests.factories import MatterFactory, case_type

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)

__all__ = ["NOW", "client", "invoice", "matter", "pay", "trust_deposit", "trust_pay"]


def client(*, corporate: bool = True, **kwargs: Any) -> Any:
    factory = CompanyClientFactory if corporate else PersonClientFactory
    return factory(**kwargs)


def matter(*, client_obj: Any = None, partner: Any = None, **kw: Any) -> Any:
    """An H-1B matter for a company client (with a beneficiary), or an N-400 for a person."""
    owner = client_obj or client(corporate=True)
    if owner.kind == "PERSON":
        return MatterFactory(
            client=owner, case_type=case_type("n400"), responsible_partner=partner, **kw
        )
    return MatterFactory(
        client=owner,
        beneficiary=BeneficiaryFactory(client=owner),
        case_type=case_type("h1b_cap"),
        responsible_partner=partner,
        **kw,
    )


_seq = {"n": 0}


def invoice(
    *,
    matter_obj: Any,
    cents: int = 100_000,
    issued: date = date(2026, 9, 1),
    due: date | None = None,
    now: datetime = NOW,
) -> Any:
    """An issued invoice of ``cents``: the row as billing freezes it, the issue entry (Dr A/R,
    Cr fee revenue) and its settlement row."""
    from caseledger.billing.models import Invoice
    from caseledger.ledger.tests import helpers as H
    from caseledger.payments.services import settlement_for

    _seq["n"] += 1
    fields = {f.name for f in Invoice._meta.get_fields()}
    extra: dict[str, Any] = {}
    if "subtotal_cents" in fields:
        extra["subtotal_cents"] = cents
    if "responsible_partner" in fields:
        extra["responsible_partner"] = matter_obj.responsible_partner
    number = f"{issued.year}-9{_seq['n']:05d}"
    while Invoice.objects.filter(number=number).exists():
        _seq["n"] += 1
        number = f"{issued.year}-9{_seq['n']:05d}"
    with_line = "subtotal_cents" in fields  # billing's full invoice model, with lines
    inv = Invoice.objects.create(
        client=matter_obj.client,
        matter=matter_obj,
        status="DRAFT" if with_line else "ISSUED",
        number=None if with_line else number,
        currency="USD",
        issue_date=issued,
        due_date=due or issued,
        total_cents=cents,
        created_at=now,
        **extra,
    )
    if with_line:
        # One fee line for the whole amount, added while editable, then issued (frozen).
        from caseledger.billing.models import InvoiceLine  # type: ignore[attr-defined]

        InvoiceLine.objects.create(
            invoice=inv,
            position=1,
            kind="FEE",
            category="ATTORNEY_FEE",
            description="Legal services",
            quantity=1,
            unit_price_cents=cents,
            amount_cents=cents,
        )
        Invoice.objects.filter(pk=inv.pk).update(status="ISSUED", number=number, issued_at=now)
        inv.refresh_from_db()
    H.issue_invoice(invoice=inv, cents=cents, now=now, day=issued)
    settlement_for(inv)
    return inv


def pay(
    *,
    invoice_obj: Any,
    cents: int,
    day: date,
    method: str = "CHECK",
    provider: str = "manual",
    now: datetime = NOW,
    actor: Any = None,
) -> Any:
    """Record a payment of ``cents`` wholly allocated to ``invoice_obj``."""
    from caseledger.payments.services import Allocation, payment_record

    return payment_record(
        client=invoice_obj.client,
        matter=invoice_obj.matter,
        method=method,
        payer=invoice_obj.client.name,
        amount_cents=cents,
        received_date=day,
        actor=actor,
        now=now,
        allocations=[Allocation(invoice=invoice_obj, amount_cents=cents)],
        provider=provider,
        reference="1001" if method == "CHECK" else "",
    )


def trust_deposit(*, matter_obj: Any, cents: int, day: date, now: datetime = NOW) -> Any:
    from caseledger.ledger.tests import helpers as H

    return H.deposit(matter=matter_obj, cents=cents, now=now, day=day)


def trust_pay(*, invoice_obj: Any, cents: int, day: date, actor: Any, now: datetime = NOW) -> Any:
    """Pay the invoice from the matter's trust through the trust app."""
    from caseledger.trust.services import trust_apply_to_invoice

    return trust_apply_to_invoice(invoice=invoice_obj, amount_cents=cents, actor=actor, now=now)
