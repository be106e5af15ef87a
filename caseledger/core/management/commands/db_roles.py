"""`manage.py db_roles`: create the application's PostgreSQL role and set its grants
(idempotent; run after every migrate). Connects as DATABASE_OWNER_URL; the role and password
come from DATABASE_URL unless given. Prints one JSON line."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger.core.roles import roles_apply


class Command(BaseCommand):
    help = (
        "Create/grant the application's database role (SELECT/INSERT only on append-only tables)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app-role", default=None, help="default: DATABASE_URL's user")
        parser.add_argument("--app-password", default=None, help="default: DATABASE_URL's")

    def handle(self, *args: Any, **options: Any) -> None:
        url = urlsplit(settings.DATABASE_APP_URL or "")
        role = options["app_role"] or unquote(url.username or "")
        password = options["app_password"] or (unquote(url.password) if url.password else None)
        if not role:
            raise CommandError("db_roles: no application role (set DATABASE_URL or --app-role)")
        try:
            report = roles_apply(app_role=role, password=password)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            json.dumps(
                {
                    "role": report.role,
                    "tables": report.tables,
                    "append_only": report.append_only,
                    "no_delete": report.no_delete,
                }
            )
        )
