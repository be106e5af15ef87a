"""`manage.py verify_invoices [--as-of YYYY-MM-DD]`: every issued or void invoice's settlement,
payment state and balance due against the ledger's A/R postings; prints each difference and
exits 1 when there is any."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from caseledger.core import clock
from caseledger.payments.selectors import invoices_verify


class Command(BaseCommand):
    help = "Check every invoice's payment state and balance due against the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="the date the overdue rule uses (default: today)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = options["as_of"] or clock.firm_today()
        problems = invoices_verify(as_of=as_of)
        for line in problems:
            self.stdout.write(line)
        if problems:
            self.stderr.write(f"verify_invoices: {len(problems)} difference(s)")
            sys.exit(1)
        self.stdout.write(
            "verify_invoices: every invoice's payment state and balance due match the ledger"
        )
