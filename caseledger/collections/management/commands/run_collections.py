"""`manage.py run_collections --date YYYY-MM-DD [--dry-run]`: the daily collections run."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseledger.collections.exceptions import RUN_DATE_INVALID
from caseledger.collections.services import collections_run
from caseledger.core import clock


class Command(BaseCommand):
    help = "Run collections for a date: reminders, tasks, holds, at-risk tags (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", help="run date YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would happen; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options.get("date")
        try:
            run_date = date.fromisoformat(raw) if raw else clock.firm_today()
        except ValueError as exc:
            raise CommandError(RUN_DATE_INVALID.format(value=raw)) from exc
        result = collections_run(run_date=run_date, now=clock.now(), dry_run=options["dry_run"])
        if options["dry_run"]:
            for s in result.steps:
                channels = ",".join(s.channels)
                note = f" ({s.note})" if s.note else ""
                self.stdout.write(
                    f"{s.outcome:10} {s.invoice_number:14} {s.days_past_due:4}d "
                    f"{s.stage_name} [{channels}]{note}"
                )
            self.stdout.write(f"dry run for {run_date}: {len(result.steps)} steps, nothing changed")
            return
        stats = " ".join(f"{k}={v}" for k, v in result.stats.items())
        self.stdout.write(f"collections run {run_date}: {stats}")
