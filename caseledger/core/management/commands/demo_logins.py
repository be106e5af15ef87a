"""`manage.py demo_logins`: print one demo login per role."""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps as django_apps
from django.core.management.base import BaseCommand

from caseledger.core.choices import Role
from caseledger.core.demo import DEMO_PASSWORD, DEMO_USERS


def _portal_logins() -> list[tuple[str, str, str]]:
    """``PORTAL_LOGINS`` of the installed apps' demo modules (the portal's), found the way
    seed_demo finds the demo modules, so core names no app above it."""
    found: list[tuple[str, str, str]] = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("caseledger."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        found.extend(getattr(module, "PORTAL_LOGINS", []))
    return found


class Command(BaseCommand):
    help = "Print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where it is served")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"\nCaseLedger demo firm — {options['url']}")
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}\n")
        seen: set[str] = set()
        extra = _portal_logins()
        for username, first, last, role, _ in DEMO_USERS:
            if role in seen:
                continue
            seen.add(role)
            if role == Role.CLIENT and extra:
                continue  # listed below, with what each portal login shows
            self.stdout.write(f"  {role.label:<20} {username:<12} ({first} {last})")
        if extra:
            self.stdout.write("\nClient portal logins (they land on /portal/):")
            for username, name, what in extra:
                self.stdout.write(f"  {username:<12} {name} ({what})")
        self.stdout.write("")
