"""Test data for ledger tests: clients, matters and invoices with only the fields the ledger
needs. (When the clients/matters/billing apps ship richer factories, these delegate to them.)"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import factory

from caseledger.billing.models import Invoice
from caseledger.clients.models import Client
from caseledger.matters.models import Matter

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class ClientFactory(factory.django.DjangoModelFactory[Client]):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    kind = "PERSON"
    client_type = "PRIVATE"
    created_at = T0


class MatterFactory(factory.django.DjangoModelFactory[Matter]):
    class Meta:
        model = Matter

    number = factory.Sequence(lambda n: f"M-{n:05d}")
    title = "H-1B petition"
    client = factory.SubFactory(ClientFactory)
    opened_date = date(2026, 1, 1)


class InvoiceFactory(factory.django.DjangoModelFactory[Invoice]):
    class Meta:
        model = Invoice

    matter = factory.SubFactory(MatterFactory)
    client = factory.LazyAttribute(lambda o: o.matter.client)
    status = "ISSUED"
    number = factory.Sequence(lambda n: f"2026-{n:06d}")
    issue_date = date(2026, 2, 1)
    due_date = date(2026, 3, 3)
    total_cents = 100_000
    created_at = T0


class Disbursement:
    """Stand-in for the trust app's approved disbursement: the ledger reads only pk and
    is_approved (a plain object, not a mock)."""

    def __init__(self, pk: int, is_approved: bool) -> None:
        self.pk = pk
        self.is_approved = is_approved

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Disbursement({self.pk}, approved={self.is_approved})"


def make_client(**kwargs: Any) -> Client:
    return cast(Client, ClientFactory(**kwargs))


def make_matter(**kwargs: Any) -> Matter:
    return cast(Matter, MatterFactory(**kwargs))


def make_invoice(**kwargs: Any) -> Invoice:
    return cast(Invoice, InvoiceFactory(**kwargs))
