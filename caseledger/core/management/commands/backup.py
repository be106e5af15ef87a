"""`manage.py backup`: an encrypted dump of the database and of the uploaded files, with their
manifest (core.backups).

Prints one JSON line: the backup file, the manifest and the checksums. Exits 1 with a message
naming the setting when it cannot (no CASELEDGER_BACKUP_KEY, pg_dump failing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger.core import clock
from caseledger.core.backups import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump custom format / SQLite backup API), AES-GCM encrypted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            default=None,
            help="Directory for the backup and its manifest (default CASELEDGER_BACKUP_DIR or "
            "var/backups)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out_dir = Path(options["output"] or settings.BACKUP_DIR)
        try:
            result = backup(out_dir=out_dir, now=clock.now())
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        m = result.manifest
        self.stdout.write(
            json.dumps(
                {
                    "backup": str(result.path),
                    "manifest": str(result.manifest_path),
                    "size": m["size"],
                    "sha256": m["sha256"],
                    "audit_events": m["audit"]["events"],
                    "media": str(result.path.with_suffix(".media")),
                    "media_files": m["media"]["files"],
                }
            )
        )
