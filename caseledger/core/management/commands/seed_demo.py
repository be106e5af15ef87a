"""`manage.py seed_demo`: load the demo firm. Each app with a ``demo`` module seeds its part, in
INSTALLED_APPS order (dependencies first). Rerunning changes nothing and duplicates nothing.

The demo's history goes through the real services, which notify clients by email; those emails
are kept in memory (and counted), not delivered: the demo's clients are fictional."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps as django_apps
from django.core import mail
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from caseledger.core import clock
from caseledger.core.demo_context import DemoContext


class Command(BaseCommand):
    help = "Load the demo firm (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        ctx = DemoContext(now=now, today=clock.firm_date(now))
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            self._seed(ctx)
            kept = len(mail.outbox)
        if kept:
            self.stdout.write(f"demo: {kept} client emails of the demo history kept, not sent")

    def _seed(self, ctx: DemoContext) -> None:
        # A demo module may also define ``seed_after_all(ctx)``: run once every app has seeded
        # (banking signs reconciliations of the trust journal the apps above it wrote).
        late = []
        for config in django_apps.get_app_configs():
            if not config.name.startswith("caseledger."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(ctx)
            self.stdout.write(f"demo: {config.label} ready")
            if hasattr(module, "seed_after_all"):
                late.append((config.label, module.seed_after_all))
        for label, seed_after_all in late:
            with transaction.atomic():
                seed_after_all(ctx)
            self.stdout.write(f"demo: {label} (after all) ready")
