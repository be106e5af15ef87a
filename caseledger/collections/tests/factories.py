"""Factories for collections tests (clients, matters and invoices from the apps' models)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import factory

from caseledger.billing.choices import InvoiceStatus
from caseledger.billing.models import Invoice
from caseledger.clients.choices import ClientKind, ClientType
from caseledger.clients.models import Client
from caseledger.matters.models import Matter

CREATED = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    kind = ClientKind.COMPANY
    client_type = ClientType.CORPORATE
    email = factory.Sequence(lambda n: f"ap{n}@client.example")
    created_at = CREATED


class MatterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Matter

    number = factory.Sequence(lambda n: f"M-{n:05d}")
    title = "H-1B petition"
    client = factory.SubFactory(ClientFactory)
    opened_date = date(2026, 1, 5)


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An invoice row in ISSUED state (the billing app's issue service is not used here)."""

    class Meta:
        model = Invoice

    matter = factory.SubFactory(MatterFactory)
    client = factory.LazyAttribute(lambda o: o.matter.client)
    status = InvoiceStatus.ISSUED
    number = factory.Sequence(lambda n: f"2026-{n:06d}")
    currency = "USD"
    issue_date = date(2026, 9, 1)
    due_date = date(2026, 10, 1)
    total_cents = 100_000
    created_at = CREATED


def make_invoice(**kwargs: Any) -> Invoice:
    return InvoiceFactory(**kwargs)
