"""`manage.py import_firm PATH.zip`: restore a firm from its full export (``export_firm``) into
an empty, migrated database (caseledger.imports.firm_import), then run every check of
``manage.py verify`` on it.

Prints ``{"check": ..., "problem": ...}`` for each verify difference and one summary line
``{"imported": PATH, "tables": {label: rows}, "records": N, "verify": "ok"|"failed",
"checks": N, "problems": M, "seconds": S}``. A refused import (unknown format, a file that does
not hash to its manifest, another schema, a database with firm data, keys that do not match)
exits 1 with the reason and writes nothing; a restore whose verify finds differences stays
written and exits 1, like ``manage.py verify``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger.core import clock
from caseledger.imports.exceptions import ImportRefused
from caseledger.imports.firm_import import import_firm


class Command(BaseCommand):
    help = "Restore a firm from its export_firm zip into an empty, migrated database; verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the zip written by manage.py export_firm")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"path: {path} does not exist")
        try:
            result = import_firm(path, now=clock.now())
        except ImportRefused as exc:
            raise CommandError(f"import_firm refused: {exc}") from exc
        for check, line in result.verify_problems:
            self.stdout.write(json.dumps({"check": check, "problem": line}))
        problems = len(result.verify_problems)
        self.stdout.write(
            json.dumps(
                {
                    "imported": str(path),
                    "tables": result.tables,
                    "records": result.records,
                    "verify": "failed" if problems else "ok",
                    "checks": result.checks,
                    "problems": problems,
                    "seconds": round(result.seconds, 3),
                }
            )
        )
        if problems:
            self.stderr.write(f"import_firm: restored, but verify found {problems} difference(s)")
            sys.exit(1)
