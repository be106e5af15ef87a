"""Test data for ledger tests. Clients and matters come from the clients and matters apps'
factories (one way to build test data: through their services); invoices are rows with only
the fields the ledger reads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import factory

from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.clients.tests.factories import make_person
from caseledger.matters.models import Matter
from caseledger.matters.tests.factories import make_matter as _matters_make_matter

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_client(**kwargs: Any) -> Client:
    """A private (person) client, created through ``clients.services.client_create``."""
    return make_person(**kwargs)


def make_matter(**kwargs: Any) -> Matter:
    """A matter opened through ``matters.services.matter_create``. Without a client the
    matters factory's default applies (an H-1B cap petition for a company with a
    beneficiary); with a client and no case type, a consultation (any client kind, no
    beneficiary needed), so ``make_matter(client=other.client)`` works for every client."""
    if "client" in kwargs and "case_type" not in kwargs:
        kwargs.setdefault("case_type_code", "consultation")
    return _matters_make_matter(**kwargs)


class InvoiceFactory(factory.django.DjangoModelFactory[Invoice]):
    class Meta:
        model = Invoice

    matter = factory.LazyFunction(make_matter)
    client = factory.LazyAttribute(lambda o: o.matter.client)
    status = "ISSUED"
    number = factory.Sequence(lambda n: f"2026-{n:06d}")
    issue_date = date(2026, 2, 1)
    due_date = date(2026, 3, 3)
    total_cents = 100_000
    # Billing's CHECK: total = subtotal + tax.
    subtotal_cents = factory.LazyAttribute(lambda o: o.total_cents)
    created_at = T0


class Disbursement:
    """Stand-in for the trust app's approved disbursement: the ledger reads only pk and
    is_approved (a plain object, not a mock)."""

    def __init__(self, pk: int, is_approved: bool) -> None:
        self.pk = pk
        self.is_approved = is_approved

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Disbursement({self.pk}, approved={self.is_approved})"


def make_invoice(**kwargs: Any) -> Invoice:
    return cast(Invoice, InvoiceFactory(**kwargs))
