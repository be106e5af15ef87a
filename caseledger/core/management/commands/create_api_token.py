"""`manage.py create_api_token USERNAME [--name NAME]`: print a new personal API token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseledger.core import clock
from caseledger.core.models import User
from caseledger.core.permissions import authorize
from caseledger.core.services import api_token_create

NO_SUCH_USER = "USERNAME: no active user {username!r}"
NOT_ALLOWED = "USERNAME: {username!r} has role {role}, which may not hold API tokens"


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it (shown only this once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="Created with manage.py")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(NO_SUCH_USER.format(username=username))
        if not authorize(user, "api.tokens"):
            raise CommandError(NOT_ALLOWED.format(username=username, role=user.role))
        _, secret = api_token_create(user=user, now=clock.now(), name=options["name"])
        self.stdout.write(secret)
