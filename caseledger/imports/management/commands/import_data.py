"""`manage.py import_data --source SOURCE FILE [--mapping NAME] [--dry-run]`: import one export
file; prints one JSON line with rows, valid, errors (line and rule each), created, updated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.imports import services
from caseledger.imports.models import ImportMapping
from caseledger.imports.sources import SOURCES


class Command(BaseCommand):
    help = "Import a CSV export of the firm's old system (see docs/imports.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=sorted(SOURCES))
        parser.add_argument("file")
        parser.add_argument("--mapping", default="")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument(
            "--update", action="store_true", help="Apply changed rows (consent to updates)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"file: {path} does not exist")
        mapping = None
        if options["mapping"]:
            mapping = ImportMapping.objects.filter(name=options["mapping"]).first()
            if mapping is None:
                raise CommandError(f"mapping: no mapping named {options['mapping']!r}")
        try:
            result = services.import_file(
                source=options["source"],
                data=path.read_bytes(),
                filename=path.name,
                mapping=mapping,
                dry=options["dry_run"],
                actor=None,
                now=clock.now(),
                consent_updates=options["update"],
            )
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        out = {k: result[k] for k in ("rows", "valid", "errors", "created", "updated")}
        out["errors"] = [
            {"line": e["line"], "rule": e["rule"], "message": e["message"]} for e in out["errors"]
        ]
        self.stdout.write(json.dumps(out))
