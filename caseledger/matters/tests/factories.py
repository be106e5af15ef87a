"""Factories for matters. ``MatterFactory`` opens matters through ``matter_create`` (first stage,
stage event, number), defaulting to an H-1B cap petition for a company with a beneficiary."""

from __future__ import annotations

import importlib
from typing import Any, cast

import factory
from django.apps import apps as django_apps

from caseledger.clients.tests.factories import FACTORY_NOW, BeneficiaryFactory
from caseledger.matters import services
from caseledger.matters.models import CaseType, Matter


def seed_case_types() -> None:
    """Put the seeded case types back (transactional tests flush the tables the migration
    filled). Idempotent."""
    migration = importlib.import_module("caseledger.matters.migrations.0003_seed_case_types")
    migration.seed(django_apps, None)


def case_type(code: str) -> CaseType:
    if not CaseType.objects.filter(code=code).exists():
        seed_case_types()
    return CaseType.objects.get(code=code)


class MatterFactory(factory.Factory):
    class Meta:
        model = Matter

    @classmethod
    def _create(cls, model_class: type[Matter], *args: Any, **kwargs: Any) -> Matter:
        code = kwargs.pop("case_type_code", "h1b_cap")
        ct = kwargs.pop("case_type", None) or case_type(code)
        if "client" not in kwargs:
            beneficiary = kwargs.get("beneficiary") or BeneficiaryFactory()
            kwargs["beneficiary"] = beneficiary
            kwargs["client"] = beneficiary.client
        kwargs.setdefault("actor", None)
        kwargs.setdefault("now", FACTORY_NOW)
        return services.matter_create(case_type=ct, **kwargs)


def make_matter(**kwargs: Any) -> Matter:
    """Typed shortcut for ``MatterFactory(**kwargs)``."""
    return cast(Matter, MatterFactory(**kwargs))
