"""`manage.py demo_logins`: print one demo login per role."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseledger.core.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where it is served")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"\nCaseLedger demo firm — {options['url']}")
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}\n")
        seen: set[str] = set()
        for username, first, last, role, _ in DEMO_USERS:
            if role in seen:
                continue
            seen.add(role)
            self.stdout.write(f"  {role.label:<20} {username:<12} ({first} {last})")
        self.stdout.write("")
