"""`manage.py seed_demo`: load the demo firm. Each app with a ``demo`` module seeds its part, in
INSTALLED_APPS order (dependencies first). Rerunning changes nothing and duplicates nothing."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps as django_apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from caseledger.core.demo_context import DemoContext


class Command(BaseCommand):
    help = "Load the demo firm (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        ctx = DemoContext(now=now, today=timezone.localdate(now))
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
