"""`manage.py run_billing --date YYYY-MM-DD`: draft the recurring invoices due on a date."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger.core import clock

DATE_INVALID = "--date: must be a date YYYY-MM-DD (got {value!r})"


class Command(BaseCommand):
    help = "Draft the recurring invoices due on a date (a rerun creates nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", dest="run_date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        from caseledger.billing.services import billing_run

        now = clock.now()
        raw = options.get("run_date")
        if raw:
            try:
                run_date = date.fromisoformat(raw)
            except ValueError as exc:
                raise CommandError(DATE_INVALID.format(value=raw)) from exc
        else:
            run_date = clock.firm_date(now)
        result = billing_run(run_date=run_date, now=now)
        self.stdout.write(
            json.dumps(
                {
                    "run_date": run_date.isoformat(),
                    "created": result.created,
                    "already_billed": result.already_billed,
                    "skipped": len(result.skipped),
                }
            )
        )
