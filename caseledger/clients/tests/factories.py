"""Factories for clients (factory_boy). Rows are created through the services, so hashes and
encryption are exactly what production writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import factory

from caseledger.clients import services
from caseledger.clients.choices import ClientKind, ClientType, Relationship
from caseledger.clients.models import Beneficiary, Client

FACTORY_NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


class CompanyClientFactory(factory.Factory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Northwind Analytics {n} Inc.")
    kind = ClientKind.COMPANY
    client_type = ClientType.CORPORATE
    email = factory.Sequence(lambda n: f"legal{n}@northwind.example")

    @classmethod
    def _create(cls, model_class: type[Client], *args: Any, **kwargs: Any) -> Client:
        actor = kwargs.pop("actor", None)
        now = kwargs.pop("now", FACTORY_NOW)
        return services.client_create(actor=actor, now=now, **kwargs)


class PersonClientFactory(CompanyClientFactory):
    name = factory.Sequence(lambda n: f"Ana Ribeiro {n}")
    kind = ClientKind.PERSON
    client_type = ClientType.PRIVATE
    email = factory.Sequence(lambda n: f"ana{n}@mail.example")


class BeneficiaryFactory(factory.Factory):
    class Meta:
        model = Beneficiary

    client = factory.SubFactory(CompanyClientFactory)
    name = factory.Sequence(lambda n: f"Rahul Mehta {n}")
    relationship = Relationship.EMPLOYEE

    @classmethod
    def _create(cls, model_class: type[Beneficiary], *args: Any, **kwargs: Any) -> Beneficiary:
        actor = kwargs.pop("actor", None)
        now = kwargs.pop("now", FACTORY_NOW)
        return services.beneficiary_create(actor=actor, now=now, **kwargs)


def make_company(**kwargs: Any) -> Client:
    return cast(Client, CompanyClientFactory(**kwargs))


def make_person(**kwargs: Any) -> Client:
    return cast(Client, PersonClientFactory(**kwargs))


def make_beneficiary(**kwargs: Any) -> Beneficiary:
    return cast(Beneficiary, BeneficiaryFactory(**kwargs))
