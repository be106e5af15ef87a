"""``manage.py import_statement FILE --account ID`` imports a statement file into a bank
account; ``--dry-run`` (no account needed) parses and checks it without storing anything.
Prints one JSON line per statement (format, account, currency, opening_cents, closing_cents,
entries, credits_cents, debits_cents); a refusal prints ``{"error": ...}`` and exits 1."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from caseledger.banking import services
from caseledger.banking.models import BankAccount
from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.core.selectors import firm_get

ACCOUNT_REQUIRED = "account: --account ID is required unless --dry-run"
ACCOUNT_UNKNOWN = "account: no bank account with id {value}"
FILE_UNREADABLE = "file: cannot read {path} ({reason})"


class Command(BaseCommand):
    help = "Import a bank statement file (CSV, OFX/QFX, camt.053/054, BAI2, MT940)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--account", type=int, help="bank account id")
        parser.add_argument(
            "--dry-run", action="store_true", help="parse and check only; store nothing"
        )

    def _fail(self, message: str) -> None:
        self.stdout.write(json.dumps({"error": message}))
        sys.exit(1)

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            self._fail(FILE_UNREADABLE.format(path=path, reason=exc.strerror or exc))
        account = None
        if options["account"] is not None:
            account = BankAccount.objects.filter(pk=options["account"]).first()
            if account is None:
                self._fail(ACCOUNT_UNKNOWN.format(value=options["account"]))
        elif not options["dry_run"]:
            self._fail(ACCOUNT_REQUIRED)
        now = clock.now()
        try:
            if options["dry_run"] or account is None:
                checked = services.statement_file_check(
                    content=content,
                    today=clock.firm_date(now),
                    bank_account=account,
                    currency=firm_get().currency,
                )
            else:
                checked = services.statement_import(
                    bank_account=account, file_name=path.name, content=content, actor=None, now=now
                ).checked
        except ApplicationError as exc:
            self._fail(exc.message)
        for st in checked.statements:
            label = account.number_masked if account is not None else st.account
            self.stdout.write(json.dumps(services.statement_summary(st, label)))
