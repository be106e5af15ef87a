"""A hand-computed month of billing (figures in the tests' docstrings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from caseledger.credits.tests import factories as F
from caseledger.reports.metrics import Period

PERIOD = Period(date(2026, 10, 1), date(2026, 11, 30))
# Payments are recorded after the fact (a payment cannot be dated after its recording).
LATER = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@dataclass
class Book:
    a: Any
    b: Any
    c: Any
    other_partner: Any


def book(users: dict[str, Any]) -> Book:
    """In the period Oct 1 - Nov 30, 2026:
    A $1,000 issued Oct 1: $600 paid Oct 21 (20 days), $400 paid Nov 20 (50 days).
    B $500 issued Oct 15: $100 written off (posted Nov 2, the write-off's day).
    C $500 issued Sep 1 (before the period): paid in full Oct 11 (40 days).
    D $300 issued Oct 5 on another partner's matter, unpaid (only in unfiltered figures)."""
    from caseledger.core.models import User
    from caseledger.credits.services import write_off_request

    partner = users["PARTNER"]
    other = User.objects.create(username="second-partner", role="PARTNER", last_name="Okafor")
    m = F.matter(partner=partner)
    a = F.invoice(matter_obj=m, cents=100_000, issued=date(2026, 10, 1))
    F.pay(invoice_obj=a, cents=60_000, day=date(2026, 10, 21), now=LATER)
    F.pay(invoice_obj=a, cents=40_000, day=date(2026, 11, 20), now=LATER)
    b = F.invoice(matter_obj=m, cents=50_000, issued=date(2026, 10, 15))
    write_off_request(
        invoice=b,
        reason="client in hardship",
        actor=users["PARTNER"],
        now=datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
        amount_cents=10_000,
    )
    c = F.invoice(matter_obj=m, cents=50_000, issued=date(2026, 9, 1))
    F.pay(invoice_obj=c, cents=50_000, day=date(2026, 10, 11), now=LATER)
    d = F.invoice(matter_obj=F.matter(partner=other), cents=30_000, issued=date(2026, 10, 5))
    return Book(a=a, b=b, c=c, other_partner=d)


def timed_invoice(
    *,
    matter: Any,
    cents: int,
    issued: date,
    triggered_at: datetime | None = None,
    approved_at: datetime | None = None,
    issued_at: datetime | None = None,
    service: Any = None,
    lines: list[dict[str, Any]] | None = None,
) -> Any:
    """An invoice of one fee line (or of ``lines``, InvoiceLine fields adding up to ``cents``),
    with its trigger, approval and issue times and catalogue service set while it is a draft,
    then issued the way the credits factory issues one."""
    from caseledger.billing.models import Invoice, InvoiceLine
    from caseledger.ledger.tests import helpers as H
    from caseledger.payments.services import settlement_for

    now = issued_at or datetime(issued.year, issued.month, issued.day, 12, tzinfo=UTC)
    inv = Invoice.objects.create(
        client=matter.client,
        matter=matter,
        status="DRAFT",
        currency="USD",
        issue_date=issued,
        due_date=issued,
        total_cents=cents,
        subtotal_cents=cents,
        responsible_partner=matter.responsible_partner,
        created_at=triggered_at or now,
        triggered_at=triggered_at,
        approved_at=approved_at,
    )
    for position, fields in enumerate(lines or [{}], start=1):
        InvoiceLine.objects.create(
            **{
                "invoice": inv,
                "position": position,
                "kind": "FEE",
                "category": "ATTORNEY_FEE",
                "service": service,
                "description": "Legal services",
                "quantity": 1,
                "unit_price_cents": cents,
                "amount_cents": cents,
                **fields,
            }
        )
    number = f"T-{inv.pk:06d}"
    Invoice.objects.filter(pk=inv.pk).update(status="ISSUED", number=number, issued_at=now)
    inv.refresh_from_db()
    H.issue_invoice(invoice=inv, cents=cents, now=now, day=issued)
    settlement_for(inv)
    return inv
