"""`manage.py run_deadlines [--date YYYY-MM-DD]`: open the reminder tasks whose lead time has
come (the daily job, runnable by hand or from cron; idempotent)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseledger.core import clock
from caseledger.matters.services import deadlines_open_due_tasks

DATE_INVALID = "--date: must be YYYY-MM-DD (got {value!r})"


class Command(BaseCommand):
    help = "Open deadline reminder tasks whose lead time has come (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", help="Run as of this day (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        today = clock.firm_date(now)
        if options.get("date"):
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(DATE_INVALID.format(value=options["date"])) from exc
        opened = deadlines_open_due_tasks(today=today, now=now)
        self.stdout.write(f"run_deadlines {today.isoformat()}: {len(opened)} task(s) opened")
