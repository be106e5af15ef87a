"""`manage.py purge_matter NUMBER [--dry-run]`: anonymise a closed matter's personal data after
its retention (caseledger.imports.retention); the dry run lists what would go. One JSON line."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.imports import retention


class Command(BaseCommand):
    help = "Purge (anonymise) a closed matter past retention; --dry-run lists what would go."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="the matter number")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from caseledger.matters.models import Matter

        matter = Matter.objects.filter(number=options["number"]).first()
        if matter is None:
            raise CommandError(f"matter: no matter {options['number']}")
        now = clock.now()
        try:
            if options["dry_run"]:
                plan = retention.purge_plan(matter=matter, today=clock.firm_date(now))
                out: dict[str, Any] = {
                    "matter": matter.number,
                    "dry_run": True,
                    "retention_until": plan.until.isoformat(),
                    "items": [{"what": w, "id": i, "fields": f} for w, i, f in plan.items],
                }
            else:
                record = retention.matter_purge(matter=matter, actor=None, now=now)
                out = {"matter": matter.number, "purged": record.removed}
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(out))
