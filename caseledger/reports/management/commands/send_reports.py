"""``manage.py send_reports [--date YYYY-MM-DD]``: queue the scheduled KPI reports due on that
date (default: today in the firm's zone); prints one JSON line. A rerun sends nothing twice."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseledger.core import clock
from caseledger.core.exceptions import ApplicationError
from caseledger.reports.scheduled import reports_send


class Command(BaseCommand):
    help = "Queue the scheduled KPI reports due on a date (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD (default: today in the firm's zone)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = clock.firm_today()
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date: {options['date']!r} is not YYYY-MM-DD") from exc
            try:
                clock.date_check(today, field="--date")
            except ApplicationError as exc:
                raise CommandError(str(exc)) from exc
        result = reports_send(today=today, now=clock.now())
        self.stdout.write(json.dumps(result.as_dict()))
