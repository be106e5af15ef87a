"""`manage.py restore MANIFEST`: restore a backup into an empty database (core.backups).

The target is ``--database-url`` or DATABASE_URL (default: the SQLite file). It must have no
tables. The backup's files go under ``--media-root`` (default MEDIA_ROOT). Then run
``manage.py verify`` against it (and, on PostgreSQL with an application role,
``manage.py db_roles``) before switching the application to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger import config
from caseledger.core.backups import BackupError, restore


class Command(BaseCommand):
    help = "Restore an encrypted backup (its manifest) into an empty database; then run verify."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("manifest", help="The backup's .manifest.json file")
        parser.add_argument(
            "--database-url",
            default=None,
            help="The empty database to restore into (default: DATABASE_URL)",
        )
        parser.add_argument(
            "--media-root",
            default=None,
            help="Where the backup's files go (default: MEDIA_ROOT, var/media); files already "
            "there with other content are refused",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["database_url"]
        target = (
            config.database_config(url, settings.VAR_DIR)
            if url
            else dict(settings.DATABASES["default"])
        )
        try:
            media_root = Path(options["media_root"]) if options["media_root"] else None
            chain = restore(
                manifest_path=Path(options["manifest"]), target=target, media_root=media_root
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            json.dumps(
                {
                    "restored": str(target["NAME"]),
                    "audit_events": chain["events"],
                    "audit_head": chain["head"],
                    "media_files": chain["media_files"],
                    "next": "manage.py verify against this database",
                }
            )
        )
