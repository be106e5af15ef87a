"""`manage.py audit_pack --account 1010 --start 2026-01-01 --end 2026-12-31 OUTPUT.zip`: the
trust audit pack of one trust bank account over a period (caseledger.imports.auditpack)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.imports.auditpack import audit_pack, audit_pack_recorded


class Command(BaseCommand):
    help = "Write a trust account's audit pack for a period (CSV + PDFs + manifest) to a zip."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output")
        parser.add_argument("--account", default="1010", help="trust bank ledger account code")
        parser.add_argument("--start", required=True, type=date.fromisoformat)
        parser.add_argument("--end", required=True, type=date.fromisoformat)

    def handle(self, *args: Any, **options: Any) -> None:
        from caseledger.ledger.models import Account

        account = Account.objects.filter(code=options["account"]).first()
        if account is None:
            raise CommandError(f"account: no ledger account {options['account']}")
        now = clock.now()
        output = Path(options["output"])
        try:
            with output.open("wb") as fh:  # streamed into the file, member by member
                audit_pack(
                    account=account, start=options["start"], end=options["end"], now=now, out=fh
                )
        except ApplicationError as exc:
            output.unlink(missing_ok=True)
            raise CommandError(str(exc)) from exc
        audit_pack_recorded(
            actor=None, account=account, start=options["start"], end=options["end"], now=now
        )
        self.stdout.write(json.dumps({"file": str(output), "bytes": output.stat().st_size}))
